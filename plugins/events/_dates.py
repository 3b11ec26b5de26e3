"""Event times as Indonesians write them, read in a zone, relative to now.

A small grammar of our own reads what chat invitations say: relative days (``besok``,
``lusa``, ``nanti malam``, ``3 hari lagi``), weekdays (``Sabtu ini``, ``Sabtu depan``,
``Sabtu pekan depan``), dates (``tgl 5 Desember``, ``05/12/2026``, ``2026-12-05``), times
(``jam 9 pagi``, ``pukul 19.30``, ``setengah 8 malam``, ``jam 9 kurang seperempat``), ranges
(``sampai``, ``s.d.``, ``-``, ``– selesai``) and zones (WIB/WITA/WIT). Whatever it reads is
shown back for confirmation before anything is saved.

Conventions (documented in docs/events.md):

- ``<hari> ini`` is that day in the current week (Senin–Minggu); ``<hari> depan`` and
  ``<hari> pekan/minggu depan`` are that day in the next week; a bare ``Sabtu`` is the next
  Saturday still ahead.
- ``19.00`` / ``09.00`` / ``9:30`` are 24-hour clock times. A bare hour (``jam 9``) with no
  pagi/siang/sore/malam is read the way events usually are (7–11 morning, 12 noon, 1–6
  afternoon/evening) and the guess is named in the confirmation (``Parsed.assumed``).
- ``jam 12 malam`` / ``24.00`` is midnight at the end of that day; ``jam 1 malam`` is 01:00
  the next day.
- Impossible or contradictory input is refused with a reason (:class:`DateError`), never
  silently read as something else: ``25.00``, ``31 Februari``, ``jam 19.00 pagi``,
  ``Jumat 5 Desember 2026`` (the 5th is a Saturday).

English phrases (``tomorrow 7pm``, ``next Saturday 9am``) are read too; dateparser is used
only for the day part of phrases this grammar does not know (``in 3 days``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["ZONE_WORDS", "DateError", "Parsed", "parse_day", "parse_when"]

ZONE_WORDS = {"wib": "Asia/Jakarta", "wita": "Asia/Makassar", "wit": "Asia/Jayapura"}

MAX_AHEAD = timedelta(days=2 * 366)
#: a date typed without a year that passed less than this long ago is refused as past
#: rather than read as next year ("20 November" typed on 23 November is a slip).
_RECENT_PAST = timedelta(days=60)


class DateError(ValueError):
    """The text is not a date and time we can accept.

    ``reason`` is one of ``unreadable``, ``no_time``, ``no_day``, ``past``, ``too_far``,
    ``end_before_start``, ``bad_time`` (``25.00``), ``bad_date`` (``31 Februari``),
    ``part_conflict`` (``19.00 pagi``), ``weekday_mismatch`` (a weekday that is not the
    date's), ``zone_conflict`` (two different zones); ``details`` fill the message.
    """

    def __init__(self, reason: str, **details: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


@dataclass(frozen=True, slots=True)
class Parsed:
    """A start (and maybe an end), aware, in ``zone``.

    ``assumed`` names the part of day (``pagi``, ``siang``, ``sore``, ``malam``) that was
    guessed for a bare hour such as ``jam 9``; None when the text said it.
    """

    start: datetime
    end: datetime | None
    zone: str
    assumed: str | None = None


# --- vocabulary ---------------------------------------------------------------------------

_WEEKDAYS = {
    **dict.fromkeys(("senin", "sen", "monday", "mon"), 0),
    **dict.fromkeys(("selasa", "sel", "tuesday", "tue", "tues"), 1),
    **dict.fromkeys(("rabu", "rab", "wednesday", "wed"), 2),
    **dict.fromkeys(("kamis", "kam", "thursday", "thu", "thurs"), 3),
    **dict.fromkeys(("jumat", "jum'at", "jumaat", "jum", "friday", "fri"), 4),
    **dict.fromkeys(("sabtu", "sab", "saturday", "sat"), 5),
    **dict.fromkeys(("minggu", "ahad", "mgg", "sunday", "sun"), 6),
}
_DAY_NAMES = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
_MONTHS = {
    **dict.fromkeys(("januari", "jan", "january"), 1),
    **dict.fromkeys(("februari", "pebruari", "feb", "peb", "february"), 2),
    **dict.fromkeys(("maret", "mar", "march"), 3),
    **dict.fromkeys(("april", "apr"), 4),
    **dict.fromkeys(("mei", "may"), 5),
    **dict.fromkeys(("juni", "jun", "june"), 6),
    **dict.fromkeys(("juli", "jul", "july"), 7),
    **dict.fromkeys(("agustus", "agu", "agt", "ags", "agus", "aug", "august"), 8),
    **dict.fromkeys(("september", "sep", "sept"), 9),
    **dict.fromkeys(("oktober", "okt", "oct", "october"), 10),
    **dict.fromkeys(("november", "nov", "nop", "nopember"), 11),
    **dict.fromkeys(("desember", "des", "dec", "december"), 12),
}
_MONTH_NAMES = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)
_RELATIVE = {
    "hari ini": 0,
    "today": 0,
    "besok": 1,
    "esok": 1,
    "bsk": 1,
    "besoknya": 1,
    "tomorrow": 1,
    "lusa": 2,
    "tulat": 3,
    "kemarin": -1,
    "kmrn": -1,
    "yesterday": -1,
}
_PARTS = {
    "pagi": "pagi",
    "siang": "siang",
    "sore": "sore",
    "petang": "petang",
    "malam": "malam",
    "mlm": "malam",
    "malem": "malam",
    "pgi": "pagi",
    "subuh": "subuh",
    "dini": "dini",
    "am": "am",
    "pm": "pm",
    "tonight": "malam",
    "morning": "pagi",
    "afternoon": "sore",
    "evening": "malam",
}
_NUMBER_WORDS = {
    "nol": 0,
    "satu": 1,
    "dua": 2,
    "tiga": 3,
    "empat": 4,
    "lima": 5,
    "enam": 6,
    "tujuh": 7,
    "delapan": 8,
    "sembilan": 9,
    "sepuluh": 10,
    "sebelas": 11,
}
#: words that carry no meaning for the reading
_FILLER = frozenset(
    {
        "pada",
        "di",
        "hari",
        "acara",
        "mulai",
        "dimulai",
        "tepat",
        "teng",
        "on",
        "at",
        "the",
        "of",
        "ya",
        "yah",
        "insyaallah",
        "kak",
        "gan",
        "yaa",
        "sih",
        "aja",
        "saja",
        "waktu",
        "setempat",
        "wkt",
        "kurleb",
        "sekitar",
        "kira-kira",
        "start",
        "starts",
        "from",
        "dari",
        "ini",  # only reached when "ini" follows nothing it modifies ("jam 9 ini")
    }
)
_RANGE_WORDS = frozenset({"sampai", "hingga", "sd", "-", "until", "to", "till", "smp", "sampe"})
_OPEN_END = frozenset({"selesai", "slesai", "habis", "done", "end", "finish"})

_TOKEN = re.compile(
    r"(?P<iso>\d{4}-\d{1,2}-\d{1,2})"
    r"|(?P<dmy>\d{1,2}[/-]\d{1,2}[/-]\d{2,4}|\d{1,2}\.\d{1,2}\.\d{4})"
    r"|(?P<dm>\d{1,2}/\d{1,2})"
    r"|(?P<clock>\d{1,2}[.:]\d{1,2})"
    r"|(?P<num>\d+)"
    r"|(?P<word>[a-z][a-z']*(?:-[a-z]+)?)"
    r"|(?P<dash>-)"
)


@dataclass(slots=True)
class _Half:
    """What one side of a range says."""

    offset: int | None = None  # days from today
    weekday: int | None = None
    week: str | None = None  # "ini" (this week) / "depan" (next week)
    day: int | None = None
    month: int | None = None
    year: int | None = None
    month_shift: int | None = None  # "bulan ini" 0 / "bulan depan" 1
    hour: int | None = None
    minute: int = 0
    bare: bool = False  # an hour with no minutes and no part of day: may be guessed
    part: str | None = None
    clock_text: str = ""
    maybe_sunday: bool = False  # "minggu depan" with no weekday: Sunday of next week
    dateparser_words: list[str] = field(default_factory=list)

    @property
    def has_day(self) -> bool:
        return (
            self.offset is not None
            or self.weekday is not None
            or self.day is not None
            or bool(self.dateparser_words)
        )


# --- normalising and tokenising ------------------------------------------------------------


def _normalize(text: str) -> str:
    text = text.lower().replace("–", "-").replace("—", "-").replace("‐", "-")
    text = re.sub(r"\bs\s*[./]\s*d\b\.?", " sampai ", text)
    text = re.sub(r"\bsampai\s+dengan\b", " sampai ", text)
    text = re.sub(r"\b(tgl|tanggal|tang|date)\b\.?", " tgl ", text)
    text = re.sub(r"\b(pukul|pkl|pk|jam|jm|jem)\b\.?", " jam ", text)
    # "minggu depan" may be next week or next Sunday; "pekan depan" is only the week
    text = re.sub(r"\bpekan\s+(depan|ini|berikutnya|mendatang)\b", r" wk\1 ", text)
    text = re.sub(r"\bminggu\s+(depan|ini|berikutnya|mendatang)\b", r" mg\1 ", text)
    text = re.sub(r"\b(wk|mg)(berikutnya|mendatang)\b", r"\1depan", text)
    text = re.sub(r"\b(depan|berikutnya|mendatang)\b", " depan ", text)
    text = re.sub(r"\bnext\s+week\b", " wkdepan ", text)
    text = re.sub(r"\bthis\s+week\b", " wkini ", text)
    text = re.sub(r"\bhari\s+ini\b", " harini ", text)
    text = re.sub(r"\bdini\s+hari\b", " dini ", text)
    text = re.sub(r"\b(\d{1,2}(?:[.:]\d{1,2})?)-?an\b", r"\1", text)  # "jam 9an", "9-an"
    text = re.sub(r"(\d)(am|pm|wib|wita|wit|pagi|siang|sore|malam)\b", r"\1 \2", text)
    text = re.sub(r"\bdua\s+belas\b", " 12 ", text)
    text = re.sub(r"(?<=[a-z])\s*:", " ", text)  # "Pukul: 09.00"
    text = re.sub(r"(?<=[a-z])\.(?=\s|$)", " ", text)  # "Des." "Sab."
    text = re.sub(r"\b(hari|tanggal|tgl)\s*/\s*(tanggal|tgl|waktu|jam)\b", " ", text)  # labels
    text = re.sub(r"[,;()!?|]", " ", text)
    return " ".join(text.split())


def _tokens(text: str) -> list[tuple[str, str]]:
    """(kind, text) pairs; anything the tokenizer can't place makes the text unreadable."""
    found: list[tuple[str, str]] = []
    for piece in text.split():
        pos = 0
        while pos < len(piece):
            m = _TOKEN.match(piece, pos)
            if m is None:
                if piece[pos] in ".'\"“”":
                    pos += 1
                    continue
                raise DateError("unreadable")
            kind = m.lastgroup
            assert kind is not None
            found.append((kind, m.group(0)))
            pos = m.end()
    return found


# --- reading one side ------------------------------------------------------------------------


def _number(kind: str, value: str) -> int | None:
    if kind == "num":
        return int(value)
    if kind == "word":
        return _NUMBER_WORDS.get(value)
    return None


_SAME_PART = {
    "pm": frozenset({"siang", "sore", "petang", "malam"}),
    "am": frozenset({"pagi", "subuh", "dini"}),
}


def _set_part(half: _Half, part: str) -> None:
    """Keep one part of day; "tonight 8pm" agrees, "pagi ... malam" does not."""
    old = half.part
    if old is None or old == part:
        half.part = part
    elif part in _SAME_PART.get(old, ()):
        half.part = part  # the Indonesian word is the more precise one
    elif old not in _SAME_PART.get(part, ()):
        raise DateError("part_conflict", time=f"{old}/{part}")


def _set_clock(half: _Half, hour: int, minute: int, text: str, *, bare: bool) -> None:
    if half.hour is not None:
        raise DateError("unreadable")
    if hour > 24 or minute > 59 or (hour == 24 and minute):
        raise DateError("bad_time", time=text)
    half.hour, half.minute, half.bare, half.clock_text = hour, minute, bare, text


def _read_clock_after(tokens: list[tuple[str, str]], i: int, half: _Half) -> int:
    """Read a time starting at ``tokens[i]`` (after ``jam``); return the next index."""
    kind, value = tokens[i]
    if value == "setengah" and i + 1 < len(tokens):
        hour = _number(*tokens[i + 1])
        if hour is None:
            raise DateError("unreadable")
        if not 1 <= hour <= 24:
            raise DateError("bad_time", time=f"setengah {hour}")
        _set_clock(half, hour - 1, 30, f"setengah {hour}", bare=True)
        return i + 2
    if kind == "clock":
        hour_text, minute_text = re.split(r"[.:]", value)
        if len(minute_text) != 2:
            raise DateError("bad_time", time=value)
        _set_clock(half, int(hour_text), int(minute_text), value, bare=False)
        i += 1
    else:
        hour = _number(kind, value)
        if hour is None:
            raise DateError("unreadable")
        _set_clock(half, hour, 0, value, bare=hour <= 12)
        i += 1
    # "lewat/lebih 15 (menit)", "lewat seperempat", "kurang seperempat", "kurang 10"
    if i < len(tokens) and tokens[i][1] in ("lewat", "lebih", "kurang"):
        sign = -1 if tokens[i][1] == "kurang" else 1
        if i + 1 >= len(tokens):
            raise DateError("unreadable")
        nxt = tokens[i + 1]
        if nxt[1] == "seperempat":
            minutes = 15
        elif nxt[1] == "setengah":
            minutes = 30
        else:
            count = _number(*nxt)
            if count is None or not 1 <= count <= 59:
                raise DateError("bad_time", time=f"{half.clock_text} {tokens[i][1]} {nxt[1]}")
            minutes = count
        i += 2
        if i < len(tokens) and tokens[i][1] in ("menit", "mnt", "min"):
            i += 1
        assert half.hour is not None
        total = half.hour * 60 + half.minute + sign * minutes
        half.hour, half.minute = divmod(total % (24 * 60), 60)
    return i


def _read_half(tokens: list[tuple[str, str]]) -> _Half:
    half = _Half()
    i = 0
    n = len(tokens)
    while i < n:
        kind, value = tokens[i]
        nxt = tokens[i + 1][1] if i + 1 < n else ""
        if value == "harini":
            _set_offset(half, 0)
        elif value in _RELATIVE:
            _set_offset(half, _RELATIVE[value])
        elif value in ("nanti", "ntar", "entar", "nnti"):
            if half.offset is None and half.day is None and half.weekday is None:
                half.offset = 0
        elif value in ("wkini", "wkdepan", "mgini", "mgdepan"):
            half.week = value[2:]
            half.maybe_sunday = value.startswith("mg")
        elif value in _PARTS:
            _set_part(half, _PARTS[value])
            if value == "tonight":
                _set_offset(half, 0)
            # "malam ini", "sore ini": today
            if nxt == "ini":
                _set_offset(half, 0)
                i += 1
        elif value in _WEEKDAYS:
            if half.weekday is not None and half.weekday != _WEEKDAYS[value]:
                raise DateError("unreadable")
            half.weekday = _WEEKDAYS[value]
            if nxt == "ini":
                half.week = "ini"
                i += 1
            elif nxt == "depan":
                half.week = "depan"
                i += 1
        elif value == "next" and nxt in _WEEKDAYS:
            half.week = "depan"
        elif value == "this" and nxt in _WEEKDAYS:
            half.week = "ini"
        elif value == "bulan" and nxt in ("ini", "depan"):
            half.month_shift = 0 if nxt == "ini" else 1
            i += 1
        elif value == "tgl":
            i = _read_day_number(tokens, i + 1, half)
            continue
        elif kind == "iso":
            year, month, day = (int(x) for x in value.split("-"))
            _set_date(half, day, month, year, value)
        elif kind == "dmy":
            day, month, year = (int(x) for x in re.split(r"[/.-]", value))
            _set_date(half, day, month, year + 2000 if year < 100 else year, value)
        elif kind == "dm":
            day, month = (int(x) for x in value.split("/"))
            _set_date(half, day, month, None, value)
        elif value == "jam":
            if i + 1 >= n:
                raise DateError("no_time")
            i = _read_clock_after(tokens, i + 1, half)
            continue
        elif value == "setengah":
            i = _read_clock_after(tokens, i, half)
            continue
        elif kind in ("num", "word") and _number(kind, value) is not None:
            number = _number(kind, value)
            assert number is not None
            if nxt in _MONTHS:
                i = _read_day_number(tokens, i, half)
                continue
            if nxt in ("hari", "minggu", "pekan") and i + 2 < n and tokens[i + 2][1] == "lagi":
                _set_offset(half, number * (1 if nxt == "hari" else 7))
                i += 3
                continue
            if kind == "num" and len(value) == 4 and half.month is not None:
                half.year = number
            elif nxt and not _known(nxt) and tokens[i + 1][0] == "word":
                # "in 3 days": a phrase for dateparser, not an hour
                half.dateparser_words.append(value)
            elif half.hour is None:
                # a bare number: an hour ("besok 9 pagi", "7 malam")
                i = _read_clock_after(tokens, i, half)
                continue
            else:
                raise DateError("unreadable")
        elif kind == "clock":
            i = _read_clock_after(tokens, i, half)
            continue
        elif value == "dalam" and i + 2 < n and tokens[i + 2][1] in ("hari", "minggu", "pekan"):
            count = _number(*tokens[i + 1])
            if count is None:
                raise DateError("unreadable")
            _set_offset(half, count * (1 if tokens[i + 2][1] == "hari" else 7))
            i += 3
            continue
        elif value in _MONTHS:
            # a month with no day before it ("Desember 5" in English order)
            half.month = _MONTHS[value]
            if i + 1 < n and tokens[i + 1][0] == "num" and len(tokens[i + 1][1]) <= 2:
                _set_date(half, int(tokens[i + 1][1]), _MONTHS[value], None, value)
                i += 1
        elif value in _FILLER or value in ("wib", "wita", "wit"):
            pass
        elif kind == "word":
            half.dateparser_words.append(value)
        else:
            raise DateError("unreadable")
        i += 1
    if half.week is not None and half.weekday is None and half.maybe_sunday:
        half.weekday = 6
    if half.month is not None and half.day is None:
        raise DateError("no_day")
    return half


def _known(word: str) -> bool:
    return (
        word in _MONTHS
        or word in _WEEKDAYS
        or word in _PARTS
        or word in _RELATIVE
        or word in _FILLER
        or word in _RANGE_WORDS
        or word in ("jam", "tgl", "lagi", "hari", "minggu", "pekan", "menit", "lewat", "lebih")
        or word in ("kurang", "setengah", "seperempat", "nanti", "bulan", "wib", "wita", "wit")
    )


def _set_offset(half: _Half, days: int) -> None:
    if half.offset is not None and half.offset != days:
        raise DateError("unreadable")
    half.offset = days


def _set_date(half: _Half, day: int, month: int, year: int | None, text: str) -> None:
    if half.day is not None:
        raise DateError("unreadable")
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        raise DateError("bad_date", date=text)
    half.day, half.month, half.year = day, month, year


def _read_day_number(tokens: list[tuple[str, str]], i: int, half: _Half) -> int:
    """``5``, ``5 Desember``, ``5 Des 2026``, ``05/12`` after ``tgl`` (or a day before a month)."""
    if i >= len(tokens):
        raise DateError("unreadable")
    kind, value = tokens[i]
    if kind in ("dmy", "dm", "iso"):
        # "tgl 05/12/2026": let the main loop read it
        sub = _read_half([tokens[i]])
        _set_date(half, sub.day or 0, sub.month or 0, sub.year, value)
        return i + 1
    if kind != "num" or len(value) > 2:
        raise DateError("unreadable")
    day = int(value)
    i += 1
    month: int | None = None
    year: int | None = None
    if i < len(tokens) and tokens[i][1] in _MONTHS:
        month = _MONTHS[tokens[i][1]]
        i += 1
        if i < len(tokens) and tokens[i][0] == "num" and len(tokens[i][1]) == 4:
            year = int(tokens[i][1])
            i += 1
    if not 1 <= day <= 31:
        raise DateError("bad_date", date=value)
    half.day, half.month, half.year = day, month, year
    return i


# --- turning a reading into datetimes -----------------------------------------------------------


def _day_of(half: _Half, today: date) -> tuple[date, bool]:
    """The calendar day ``half`` names; the flag says the day was not given at all."""
    if half.dateparser_words:
        return _dateparser_day(half, today), False
    if half.day is not None:
        month = half.month
        if month is None:
            shift = half.month_shift or 0
            month_index = today.month - 1 + shift
            year, month = today.year + month_index // 12, month_index % 12 + 1
            day = _make_date(year, month, half.day)
            if half.month_shift is None and day < today:
                month_index += 1
                year, month = today.year + month_index // 12, month_index % 12 + 1
                day = _make_date(year, month, half.day)
        elif half.year is not None:
            day = _make_date(half.year, month, half.day)
        else:
            day = _make_date(today.year, month, half.day)
            if day < today and today - day > _RECENT_PAST:
                day = _make_date(today.year + 1, month, half.day)
        if half.offset is not None and day != today + timedelta(days=half.offset):
            raise DateError("unreadable")
        if half.weekday is not None and day.weekday() != half.weekday:
            raise DateError(
                "weekday_mismatch",
                date=f"{day.day} {_MONTH_NAMES[day.month - 1]} {day.year}",
                weekday=_DAY_NAMES[day.weekday()],
                said=_DAY_NAMES[half.weekday],
            )
        return day, False
    if half.offset is not None:
        day = today + timedelta(days=half.offset)
        if half.weekday is not None and day.weekday() != half.weekday:
            raise DateError(
                "weekday_mismatch",
                date=f"{day.day} {_MONTH_NAMES[day.month - 1]} {day.year}",
                weekday=_DAY_NAMES[day.weekday()],
                said=_DAY_NAMES[half.weekday],
            )
        return day, False
    if half.weekday is not None:
        monday = today - timedelta(days=today.weekday())
        if half.week == "ini":
            # on a Sunday, "Sabtu ini" is the coming Saturday, not yesterday's
            day = monday + timedelta(days=half.weekday)
            return (day if day >= today else day + timedelta(days=7)), False
        if half.week == "depan":
            return monday + timedelta(days=7 + half.weekday), False
        ahead = (half.weekday - today.weekday()) % 7
        return today + timedelta(days=ahead), False
    if half.week is not None or half.month_shift is not None:
        raise DateError("no_day")
    return today, True


def _make_date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise DateError("bad_date", date=f"{day} {_MONTH_NAMES[month - 1]} {year}") from None


def _dateparser_day(half: _Half, today: date) -> date:
    """Phrases our grammar does not know (``in 3 days``): dateparser's reading of the day."""
    text = " ".join(half.dateparser_words)
    if half.day is not None or half.offset is not None or half.weekday is not None:
        raise DateError("unreadable")
    base = datetime.combine(today, time(12, 0))
    import dateparser  # heavy: imported for the first phrase only our grammar can't read

    found: datetime | None = dateparser.parse(
        text,
        languages=["id", "en"],
        settings={"PREFER_DATES_FROM": "future", "RELATIVE_BASE": base, "DATE_ORDER": "DMY"},
    )
    if found is None:
        raise DateError("unreadable")
    return found.date()


_PART_RULES: dict[str, tuple[tuple[range, int], ...]] = {
    # part: ((hours as typed, hours to add), ...); anything else contradicts the part
    "pagi": ((range(0, 12), 0),),
    "subuh": ((range(3, 6), 0),),
    "dini": ((range(0, 5), 0),),
    "siang": ((range(10, 13), 0), (range(1, 6), 12), (range(13, 17), 0)),
    "sore": ((range(1, 8), 12), (range(13, 20), 0)),
    "petang": ((range(5, 8), 12), (range(17, 20), 0)),
    "malam": ((range(6, 12), 12), (range(18, 24), 0), (range(12, 13), 12), (range(0, 5), 24)),
    "am": ((range(1, 12), 0), (range(12, 13), -12)),
    "pm": ((range(1, 12), 12), (range(12, 13), 0)),
}


def _hour_with_part(hour: int, part: str, clock_text: str) -> int:
    """The 0–48 hour (24+ means the next day) that ``hour`` ``part`` names."""
    if hour == 24 and part in ("malam", "pm", "dini"):
        return 24
    for hours, add in _PART_RULES[part]:
        if hour in hours:
            return hour + add
    raise DateError("part_conflict", time=f"{clock_text} {part}")


def _guess_part(hour: int) -> tuple[int, str]:
    """A bare ``jam 9`` as events usually mean it, with the part of day assumed."""
    if 7 <= hour <= 11:
        return hour, "pagi"
    if hour == 12:
        return 12, "siang"
    if 1 <= hour <= 2:
        return hour + 12, "siang"
    if 3 <= hour <= 5:
        return hour + 12, "sore"
    if hour == 6:
        return 18, "sore"
    return hour, "malam"  # 0: midnight


def _resolve_hour(half: _Half, part: str | None) -> tuple[int, str | None]:
    """(hour 0–48, assumed part or None)."""
    assert half.hour is not None
    if part is not None:
        return _hour_with_part(half.hour, part, half.clock_text), None
    if half.bare and half.hour <= 12:
        return _guess_part(half.hour)
    return half.hour, None


def _at(day: date, hour: int, minute: int, tz: ZoneInfo) -> datetime:
    return datetime.combine(day + timedelta(days=hour // 24), time(hour % 24, minute), tz)


def parse_when(text: str, default_zone: str, now: datetime) -> Parsed:
    """Read ``text`` in ``default_zone`` (or the zone it names) relative to ``now``.

    Raises :class:`DateError` when it can't be read, is impossible or contradictory, has no
    time of day, is in the past or too far ahead, or ends before it starts.
    """
    cleaned = _normalize(" ".join(text.strip().split()))
    zones = {ZONE_WORDS[z] for z in re.findall(r"\b(wita|wib|wit)\b", cleaned)}
    if len(zones) > 1:
        raise DateError("zone_conflict")
    zone = zones.pop() if zones else default_zone
    tokens = _tokens(cleaned)
    content = [t for t in tokens if t[1] not in ZONE_WORDS]
    if not content:
        raise DateError("unreadable")
    start_tokens, end_tokens = _split_range(content)
    start_half = _read_half(start_tokens)
    end_half = _read_half(end_tokens) if end_tokens else None
    if start_half.hour is None:
        if not start_half.has_day and not start_half.part:
            raise DateError("unreadable")
        raise DateError("no_time")
    if end_half is not None and end_half.hour is None:
        raise DateError("unreadable" if end_half.has_day else "no_time")

    tz = ZoneInfo(zone)
    local_now = now.astimezone(tz)
    today = local_now.date()

    # A part of day said once covers both ends: "jam 7 - 9 malam", "jam 19.00 - 21.00".
    start_part = start_half.part
    if (
        start_part is None
        and start_half.hour <= 12
        and end_half is not None
        and end_half.part is not None
        and end_half.hour is not None
    ):
        # "jam 7.30 - 9 malam": the start is evening too, if that keeps it before the end
        try:
            shared = _hour_with_part(start_half.hour, end_half.part, start_half.clock_text)
            ending = _hour_with_part(end_half.hour, end_half.part, end_half.clock_text)
            if (shared, start_half.minute) < (ending, end_half.minute):
                start_part = end_half.part
        except DateError:
            start_part = None
    start_hour, assumed = _resolve_hour(start_half, start_part)
    day, day_missing = _day_of(start_half, today)
    start = _at(day, start_hour, start_half.minute, tz)
    if day_missing and start <= now:
        # "jam 9 malam" said at 22:00 means tomorrow
        start = _at(day + timedelta(days=1), start_hour, start_half.minute, tz)
    if start_half.weekday is not None and start_half.week is None and start <= now:
        start += timedelta(days=7)  # "Senin 14:00" said on a Monday afternoon
    if start <= now:
        raise DateError("past")
    if start - now > MAX_AHEAD:
        raise DateError("too_far")

    end: datetime | None = None
    if end_half is not None:
        end = _resolve_end(end_half, start, today, tz)
    return Parsed(start, end, zone, assumed)


def _split_range(
    tokens: list[tuple[str, str]],
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The start side and the end side (empty for no end, or "s.d. selesai")."""
    for i, (_kind, value) in enumerate(tokens):
        if value in _RANGE_WORDS and i > 0:
            rest = tokens[i + 1 :]
            if not rest:
                raise DateError("unreadable")
            if all(t[1] in _OPEN_END or t[1] in _FILLER for t in rest):
                return tokens[:i], []
            return tokens[:i], rest
    return tokens, []


def _resolve_end(half: _Half, start: datetime, today: date, tz: ZoneInfo) -> datetime:
    assert half.hour is not None
    local_start = start.astimezone(tz)
    if half.has_day:
        day, _ = _day_of(half, today)
    else:
        day = local_start.date()
    if half.part is not None:
        hour, _assumed = _resolve_hour(half, half.part)
    elif half.bare and half.hour <= 12:
        # "jam 10 sampai 2": the first reading after the start
        hour = half.hour
        for candidate in (half.hour, half.hour + 12):
            if _at(day, candidate, half.minute, tz) > start:
                hour = candidate
                break
    else:
        hour = half.hour
    end = _at(day, hour, half.minute, tz)
    if end <= start:
        raise DateError("end_before_start")
    return end


def parse_day(text: str, zone: str, now: datetime) -> datetime:
    """A day (``31/12/2026``, ``31 Desember 2026``, ``Sabtu depan``) as the end of that day."""
    cleaned = _normalize(" ".join(text.strip().split()))
    tokens = [t for t in _tokens(cleaned) if t[1] not in ZONE_WORDS]
    if not tokens:
        raise DateError("unreadable")
    half = _read_half(tokens)
    if half.hour is not None and half.day is None and half.month is None:
        raise DateError("unreadable")
    if not half.has_day:
        raise DateError("unreadable")
    tz = ZoneInfo(zone)
    day, _ = _day_of(half, now.astimezone(tz).date())
    end_of_day = datetime.combine(day, time(23, 59), tz)
    if end_of_day <= now:
        raise DateError("past")
    return end_of_day
