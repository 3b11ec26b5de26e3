"""Counting in the database, so every worker process sees the same numbers.

A fixed window per bucket (``cmd:12`` for member 12's commands): one row per bucket and
window, incremented atomically. Rows of past windows are removed by the retention job.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from core._clock import utc
from core.privacy.models import RateCounter

__all__ = ["hit", "window_start"]


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
