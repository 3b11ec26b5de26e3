"""Security: CSV exports can't carry formulas into the PMO's spreadsheets (OWASP CSV
injection). Each export's own test is beside its plugin; this checks the writer itself."""

from __future__ import annotations

import csv
import io

import pytest

from core import CsvWriter, csv_bytes, safe_cell

ATTACKS = [
    '=HYPERLINK("https://bit.ly/prakerja-cair","Klik")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+62 812 0000",
    "-2+3+cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("cell", ATTACKS)
def test_formula_cells_are_neutralised_and_still_readable(cell: str) -> None:
    buffer = io.StringIO()
    writer = CsvWriter(buffer, fieldnames=["name", "n"])
    writer.writeheader()
    writer.writerow({"name": cell, "n": 3})
    writer.writerow([cell, -4])
    rows = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert rows[0] == ["name", "n"]
    # A spreadsheet shows a cell starting with an apostrophe as the text after it.
    assert rows[1] == ["'" + cell, "3"]
    assert rows[2] == ["'" + cell, "-4"]  # a real number stays a number


def test_plain_values_are_unchanged() -> None:
    assert safe_cell("Aceh Utara") == "Aceh Utara"
    assert safe_cell(" =1") == " =1"  # spreadsheets read this as text
    assert safe_cell(None) == ""
    assert safe_cell(-5) == -5
    assert safe_cell(0.25) == 0.25
    assert safe_cell(True) == "true"


def test_header_cells_are_neutralised_too() -> None:
    data = csv_bytes(["=cmd()", "ok"], [["@x", None]])
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [["'=cmd()", "ok"], ["'@x", ""]]


def test_mapping_rows_need_fieldnames() -> None:
    with pytest.raises(ValueError, match="fieldnames"):
        CsvWriter(io.StringIO()).writerow({"a": 1})
    with pytest.raises(ValueError, match="fieldnames"):
        CsvWriter(io.StringIO()).writeheader()
