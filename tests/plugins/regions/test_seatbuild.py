"""Seats and towns come from open data (issue #16): ``data/seats.csv`` is exactly what
``python -m plugins.regions._seatbuild`` makes from the upstream tables, every kabupaten's seat
as the dataset names it leads to that kabupaten (or to a choice that holds it), and the
builder refuses a town it cannot show in the dataset."""

from __future__ import annotations

import csv
import io
from importlib import resources

import pytest

from plugins.regions._commands import matcher
from plugins.regions._gazetteer import gazetteer
from plugins.regions._seatbuild import SeatDataError, build, build_from, main

DATA = resources.files("plugins.regions").joinpath("data")


def _rows(*parts: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(DATA.joinpath(*parts).read_text("utf-8"))))


def test_seats_csv_is_what_the_builder_makes_from_the_open_data() -> None:
    assert DATA.joinpath("seats.csv").read_text("utf-8") == build_from()
    assert main(["--check"]) == 0


def test_every_kabupaten_seat_from_the_dataset_leads_to_its_kabupaten() -> None:
    book = gazetteer()
    kabupaten = sorted(code for code, r in book.regions.items() if r.kind == "kabupaten")
    upstream = {r["code"]: r["ibukota"] for r in _rows("upstream", "ibukota_kabupaten.csv")}
    assert sorted(upstream) == kabupaten
    assert len(kabupaten) == 416
    seats = {r["code"]: r for r in _rows("seats.csv") if r["kind"] == "seat"}
    assert sorted(seats) == kabupaten
    from_dataset = [c for c in kabupaten if seats[c]["source"] == "cahyadsn/wilayah"]
    # One upstream seat is empty (Kepulauan Tanimbar); its seat is shown in idn-area-data.
    assert sorted(set(kabupaten) - set(from_dataset)) == ["81.03"]
    assert seats["81.03"]["town"] == "Saumlaki"
    assert seats["81.03"]["source"].startswith("idn-area-data 81.03.01.1001")
    match = matcher()
    lost: list[str] = []
    asked = 0
    for code in kabupaten:
        town = seats[code]["town"]
        if code in from_dataset:
            assert town == upstream[code]
        found = match.match(town)
        codes = [r.code for r in found.candidates]
        if found.certain:
            if found.best is None or found.best.code != code:
                lost.append(f"{town} -> {codes} (want {code})")
        elif code in codes:
            asked += 1
        else:
            lost.append(f"{town} -> ask {codes} (want {code})")
    assert not lost, lost
    # A seat shared by two regions asks (Martapura, Sukadana, Parigi, Tanjung, Tebing Tinggi...).
    assert 0 < asked < 40


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("Saumlaki", "81.03"),
        ("Tanah Grogot", "64.01"),
        ("Dekai", "95.03"),
        ("Mejayan", "35.19"),
        ("Caruban", "35.19"),
        ("Kotapinang", "12.22"),
        ("Parapat", "12.08"),
        ("Prapat", "12.08"),
        ("Pelabuhan Ratu", "32.02"),
        ("Kualasimpang", "11.16"),
        ("Redelong", "11.17"),
    ],
)
def test_towns_and_spellings_lead_to_their_kabupaten(typed: str, code: str) -> None:
    found = matcher().match(typed)
    assert found.certain, [r.code for r in found.candidates]
    assert found.best is not None
    assert found.best.code == code


def test_every_row_says_where_it_comes_from() -> None:
    rows = _rows("seats.csv")
    for row in rows:
        source = row["source"]
        if row["kind"] == "town":
            code, _place = source.removeprefix("idn-area-data ").split(" ", 1)
            assert code.startswith(row["code"] + "."), row
        elif row["kind"].endswith("_spelling"):
            assert source.startswith("guyub: spelling of "), row
        else:
            assert source == "cahyadsn/wilayah" or source.startswith("idn-area-data "), row
    readme = DATA.joinpath("upstream", "README.md").read_text("utf-8")
    assert "cahyadsn/wilayah" in readme
    assert "MIT" in readme
    assert "idn-area-data" in readme
    assert "ODbL" in readme
    assert "Open Database License" in DATA.joinpath(
        "upstream", "LICENSE-idn-area-data-ODbL.md"
    ).read_text("utf-8")
    assert "MIT License" in DATA.joinpath("LICENSE-cahyadsn-wilayah.txt").read_text("utf-8")


KAB = ["11.08", "11.16"]
UPSTREAM = {"11.08": "Lhoksukon", "11.16": "Karang Baru"}
PLACES = {"11.08.14.2033": "Kota Panton Labu", "11.16.05.2001": "Kota Kualasimpang"}


def _extra(code: str, town: str, kind: str, evidence: str) -> dict[str, str]:
    return {"code": code, "town": town, "kind": kind, "evidence": evidence}


def test_builder_keeps_towns_the_dataset_shows() -> None:
    rows = build(
        KAB,
        UPSTREAM,
        PLACES,
        [
            _extra("11.08", "Panton Labu", "town", "11.08.14.2033"),
            _extra("11.16", "Kuala Simpang", "town", "11.16.05.2001"),
            _extra("11.16", "Karangbaru Kota", "spelling", "Karang Baru"),
        ],
    )
    assert [(r.code, r.town, r.kind) for r in rows] == [
        ("11.08", "Lhoksukon", "seat"),
        ("11.08", "Panton Labu", "town"),
        ("11.16", "Karang Baru", "seat"),
        ("11.16", "Kuala Simpang", "town"),
        ("11.16", "Karangbaru Kota", "seat_spelling"),
    ]


@pytest.mark.parametrize(
    ("extra", "upstream", "says"),
    [
        # a town filed under the wrong kabupaten
        (_extra("11.16", "Panton Labu", "town", "11.08.14.2033"), UPSTREAM, "no place of"),
        # the place cited is not named so
        (_extra("11.08", "Lhok Nibong", "town", "11.08.14.2033"), UPSTREAM, "is named"),
        # a spelling of nothing known
        (_extra("11.08", "Lhoksukun", "spelling", "Lhok Sukoen"), UPSTREAM, "spells"),
        # the same letters twice
        (_extra("11.08", "Lhok Sukon", "spelling", "Lhoksukon"), UPSTREAM, "nothing new"),
        # a seat written over the dataset's
        (_extra("11.08", "Panton Labu", "seat", "11.08.14.2033"), UPSTREAM, "stands"),
        # an empty upstream seat with nothing to fill it
        (_extra("11.08", "Panton Labu", "town", "11.08.14.2033"), {"11.08": ""}, "no seat"),
    ],
)
def test_builder_refuses_what_the_data_does_not_show(
    extra: dict[str, str], upstream: dict[str, str], says: str
) -> None:
    with pytest.raises(SeatDataError, match=says):
        build(KAB, upstream, PLACES, [extra])
