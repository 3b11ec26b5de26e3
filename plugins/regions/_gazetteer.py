"""Indonesia's regions as shipped data: 38 provinces, 514 kabupaten/kota, aliases and zones.

The region, alias and zone CSV files in ``data/`` come from cahyadsn/wilayah (Kepmendagri
300.2.2-2138/2025, MIT, the licence is beside them); ``seats.csv`` (the seat of every kabupaten
and well-known towns) is generated from open data by ``_seatbuild``, see ``data/SEATS.md``.
They are static, so they are read
once per process and kept in memory, immutable: every lookup and every fuzzy match runs
without touching the database.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from core import RegionInfo

__all__ = ["Gazetteer", "compact", "gazetteer", "normalise", "split_kind"]

PROVINCE = "provinsi"
REGENCY = "kabupaten"
CITY = "kota"

_NON_WORD = re.compile(r"[^a-z0-9]+")

#: Words people put before (or after) a name to say what kind of region it is.
_KIND_WORDS: dict[str, str] = {
    "kabupaten": REGENCY,
    "kabupatan": REGENCY,
    "kab": REGENCY,
    "kabu": REGENCY,
    "kota": CITY,
    "kotamadya": CITY,
    "kodya": CITY,
    "kot": CITY,
    "provinsi": PROVINCE,
    "propinsi": PROVINCE,
    "prov": PROVINCE,
    "prop": PROVINCE,
    "provisi": PROVINCE,
}
#: Words that say nothing about which region is meant.
_FILLER = {"administrasi", "adm", "daerah", "wilayah", "di", "dari"}
#: Abbreviations inside names (``Kep. Seribu``).
_EXPAND = {"kep": "kepulauan", "kepl": "kepulauan", "sumatra": "sumatera"}


def normalise(text: str) -> str:
    """Lower case ASCII words separated by one space: ``Kab. Aceh  Utara!`` → ``kab aceh utara``."""
    if text.isascii():  # what nearly everyone types: nothing to decompose
        return _NON_WORD.sub(" ", text.lower()).strip()
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_WORD.sub(" ", ascii_only.casefold()).strip()


def compact(text: str) -> str:
    """The normalised text without spaces (people type ``acehutara``)."""
    return text.replace(" ", "")


def split_kind(normalised: str) -> tuple[str | None, str]:
    """Take the kind words off a normalised name: ``kab aceh utara`` → (kabupaten, ``aceh
    utara``); ``bekasi kota`` → (kota, ``bekasi``). The core keeps every other word."""
    words = [_EXPAND.get(w, w) for w in normalised.split()]
    kind: str | None = None
    while words and (words[0] in _KIND_WORDS or words[0] in _FILLER):
        kind = _KIND_WORDS.get(words[0], kind)
        words.pop(0)
    while len(words) > 1 and (words[-1] in _KIND_WORDS or words[-1] in _FILLER):
        kind = _KIND_WORDS.get(words[-1], kind)
        words.pop()
    words = [w for w in words if w not in ("administrasi", "adm")]
    return kind, " ".join(words)


@dataclass(frozen=True)
class Gazetteer:
    """Every region by code, the province each belongs to, and a name index for matching.

    ``index`` maps every searchable form of every name and alias (with and without the kind
    words, with and without spaces) to the codes it names; two codes under one form
    (``bekasi``: the kabupaten and the kota) make that form ambiguous.
    """

    regions: dict[str, RegionInfo]
    aliases: dict[str, tuple[str, ...]]
    index: dict[str, frozenset[str]] = field(repr=False)
    #: the seat (ibu kota) of each kabupaten, from ``seats.csv``
    seats: dict[str, str] = field(default_factory=dict)

    @property
    def provinces(self) -> list[RegionInfo]:
        return [r for r in self.regions.values() if r.kind == PROVINCE]

    def children(self, province_code: str) -> list[RegionInfo]:
        return [r for r in self.regions.values() if r.parent_code == province_code]

    def get(self, code: str) -> RegionInfo | None:
        return self.regions.get(code)

    def province_of(self, code: str) -> RegionInfo | None:
        region = self.regions.get(code)
        if region is None:
            return None
        return self.regions.get(region.parent_code) if region.parent_code else region

    def label(self, code: str) -> str:
        """``Kabupaten Aceh Utara (Aceh)``: the name with its province, for pick lists."""
        region = self.regions[code]
        if region.parent_code is None:
            return f"Provinsi {region.name}"
        parent = self.regions[region.parent_code]
        return f"{region.name} ({parent.name})"


def _read(name: str) -> list[dict[str, str]]:
    text = resources.files(__package__).joinpath("data").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def _forms(name: str) -> Iterable[str]:
    norm = normalise(name)
    _, core = split_kind(norm)
    for form in (norm, core):
        if form:
            yield form
            yield compact(form)


def build(
    rows: list[dict[str, str]], alias_rows: list[dict[str, str]], zone_rows: list[dict[str, str]]
) -> Gazetteer:
    """A gazetteer from the three CSV tables (regions, aliases, province time zones)."""
    zones = {r["province_code"]: r["tz"] for r in zone_rows}
    regions: dict[str, RegionInfo] = {}
    for row in rows:
        code = row["code"].strip()
        parent = row["parent_code"].strip() or None
        province = parent or code
        regions[code] = RegionInfo(
            code=code,
            name=row["name"].strip(),
            kind=row["type"].strip(),
            parent_code=parent,
            timezone=zones[province],
        )
    aliases: dict[str, list[str]] = {}
    for row in alias_rows:
        code = row["code"].strip()
        if code in regions:
            aliases.setdefault(code, []).append(row["alias"].strip())
    index: dict[str, set[str]] = {}
    for code, region in regions.items():
        for name in (region.name, *aliases.get(code, ())):
            for form in _forms(name):
                index.setdefault(form, set()).add(code)
    return Gazetteer(
        regions=regions,
        aliases={c: tuple(a) for c, a in aliases.items()},
        index={k: frozenset(v) for k, v in index.items() if k},
    )


@cache
def gazetteer() -> Gazetteer:
    """The shipped data, read once per process (it never changes while the bot runs)."""
    # Seats of every kabupaten and towns people name as home ("Sigli", "Takengon"): a town
    # shared by two regions ("Martapura", "Tebing Tinggi") makes its name ask.
    seat_rows = _read("seats.csv")
    towns = [{"code": r["code"], "alias": r["town"]} for r in seat_rows]
    aliases = _read("regions_aliases.csv") + _read("extra_aliases.csv") + towns
    book = build(_read("regions.csv"), aliases, _read("province_timezones.csv"))
    book.seats.update((r["code"], r["town"]) for r in seat_rows if r["kind"] == "seat")
    return book
