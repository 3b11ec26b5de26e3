"""How events look: dates in a zone and a language, the .ics file and the CSV export."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from core import csv_bytes, zone_abbreviation

from .models import Event

__all__ = [
    "INDONESIAN_ZONES",
    "attendees_csv",
    "event_ics",
    "format_day",
    "format_when",
    "other_zones",
]

INDONESIAN_ZONES = ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura")

_DAYS = {
    "id": ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}
_MONTHS = {
    "id": ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}


def format_day(when: datetime, zone: str, lang: str) -> str:
    """``Selasa, 24 Nov 2026``: the day in ``zone``."""
    local = when.astimezone(ZoneInfo(zone))
    days, months = _DAYS.get(lang, _DAYS["en"]), _MONTHS.get(lang, _MONTHS["en"])
    return f"{days[local.weekday()]}, {local.day} {months[local.month - 1]} {local.year}"


def format_when(start: datetime, zone: str, lang: str, end: datetime | None = None) -> str:
    """``Selasa, 24 Nov 2026 19:00 WIB`` (with ``–21:00`` when there is an end)."""
    tz = ZoneInfo(zone)
    text = f"{format_day(start, zone, lang)} {start.astimezone(tz):%H:%M}"
    if end is not None:
        local_end = end.astimezone(tz)
        if local_end.date() == start.astimezone(tz).date():
            text += f"–{local_end:%H:%M}"
        else:
            text += f" – {format_day(end, zone, lang)} {local_end:%H:%M}"
    return f"{text} {zone_abbreviation(zone)}"


def other_zones(start: datetime, zone: str) -> str:
    """``20:00 WITA · 21:00 WIT``: the time in Indonesia's other zones (national events)."""
    return " · ".join(
        f"{start.astimezone(ZoneInfo(z)):%H:%M} {zone_abbreviation(z)}"
        for z in INDONESIAN_ZONES
        if z != zone
    )


def event_ics(event: Event, now: datetime) -> bytes:
    """An RFC 5545 calendar with the event in its own zone (VTIMEZONE included).

    No ORGANIZER: it must be a calendar address (``mailto:``) and the bot has none; the
    calendar's name says where the event comes from instead."""
    zone = ZoneInfo(event.tz)
    import icalendar  # imported when a calendar file is first asked for

    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Guyub//events//ID")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", "Guyub")
    item = icalendar.Event()
    item.add("uid", f"event-{event.id}@guyub")
    item.add("dtstamp", now)
    item.add("dtstart", event.starts_at.astimezone(zone))
    end = event.ends_at or event.starts_at + timedelta(hours=2)
    item.add("dtend", end.astimezone(zone))
    item.add("summary", event.title)
    if event.description:
        item.add("description", event.description)
    if event.place:
        item.add("location", event.place)
    item.add("status", "CANCELLED" if event.status == "cancelled" else "CONFIRMED")
    calendar.add_component(item)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())


def attendees_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """A UTF-8 CSV (with a BOM so spreadsheet programs pick the encoding); cells that a
    spreadsheet would run as formulas are neutralised (core's CSV writer)."""
    return csv_bytes(header, rows)
