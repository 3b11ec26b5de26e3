"""Numbers, durations and moments written the same way in every reply.

``format_number(68066, "id")`` → ``68.066``; ``format_duration(timedelta(days=1), t, "id")``
→ ``1 hari``; ``format_moment(when, "Asia/Jakarta", t, "id")`` → ``Senin, 23 Nov 2026 10:00
WIB``. Unit and day/month names come from the translator (``core.unit.*``, ``core.day.*``,
``core.month.*``) so every language writes them its own way.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from core._i18n import Translator, normalize_language
from core._regions import zone_abbreviation

__all__ = ["format_duration", "format_moment", "format_number", "format_percent"]

_UNITS = (("day", 86_400), ("hour", 3_600), ("minute", 60))


def format_number(value: float, lang: str, digits: int | None = None) -> str:
    """Thousands grouped as the language does: ``68.066`` (id), ``68,066`` (en); with
    ``digits``, always that many decimals (``12,50``)."""
    if digits is not None:
        text = f"{value:,.{digits}f}"
    else:
        text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    if normalize_language(lang) == "id":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def format_percent(share: float | None, lang: str, digits: int = 2) -> str:
    """A share as a percentage with ``digits`` decimals: ``0.000588`` → ``0,06%`` (id),
    ``0.06%`` (en); None (not known) → ``–``. Coverage is written this way in chat and on
    the dashboard, so both show the same figure."""
    if share is None:
        return "–"
    return format_number(100 * float(share), lang, digits=digits) + "%"


def format_duration(delta: timedelta, translator: Translator, lang: str) -> str:
    """``1 hari``, ``2 jam 15 menit``, ``1 day 2 hours``: the largest units, at most two,
    never ``1440 menit``."""
    seconds = max(0, int(delta.total_seconds()))
    parts: list[str] = []
    for unit, size in _UNITS:
        count, seconds = divmod(seconds, size)
        if count:
            key = f"core.unit.{unit}" if count == 1 else f"core.unit.{unit}s"
            parts.append(str(translator(key, lang, n=count)))
        if len(parts) == 2:
            break
    if not parts:
        return str(translator("core.unit.minutes", lang, n=0))
    return " ".join(parts)


def format_moment(when: datetime, zone: str, translator: Translator, lang: str) -> str:
    """``Senin, 23 Nov 2026 10:00 WIB``: a moment in ``zone``, as every screen shows it."""
    local = when.astimezone(ZoneInfo(zone))
    day = translator(f"core.day.{local.weekday()}", lang)
    month = translator(f"core.month.{local.month}", lang)
    return f"{day}, {local.day} {month} {local.year} {local:%H:%M} {zone_abbreviation(zone)}"
