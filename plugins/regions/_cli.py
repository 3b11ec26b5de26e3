"""``guyub regions search|list|import-recipients``: the same answers from the terminal."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TextIO

from core import App, CliCommand, CliParam
from plugins.regions._commands import matcher
from plugins.regions._gazetteer import gazetteer
from plugins.regions._stats import region_rows
from plugins.regions.models import RecipientCount

__all__ = ["commands", "describe", "parse_recipients", "store_recipients"]


async def search(app: App, out: TextIO, text: str) -> int:
    """Print the regions matching TEXT, best first, and whether the match is certain."""
    book = gazetteer()
    found = matcher().match(text)
    if not found.candidates:
        out.write(f"no region matches {text!r}\n")
        return 1
    out.write(("certain" if found.certain else "ambiguous: a member would be asked") + "\n")
    counts = {r.code: r for r in await region_rows([c.code for c in found.candidates])}
    for region in found.candidates:
        row = counts[region.code]
        out.write(
            f"{region.code:<6} {book.label(region.code):<55} {region.zone_label:<4} "
            f"{row.members} members\n"
        )
    return 0


async def list_regions(app: App, out: TextIO, province: str | None = None) -> int:
    """Print provinces (or one province's kabupaten/kota) with member counts."""
    book = gazetteer()
    if province:
        if province not in book.regions or book.regions[province].parent_code is not None:
            out.write(f"unknown province code {province!r} (e.g. 11 for Aceh)\n")
            return 2
        codes = [r.code for r in book.children(province)]
    else:
        codes = [r.code for r in book.provinces]
    out.write(f"{'code':<6} {'name':<45} {'zone':<5} {'members':>8} {'registered':>10}\n")
    for row in await region_rows(codes):
        zone = book.regions[row.code].zone_label
        out.write(f"{row.code:<6} {row.name:<45} {zone:<5} {row.members:>8} {row.registered:>10}\n")
    return 0


#: Problems a recipients file can have: (line number, kind, value); kinds name the text
#: ``regions.recipients.error.<kind>`` that explains it on the dashboard.
RecipientProblem = tuple[int, str, str]

_PROBLEMS_EN = {
    "columns": "line {line}: expected code,recipients",
    "unknown_code": "line {line}: unknown region code {value!r}",
    "not_number": "line {line}: recipients must be a whole number, got {value!r}",
    "duplicate": "line {line}: region {value} appears twice",
    "empty": "the file has no code,recipients lines",
}


def parse_recipients(text: str) -> tuple[dict[str, int], list[RecipientProblem]]:
    """Read ``code,recipients`` lines (a header line is allowed; 68.066 and 68_066 read as
    68066). Returns the counts and every problem found; use the counts only without problems."""
    book = gazetteer()
    counts: dict[str, int] = {}
    problems: list[RecipientProblem] = []
    for number, row in enumerate(csv.reader(text.splitlines()), 1):
        if not row or not "".join(row).strip():
            continue
        if len(row) < 2:
            problems.append((number, "columns", ""))
            continue
        code, raw = row[0].strip(), row[1].strip().replace(".", "").replace("_", "")
        if number == 1 and not raw.isdigit() and code.lower() in ("code", "kode"):
            continue
        if code not in book.regions:
            problems.append((number, "unknown_code", code[:32]))
        elif not raw.isdigit():
            problems.append((number, "not_number", row[1][:32]))
        elif code in counts:
            problems.append((number, "duplicate", code))
        else:
            counts[code] = int(raw)
    if not counts and not problems:
        problems.append((0, "empty", ""))
    return counts, problems


def describe(problem: RecipientProblem) -> str:
    line, kind, value = problem
    return _PROBLEMS_EN[kind].format(line=line, value=value)


async def store_recipients(
    app: App, counts: dict[str, int], *, source: str, actor: int | None = None
) -> None:
    """Save the counts (replacing earlier figures of those regions) and audit the import."""
    now = app.clock.now()
    for code, recipients in counts.items():
        await RecipientCount.update_or_create(
            region_code=code, defaults={"recipients": recipients, "imported_at": now}
        )
    await app.audit.record(
        "regions.import_recipients", actor=actor, target=source[:128], rows=len(counts)
    )


async def import_recipients(app: App, out: TextIO, file: Path) -> int:
    """Import official recipient counts from a CSV of ``code,recipients`` lines (a header
    line is allowed). All or nothing: any bad line and nothing is imported."""
    try:
        # A small file, read once by a one-shot CLI command: blocking is harmless here.
        text = Path(file).read_text(encoding="utf-8-sig")  # noqa: ASYNC240
    except OSError as exc:
        out.write(f"cannot read {file}: {exc}\n")
        return 2
    counts, problems = parse_recipients(text)
    if problems:
        out.write("\n".join(describe(p) for p in problems) + "\nnothing imported\n")
        return 1
    await store_recipients(app, counts, source=str(file))
    out.write(f"imported recipient counts for {len(counts)} regions\n")
    return 0


def commands() -> list[CliCommand]:
    return [
        CliCommand(
            "regions",
            "search",
            "Find regions by what a member would type.",
            search,
            (CliParam("text", "A region name, alias or code."),),
        ),
        CliCommand(
            "regions",
            "list",
            "List provinces, or one province's kabupaten/kota, with member counts.",
            list_regions,
            (CliParam("province", "A province code, e.g. 11.", option=True),),
        ),
        CliCommand(
            "regions",
            "import-recipients",
            "Import official recipient counts (CSV: code,recipients).",
            import_recipients,
            (CliParam("file", "The CSV file.", type="path"),),
        ),
    ]
