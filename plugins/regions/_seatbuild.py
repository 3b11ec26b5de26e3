"""Build ``data/seats.csv`` (the seat of every kabupaten and towns people name as home) from
open data, so that no seat is written from memory.

    python -m plugins.regions._seatbuild            # rewrite data/seats.csv
    python -m plugins.regions._seatbuild --check    # exit 1 when data/seats.csv is stale
    python -m plugins.regions._seatbuild --places DIR
        # refresh data/upstream/idn_area_places.csv from idn-area-data's data/ folder
        # (districts.csv and villages.csv of the npm package ``idn-area-data``)

Inputs, all under ``data/`` (see ``data/upstream/README.md`` for sources and licences):

* ``upstream/ibukota_kabupaten.csv``: the seat (*ibu kota*) of each of the 416 kabupaten, the
  ``ibukota`` column of cahyadsn/wilayah (MIT). Every one becomes a ``seat`` row.
* ``upstream/idn_area_places.csv``: the kecamatan and desa/kelurahan rows of idn-area-data
  (ODbL) that show a town of ``seat_extras.csv`` exists in the kabupaten it is filed under
  (the place's name holds the town's words, or its letters: ``Kota Kualasimpang``).
* ``seat_extras.csv``: Guyub's additions, each with its evidence: ``town`` (a town people name
  as home; evidence: the Kemendagri code of a kecamatan or desa in that kabupaten whose name
  holds the town's words), ``spelling`` (another way people write a seat or a town of the same
  kabupaten; evidence: that name), ``seat`` (only where the upstream seat is empty; evidence as
  for a town).

The output keeps the kinds the gazetteer reads (``seat``, ``seat_spelling``, ``town``,
``town_spelling``) and says where each row comes from in a ``source`` column.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SeatRow", "build", "main", "render"]

DATA = Path(__file__).resolve().parent / "data"
UPSTREAM_SEATS = "cahyadsn/wilayah"
UPSTREAM_PLACES = "idn-area-data"

_NON_WORD = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class SeatRow:
    code: str
    town: str
    kind: str
    source: str


class SeatDataError(ValueError):
    """The inputs do not hold together; the message lists every problem found."""


def _words(text: str) -> str:
    return " " + _NON_WORD.sub(" ", text.casefold()).strip() + " "


def _compact(text: str) -> str:
    return _NON_WORD.sub("", text.casefold())


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)]


def build(
    kabupaten: Sequence[str],
    upstream: dict[str, str],
    places: dict[str, str],
    extras: Sequence[dict[str, str]],
) -> list[SeatRow]:
    """The rows of ``seats.csv``; raises :class:`SeatDataError` naming every inconsistency."""
    problems: list[str] = []
    wanted = set(kabupaten)
    for code in sorted(set(upstream) - wanted):
        problems.append(f"{code}: in the upstream seats but not a kabupaten of regions.csv")
    seats: dict[str, SeatRow] = {}
    for code in kabupaten:
        name = upstream.get(code, "")
        if name:
            seats[code] = SeatRow(code, name, "seat", UPSTREAM_SEATS)
    towns: dict[str, list[SeatRow]] = {}
    spellings: list[dict[str, str]] = []
    for row in extras:
        code, town, kind, evidence = row["code"], row["town"], row["kind"], row["evidence"]
        if code not in wanted:
            problems.append(f"{code} {town}: not a kabupaten")
            continue
        if kind == "spelling":
            spellings.append(row)
            continue
        if kind not in ("town", "seat"):
            problems.append(f"{code} {town}: unknown kind {kind!r}")
            continue
        place = places.get(evidence)
        if place is None or not evidence.startswith(code + "."):
            problems.append(f"{code} {town}: evidence {evidence!r} is no place of that kabupaten")
            continue
        if _words(town) not in _words(place) and _compact(town) not in _compact(place):
            problems.append(f"{code} {town}: the place {evidence} is named {place!r}")
            continue
        source = f"{UPSTREAM_PLACES} {evidence} {place}"
        if kind == "seat":
            if code in seats:
                problems.append(f"{code} {town}: the upstream seat {seats[code].town!r} stands")
                continue
            seats[code] = SeatRow(code, town, "seat", source)
        else:
            towns.setdefault(code, []).append(SeatRow(code, town, "town", source))
    for code in kabupaten:
        if code not in seats:
            problems.append(f"{code}: no seat (the upstream one is empty and no extra gives it)")
    extra_spellings: dict[str, list[SeatRow]] = {}
    for row in spellings:
        code, town, base = row["code"], row["town"], row["evidence"]
        seat = seats.get(code)
        if seat is not None and _compact(seat.town) == _compact(base):
            extra_spellings.setdefault(code, []).append(
                SeatRow(code, town, "seat_spelling", f"guyub: spelling of {seat.town}")
            )
        elif any(_compact(t.town) == _compact(base) for t in towns.get(code, [])):
            extra_spellings.setdefault(code, []).append(
                SeatRow(code, town, "town_spelling", f"guyub: spelling of {base}")
            )
        else:
            problems.append(f"{code} {town}: spells {base!r}, no seat or town of that kabupaten")
    rows: list[SeatRow] = []
    for code in kabupaten:
        if code not in seats:
            continue
        block = [seats[code], *towns.get(code, []), *extra_spellings.get(code, [])]
        seen: set[str] = set()
        for row_ in block:
            key = _compact(row_.town)
            if key in seen:
                problems.append(f"{code} {row_.town}: says nothing new (same letters as another)")
                continue
            seen.add(key)
            rows.append(row_)
    if problems:
        raise SeatDataError("\n".join(problems))
    return rows


def render(rows: Sequence[SeatRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["code", "town", "kind", "source"])
    for row in rows:
        writer.writerow([row.code, row.town, row.kind, row.source])
    return out.getvalue()


def build_from(data: Path = DATA) -> str:
    """``seats.csv`` as the files under ``data`` give it."""
    kabupaten = [r["code"] for r in _read(data / "regions.csv") if r["type"] == "kabupaten"]
    upstream = {r["code"]: r["ibukota"] for r in _read(data / "upstream" / "ibukota_kabupaten.csv")}
    places = {r["code"]: r["name"] for r in _read(data / "upstream" / "idn_area_places.csv")}
    return render(build(kabupaten, upstream, places, _read(data / "seat_extras.csv")))


def extract_places(package_data: Path, data: Path = DATA) -> str:
    """``idn_area_places.csv`` anew: the rows of idn-area-data that the extras cite."""
    wanted = {
        r["evidence"] for r in _read(data / "seat_extras.csv") if r["kind"] in ("town", "seat")
    }
    found: dict[str, str] = {}
    for name in ("districts.csv", "villages.csv"):
        for row in _read(package_data / name):
            if row["code"] in wanted:
                found[row["code"]] = row["name"]
    missing = sorted(wanted - set(found))
    if missing:
        raise SeatDataError("not in idn-area-data: " + ", ".join(missing))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["code", "name"])
    for code in sorted(found):
        writer.writerow([code, found[code]])
    return out.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m plugins.regions._seatbuild")
    parser.add_argument("--check", action="store_true", help="fail when seats.csv is stale")
    parser.add_argument("--places", type=Path, help="idn-area-data data/ folder to extract from")
    args = parser.parse_args(argv)
    try:
        if args.places is not None:
            text = extract_places(args.places)
            (DATA / "upstream" / "idn_area_places.csv").write_text(text, encoding="utf-8")
        text = build_from()
    except SeatDataError as exc:
        print(exc, file=sys.stderr)
        return 1
    target = DATA / "seats.csv"
    if args.check:
        if target.read_text(encoding="utf-8") != text:
            print(f"{target} is stale: run python -m plugins.regions._seatbuild", file=sys.stderr)
            return 1
        return 0
    target.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
