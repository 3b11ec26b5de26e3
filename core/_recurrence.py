"""When a recurring job falls due: ``every`` an interval, or on a ``cron`` schedule, in a
time zone.

Occurrences are a pure function of the rule and the zone, so every worker computes the same
times and the same idempotency keys: an occurrence is one row in ``core_job`` however many
workers schedule it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["Cron", "Recurrence"]

#: ``every`` intervals count from this local moment (a Monday, midnight): ``every=7 days``
#: runs on Mondays at 00:00, ``every=1 hour`` on the hour.
EPOCH = datetime(2024, 1, 1)

_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day", 1, 31), ("month", 1, 12), ("weekday", 0, 7))
_NAMES = {
    "month": ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
    "weekday": ["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
}


def _value(text: str, field: str, low: int) -> int:
    names = _NAMES.get(field)
    if names and text.lower()[:3] in names:
        return names.index(text.lower()[:3]) + (1 if field == "month" else 0)
    return int(text)


def _parse_field(text: str, field: str, low: int, high: int) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        body, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(f"cron {field}: step must be positive")
        if body == "*":
            start, end = low, high
        elif "-" in body:
            a, b = body.split("-", 1)
            start, end = _value(a, field, low), _value(b, field, low)
            if field == "weekday" and end == 0 < start:
                end = 7  # "sat-sun": Sunday closes the week
        else:
            start = _value(body, field, low)
            end = high if step_text else start
        if not (low <= start <= high and low <= end <= high and start <= end):
            raise ValueError(f"cron {field}: {part!r} is outside {low}-{high}")
        values.update(range(start, end + 1, step))
    if field == "weekday" and 7 in values:  # 0 and 7 are both Sunday
        values.discard(7)
        values.add(0)
    return frozenset(values)


@dataclass(frozen=True, slots=True)
class Cron:
    """A five-field cron expression: ``minute hour day-of-month month day-of-week``, with
    ``*``, lists, ranges, steps and names (``0 9 * * mon``). As in Vixie cron, when both
    day fields are restricted a day matching either runs."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    any_day: bool
    any_weekday: bool

    @classmethod
    def parse(cls, text: str) -> Cron:
        parts = text.split()
        if len(parts) != 5:
            raise ValueError(f"cron {text!r}: five fields expected (minute hour day month weekday)")
        try:
            sets = [
                _parse_field(part, name, low, high)
                for part, (name, low, high) in zip(parts, _FIELDS, strict=True)
            ]
        except ValueError as exc:
            raise ValueError(f"cron {text!r}: {exc}") from None
        minutes, hours, days, months, weekdays = sets
        return cls(minutes, hours, days, months, weekdays, parts[2] == "*", parts[4] == "*")

    def _day_matches(self, day: datetime) -> bool:
        if day.month not in self.months:
            return False
        in_month = day.day in self.days
        in_week = (day.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return in_month and in_week
        return in_month or in_week

    def next_after(self, after: datetime, zone: ZoneInfo) -> datetime:
        """The first occurrence strictly after ``after`` (aware), as an aware UTC datetime."""
        local = after.astimezone(zone)
        day = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
        for _ in range(366 * 8):  # covers "29 Feb on a Monday"
            if self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        candidate = datetime.combine(day.date(), time(hour, minute), zone)
                        if candidate > after:
                            return candidate.astimezone(ZoneInfo("UTC"))
            day += timedelta(days=1)
        raise ValueError("cron expression never matches")


@dataclass(frozen=True, slots=True)
class Recurrence:
    """``every`` (a positive interval, counted from :data:`EPOCH` in the zone) or ``cron``."""

    every: timedelta | None = None
    cron: Cron | None = None

    @classmethod
    def of(cls, every: timedelta | float | None, cron: str | None) -> Recurrence | None:
        if every is None and cron is None:
            return None
        if every is not None and cron is not None:
            raise ValueError("a job kind recurs either every= or on cron=, not both")
        if every is not None:
            interval = every if isinstance(every, timedelta) else timedelta(seconds=every)
            if interval < timedelta(minutes=1):
                raise ValueError("every= must be at least one minute")
            return cls(every=interval)
        assert cron is not None
        return cls(cron=Cron.parse(cron))

    def next_after(self, after: datetime, zone: ZoneInfo) -> datetime:
        """The first occurrence strictly after ``after``, in UTC."""
        if self.cron is not None:
            return self.cron.next_after(after, zone)
        assert self.every is not None
        # Count in local wall time so "every day" stays at the same hour across DST shifts.
        local = after.astimezone(zone).replace(tzinfo=None)
        steps = (local - EPOCH) // self.every + 1
        candidate = (EPOCH + steps * self.every).replace(tzinfo=zone)
        while candidate <= after:
            steps += 1
            candidate = (EPOCH + steps * self.every).replace(tzinfo=zone)
        return candidate.astimezone(ZoneInfo("UTC"))
