"""The shipped region data and its copy in the database."""

from __future__ import annotations

from core import App
from plugins.regions._gazetteer import gazetteer
from plugins.regions._sync import sync_regions
from plugins.regions.models import Region


def test_counts_match_kemendagri() -> None:
    book = gazetteer()
    provinces = [r for r in book.regions.values() if r.kind == "provinsi"]
    below = [r for r in book.regions.values() if r.kind in ("kabupaten", "kota")]
    assert len(provinces) == 38
    assert len(below) == 514
    assert len(book.children("11")) == 23
    assert book.regions["11.08"].name == "Kabupaten Aceh Utara"
    assert book.regions["11.08"].parent_code == "11"


def test_every_province_has_a_zone() -> None:
    book = gazetteer()
    labels = {p.code: p.zone_label for p in book.provinces}
    assert set(labels.values()) == {"WIB", "WITA", "WIT"}
    assert labels["11"] == "WIB"
    assert labels["51"] == "WITA"
    assert labels["91"] == "WIT"
    # kabupaten/kota inherit their province's zone
    assert book.regions["73.71"].timezone == "Asia/Makassar"


def test_licence_ships_with_the_data() -> None:
    from importlib import resources

    licence = resources.files("plugins.regions").joinpath("data", "LICENSE-cahyadsn-wilayah.txt")
    assert "MIT License" in licence.read_text(encoding="utf-8")


async def test_database_holds_every_region_and_sync_is_idempotent(app: App) -> None:
    assert await Region.all().count() == 552
    assert await sync_regions() == (0, 0)
    # A later data update renames in place; the code members point at stays.
    await Region.filter(code="11.08").update(name="Kab. Aceh Utara (lama)")
    assert await sync_regions() == (0, 1)
    assert (await Region.get(code="11.08")).name == "Kabupaten Aceh Utara"


async def test_core_region_service_answers(app: App) -> None:
    info = await app.regions.get("11.08")
    assert info is not None
    assert info.name == "Kabupaten Aceh Utara"
    assert info.zone_label == "WIB"
    assert await app.regions.timezone("94.01") == "Asia/Jayapura"
    match = await app.regions.match("Kab. Aceh Utara")
    assert match.certain
    assert match.best is not None
    assert match.best.code == "11.08"
    assert await app.regions.get("99.99") is None


def test_every_kabupaten_has_its_seat_and_the_source_is_recorded() -> None:
    import csv
    import io
    from importlib import resources

    data = resources.files("plugins.regions").joinpath("data")
    rows = list(csv.DictReader(io.StringIO(data.joinpath("seats.csv").read_text("utf-8"))))
    book = gazetteer()
    seats = [r["code"] for r in rows if r["kind"] == "seat"]
    kabupaten = sorted(c for c, r in book.regions.items() if r.kind == "kabupaten")
    assert sorted(seats) == kabupaten  # exactly one seat for each of the 416 kabupaten
    assert {r["code"] for r in rows} <= set(book.regions)
    assert {r["kind"] for r in rows} <= {"seat", "seat_spelling", "town", "town_spelling"}
    source = data.joinpath("SEATS.md").read_text("utf-8")
    assert "_seatbuild" in source
    assert "upstream/README.md" in source


def test_jakarta_has_its_2024_name_and_keeps_the_old_one_as_alias() -> None:
    book = gazetteer()
    assert book.regions["31"].name == "Daerah Khusus Jakarta"
    assert "Daerah Khusus Ibukota Jakarta" in book.aliases["31"]
