"""Dates as people type them, in Indonesian or English, read in a given zone.

``23/11/2026 10:00``, ``besok jam 19.00``, ``Rabu 14:00``, ``2026-11-23 10:00 WIB``,
``lusa 08.00 - 10.00``: dateparser does the heavy lifting; this module first rewrites the
Indonesian habits it does not know (``19.00`` for 19:00, ``jam``/``pukul``, ``lusa``,
``7 malam``) and takes out an explicit WIB/WITA/WIT, which wins over the default zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import dateparser

__all__ = ["ZONE_WORDS", "DateError", "Parsed", "parse_when"]

ZONE_WORDS = {"wib": "Asia/Jakarta", "wita": "Asia/Makassar", "wit": "Asia/Jayapura"}

_ZONE = re.compile(r"\b(wita|wib|wit)\b", re.IGNORECASE)
_FILLER = re.compile(r"\b(jam|pukul|pkl|pk)\b\.?", re.IGNORECASE)
_DOT_TIME = re.compile(r"(?<![\d/.\-])(\d{1,2})\.(\d{2})(?![\d.])")
_PART_OF_DAY = re.compile(r"\b(\d{1,2})(?::(\d{2}))?\s*(pagi|siang|sore|malam)\b", re.IGNORECASE)
_RANGE = re.compile(
    r"^(?P<start>.+?)\s*(?:-|–|—|s/d|sd|sampai|hingga|until|to)\s*"
    r"(?P<end>\d{1,2}[:.]\d{2})\s*$",
    re.IGNORECASE,
)
_HAS_TIME = re.compile(r"\d{1,2}:\d{2}|\b\d{1,2}\s*(am|pm)\b", re.IGNORECASE)
_WEEKDAYS = re.compile(
    r"\b(senin|selasa|rabu|kamis|jumat|jum'at|sabtu|minggu|ahad|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b",
    re.IGNORECASE,
)
_SETTINGS_BASE = {
    "PREFER_DATES_FROM": "future",
    "DATE_ORDER": "DMY",
    "RETURN_AS_TIMEZONE_AWARE": False,
    "PREFER_DAY_OF_MONTH": "first",
}


class DateError(ValueError):
    """The text is not a date and time we can read; ``reason`` is ``unreadable``,
    ``no_time``, ``past`` or ``end_before_start``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Parsed:
    """A start (and maybe an end), aware, in ``zone``."""

    start: datetime
    end: datetime | None
    zone: str


def _part_of_day(match: re.Match[str]) -> str:
    hour, minute, part = int(match.group(1)), match.group(2) or "00", match.group(3).lower()
    afternoon = (
        (part == "malam" and 6 <= hour < 12)
        or (part == "sore" and hour < 12)
        or (part == "siang" and hour < 6)
    )
    if afternoon:
        hour += 12
    elif part == "malam" and hour == 12:
        hour = 0
    return f"{hour:02d}:{minute}"


def _normalize(text: str, local_now: datetime) -> str:
    text = _FILLER.sub(" ", text)
    text = _DOT_TIME.sub(r"\1:\2", text)
    text = _PART_OF_DAY.sub(_part_of_day, text)
    # dateparser knows "besok" but not "lusa" (the day after tomorrow) or "hari ini".
    lowered = text.lower()
    for word, days in (("lusa", 2), ("hari ini", 0), ("nanti malam", 0)):
        if word in lowered:
            day = (local_now + timedelta(days=days)).strftime("%d/%m/%Y")
            text = re.sub(re.escape(word), day, text, flags=re.IGNORECASE)
            lowered = text.lower()
    return " ".join(text.split())


def _parse_one(text: str, zone: str, now: datetime) -> datetime:
    tz = ZoneInfo(zone)
    local_now = now.astimezone(tz).replace(tzinfo=None)
    cleaned = _normalize(text, local_now)
    if not _HAS_TIME.search(cleaned):
        raise DateError("no_time")
    settings = {**_SETTINGS_BASE, "RELATIVE_BASE": local_now}
    found: datetime | None = dateparser.parse(cleaned, languages=["id", "en"], settings=settings)
    if found is None:
        raise DateError("unreadable")
    if found.tzinfo is not None:
        return found.astimezone(tz)
    result = found.replace(tzinfo=tz)
    if result <= now and _WEEKDAYS.search(cleaned):
        # "Rabu 14:00" said on a Wednesday afternoon means next Wednesday.
        result += timedelta(days=7)
    return result


def parse_when(text: str, default_zone: str, now: datetime) -> Parsed:
    """Read ``text`` in ``default_zone`` (or the zone it names) relative to ``now``.

    Raises :class:`DateError` if it can't be read, has no time of day, or is in the past.
    """
    text = " ".join(text.strip().split())
    zone = default_zone
    found_zone = _ZONE.search(text)
    if found_zone:
        zone = ZONE_WORDS[found_zone.group(1).lower()]
        text = _ZONE.sub(" ", text).strip()
    if not text:
        raise DateError("unreadable")
    end_text: str | None = None
    ranged = _RANGE.match(text)
    if ranged and _HAS_TIME.search(_DOT_TIME.sub(r"\1:\2", ranged.group("start"))):
        text, end_text = ranged.group("start"), ranged.group("end")
    start = _parse_one(text, zone, now)
    if start <= now:
        raise DateError("past")
    end: datetime | None = None
    if end_text is not None:
        hour, minute = (int(x) for x in re.split(r"[:.]", end_text))
        if hour > 23 or minute > 59:
            raise DateError("unreadable")
        end = start.replace(hour=hour, minute=minute)
        if end <= start:
            raise DateError("end_before_start")
    return Parsed(start, end, zone)


def parse_day(text: str, zone: str, now: datetime) -> datetime:
    """A day (``31/12/2026``, ``31 Desember 2026``) as the end of that day in ``zone``."""
    tz = ZoneInfo(zone)
    local_now = now.astimezone(tz).replace(tzinfo=None)
    cleaned = _normalize(_ZONE.sub(" ", text), local_now)
    settings = {**_SETTINGS_BASE, "RELATIVE_BASE": local_now}
    found: datetime | None = dateparser.parse(cleaned, languages=["id", "en"], settings=settings)
    if found is None:
        raise DateError("unreadable")
    day = found.replace(hour=23, minute=59, second=0, microsecond=0, tzinfo=tz)
    if day <= now:
        raise DateError("past")
    return day
