"""The region service every plugin can use: names, hierarchy and time zones of regions.

The core knows no region data; it asks ``guyub_resolve_region`` (the regions plugin answers)
and falls back to the code itself and Western Indonesian Time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from tortoise.expressions import Q

from core._events import ChatRef

__all__ = [
    "DEFAULT_ZONE",
    "RegionInfo",
    "RegionMatch",
    "Regions",
    "in_areas",
    "zone_abbreviation",
]

DEFAULT_ZONE = "Asia/Jakarta"

_ABBREVIATIONS = {
    "Asia/Jakarta": "WIB",
    "Asia/Pontianak": "WIB",
    "Asia/Makassar": "WITA",
    "Asia/Jayapura": "WIT",
}


def in_areas(codes: Iterable[str] | None, prefix: str = "", *, field: str = "region_code") -> Q:
    """A filter for the rows inside any of the areas ``codes``: members, any model with a
    ``region_code`` column (a plugin's own table), rows joined to one through ``prefix``
    (``"member__"``), or another column named by ``field``. A code takes in every region
    below it (``11`` covers ``11.08``): what a province captain's ``/statistik`` asks for.
    None or an empty code is the whole country, rows without a region included; no code at
    all is nothing."""
    if codes is None:
        return Q()
    field = f"{prefix}{field}"
    query: Q | None = None
    for code in codes:
        if code == "":
            return Q()
        part = Q(**{field: code}) | Q(**{f"{field}__startswith": code + "."})
        query = part if query is None else query | part
    if query is None:
        nothing: dict[str, Any] = {f"{field}__in": []}
        return Q(**nothing)
    return query


def zone_abbreviation(zone: str) -> str:
    """WIB / WITA / WIT for Indonesia's zones, the IANA name otherwise."""
    return _ABBREVIATIONS.get(zone, zone)


@dataclass(frozen=True, slots=True)
class RegionInfo:
    """A province (``11``) or kabupaten/kota (``11.08``)."""

    code: str
    name: str
    kind: str  # "provinsi", "kabupaten", "kota"
    parent_code: str | None
    timezone: str = DEFAULT_ZONE

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def zone_label(self) -> str:
        return zone_abbreviation(self.timezone)


@dataclass(frozen=True, slots=True)
class RegionMatch:
    """Regions matching typed text, best first. ``certain`` means the first one may be
    used without asking; otherwise the member picks from ``candidates`` (maybe empty)."""

    candidates: tuple[RegionInfo, ...]
    certain: bool = False

    @property
    def best(self) -> RegionInfo | None:
        return self.candidates[0] if self.candidates else None


class _Source(Protocol):
    async def resolve_region(self, code: str) -> RegionInfo | None: ...

    async def resolve_region_match(self, text: str) -> RegionMatch | None: ...

    async def resolve_region_chats(self, code: str) -> list[ChatRef]: ...

    async def resolve_region_children(self, code: str) -> list[RegionInfo]: ...


class Regions:
    """Regions through the plugins (the regions plugin answers); region data is static, so
    lookups by code are cached."""

    def __init__(self, source: _Source) -> None:
        self._source = source
        self._cache: dict[str, RegionInfo | None] = {}
        self._children: dict[str, tuple[RegionInfo, ...]] = {}

    async def get(self, code: str | None) -> RegionInfo | None:
        if not code:
            return None
        if code not in self._cache:
            self._cache[code] = await self._source.resolve_region(code)
        return self._cache[code]

    async def match(self, text: str) -> RegionMatch:
        """What a member typed, matched to regions (empty when no plugin knows regions)."""
        return await self._source.resolve_region_match(text) or RegionMatch(())

    async def chats(self, code: str) -> list[ChatRef]:
        """The group chats bound to exactly this region."""
        return await self._source.resolve_region_chats(code)

    async def children(self, code: str) -> list[RegionInfo]:
        """The regions directly below ``code``: a province's kabupaten/kota, in code order
        (empty for a kabupaten/kota or when no plugin knows regions)."""
        key = f"children:{code}"
        if key not in self._children:
            self._children[key] = tuple(await self._source.resolve_region_children(code))
        return list(self._children[key])

    async def provinces(self) -> list[RegionInfo]:
        """Every province, in code order."""
        return await self.children("")

    async def name(self, code: str | None) -> str:
        info = await self.get(code)
        return info.name if info else (code or "-")

    async def timezone(self, code: str | None) -> str:
        info = await self.get(code)
        return info.timezone if info else DEFAULT_ZONE

    async def local_time(self, when: datetime, code: str | None) -> datetime:
        return when.astimezone(ZoneInfo(await self.timezone(code)))
