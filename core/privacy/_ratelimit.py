"""Counting in the database, so every worker process sees the same numbers.

A fixed window per bucket (``cmd:12`` for member 12's commands): one row per bucket and
window, incremented atomically. Rows of past windows are removed by the retention job.

Commands are the hot case: :class:`CommandBudget` counts them in memory and adds the counts
to the shared rows in one statement per flush (every second); once a member has used half
their limit, each further command is counted in the database at once, so the refusal is
decided on the shared total. What a worker cannot know is what other workers counted since
their last flush: with commands spread over several workers the limit holds to within the
commands the member sent to the others in one flush interval (with 3 workers and a member
sending one command a second to each, within 10% of a limit of 20).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from core import _sql
from core._clock import utc
from core._supervise import periodically
from core.privacy.models import RateCounter

__all__ = ["CommandBudget", "hit", "window_start"]

log = logging.getLogger(__name__)


def window_start(now: datetime, window: timedelta) -> datetime:
    """The start of the fixed window ``now`` falls in (windows aligned to the epoch)."""
    seconds = int(window.total_seconds())
    stamp = int(utc(now).timestamp())
    return datetime.fromtimestamp(stamp - stamp % seconds, tz=utc(now).tzinfo)


async def hit(bucket: str, now: datetime, window: timedelta) -> int:
    """Count one more event in ``bucket``'s current window; returns the count so far."""
    start = window_start(now, window)
    bucket = bucket[:64]
    updated = await RateCounter.filter(bucket=bucket, window_start=start).update(
        count=F("count") + 1
    )
    if not updated:
        try:
            await RateCounter.create(bucket=bucket, window_start=start, count=1)
            return 1
        except IntegrityError:
            # Another worker created the row between our update and insert.
            await RateCounter.filter(bucket=bucket, window_start=start).update(count=F("count") + 1)
    row = await RateCounter.get(bucket=bucket, window_start=start)
    return int(row.count)


async def forget(buckets: list[str]) -> int:
    return await RateCounter.filter(bucket__in=buckets).delete()


class CommandBudget:
    """Per-member command counts in memory, shared across workers through the database."""

    def __init__(
        self, dialect: str, *, window: timedelta = timedelta(minutes=1), interval: float = 1.0
    ) -> None:
        self.dialect = dialect
        self.window = window
        self.interval = interval
        self._known: dict[str, tuple[datetime, int]] = {}  # shared total at the last write
        self._pending: dict[str, tuple[datetime, int]] = {}  # counted here, not yet written
        #: Counts of windows that ended before they were written (written at the next flush).
        self._ended: list[tuple[str, datetime, int]] = []
        #: The current window, [start, end): found again by two comparisons per command.
        self._span: tuple[datetime, datetime] | None = None

    @staticmethod
    def bucket(member_id: int) -> str:
        return f"cmd:{member_id}"

    async def hit(self, member_id: int, now: datetime, limit: int) -> int:
        """Count one command; returns the member's count in this window (as far as known)."""
        span = self._span
        if span is not None and span[0] <= now < span[1]:
            start = span[0]
        else:
            start = window_start(now, self.window)
            self._span = (start, start + self.window)
        bucket = self.bucket(member_id)
        known = self._known.get(bucket)
        pending = self._pending.get(bucket)
        known_count = known[1] if known is not None and known[0] == start else 0
        pending_count = pending[1] if pending is not None and pending[0] == start else 0
        if pending is not None and pending[0] != start:
            # An older window's count: written with the next flush, not on this path.
            self._ended.append((bucket, pending[0], pending[1]))
            del self._pending[bucket]
        estimate = known_count + pending_count + 1
        if estimate * 2 <= limit:
            self._pending[bucket] = (start, pending_count + 1)
            return estimate
        self._pending.pop(bucket, None)
        totals = await _sql.add_counts(self.dialect, [(bucket, start, pending_count + 1)])
        total = totals.get(bucket, estimate)
        self._known[bucket] = (start, total)
        return total

    def drop(self, member_ids: list[int]) -> None:
        """Forget the counts of these members (their data is being deleted)."""
        buckets = {self.bucket(member_id) for member_id in member_ids}
        for bucket in buckets:
            self._pending.pop(bucket, None)
            self._known.pop(bucket, None)
        self._ended = [row for row in self._ended if row[0] not in buckets]

    @property
    def pending(self) -> int:
        return sum(count for _, count in self._pending.values()) + sum(
            count for _, _, count in self._ended
        )

    async def flush(self) -> int:
        """Write every pending count (one statement); returns how many commands."""
        pending, self._pending = self._pending, {}
        ended, self._ended = self._ended, []
        if not pending and not ended:
            return 0
        rows = [(bucket, start, count) for bucket, (start, count) in pending.items()]
        try:
            totals = await _sql.add_counts(self.dialect, ended + rows)
        except BaseException:
            # Back where they were, beside what was counted meanwhile (a newer window's
            # count stays current; the unwritten one becomes an ended window's).
            for bucket, (start, count) in pending.items():
                mine = self._pending.get(bucket)
                if mine is None or mine[0] == start:
                    self._pending[bucket] = (start, count + (mine[1] if mine else 0))
                else:
                    self._ended.append((bucket, start, count))
            self._ended.extend(ended)
            raise
        # A bucket written for two windows in one statement: its total is ambiguous.
        twice = {bucket for bucket, _, _ in ended}
        for bucket, start, _ in rows:
            if bucket in totals and bucket not in twice:
                self._known[bucket] = (start, totals[bucket])
        # Past windows are not needed any more.
        if len(self._known) > 4 * len(pending) + 1000:
            newest = max(start for start, _ in self._known.values())
            self._known = {b: v for b, v in self._known.items() if v[0] == newest}
        return sum(count for _, _, count in ended + rows)

    async def run_due(self, limit: int | None = None) -> int:
        return await self.flush()

    async def run_forever(self) -> None:
        await periodically(
            "writing command counts (kept for the next try)", self.flush, self.interval, logger=log
        )
