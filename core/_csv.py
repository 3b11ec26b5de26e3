"""CSV files that are safe to open in a spreadsheet.

Exports are opened by PMO staff in Excel or Google Sheets, where a cell starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return is read as a formula (``=HYPERLINK(...)``,
``@SUM(...)``): a member's display name or a poll option could then run in the reader's
sheet. Every export goes through :class:`CsvWriter`, which neutralises such text cells the
way OWASP recommends (a leading apostrophe, which spreadsheets show as plain text) and leaves
numbers alone.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TextIO

__all__ = ["CsvWriter", "csv_bytes", "safe_cell"]

#: What makes a spreadsheet read a cell as a formula (OWASP "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` as it may go into a CSV cell: None becomes empty, numbers stay numbers,
    text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


class CsvWriter:
    """``csv.writer`` over ``out`` whose every cell passes :func:`safe_cell`.

    Rows are sequences, or mappings when ``fieldnames`` is given (missing keys are empty).
    Header cells are neutralised too: poll option labels become column names."""

    def __init__(self, out: TextIO, fieldnames: Sequence[str] | None = None) -> None:
        # CRLF line ends (RFC 4180): the writer then quotes every cell holding a CR or LF,
        # so a stray CR in a name can't split a row.
        self._writer = csv.writer(out, lineterminator="\r\n")
        self.fieldnames = list(fieldnames) if fieldnames is not None else None

    def writeheader(self) -> None:
        if self.fieldnames is None:
            raise ValueError("writeheader needs fieldnames")
        self.writerow(self.fieldnames)

    def writerow(self, row: Sequence[Any] | Mapping[str, Any]) -> None:
        if isinstance(row, Mapping):
            if self.fieldnames is None:
                raise ValueError("a mapping row needs fieldnames")
            cells: Iterable[Any] = (row.get(name) for name in self.fieldnames)
        else:
            cells = row
        self._writer.writerow([safe_cell(cell) for cell in cells])

    def writerows(self, rows: Iterable[Sequence[Any] | Mapping[str, Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A whole CSV file as UTF-8 with a BOM (so spreadsheet programs pick the encoding)."""
    buffer = io.StringIO()
    writer = CsvWriter(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
