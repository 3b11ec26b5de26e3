"""One rate shared by every worker process of a deployment, held in its PostgreSQL database.

The database holds one row per shared schedule (a bot token's global rate, a group's
rate): the next free send time, on the database's clock (GCRA's "theoretical arrival
time"). A worker reserves a block of send *slots* with one ``INSERT ... ON CONFLICT DO
UPDATE ... RETURNING`` (:func:`core.outbox._sql.lease_slots`) and spends them locally,
for outbox sends and interactive replies alike: a block of slots costs one statement,
and a worker that dies holds nothing (its slots just pass unused).

Slots are ``1 / (limit - 1)`` seconds apart and a slot may be used until half a slot
length after its time, never later (a send that wakes up late takes a new slot). So
however late sends start within their slot, no one-second window holds more than
``limit`` of them: ``limit + 1`` sends span ``limit`` intervals minus at most half an
interval of lateness, ``(limit - 0.5) / (limit - 1)`` seconds, more than one; the other
half interval absorbs what happens between the slot and the platform's door (the HTTP
request, the process being descheduled). The full limit is never used: 29 slots a
second at 30.

The database's clock is mapped to the worker's with the round trip of the fastest lease
seen lately (the database's "now" is taken to be its middle), so blocks leased by
different workers line up to within half that round trip.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

from core.outbox import _sql
from core.outbox._pace import Timer

__all__ = ["SharedRate"]

log = logging.getLogger(__name__)

#: ``lease(key, count, interval) -> (first slot, database now)``, in database seconds.
Lease = Callable[[str, int, float], Awaitable[tuple[float, float]]]


def slot_interval(limit: float) -> float:
    """Seconds between slots for at most ``limit`` sends in any window of one unit."""
    return 1.0 / (limit - 1) if limit > 1 else 1.0 / limit if limit > 0 else 0.0


class SharedRate:
    """A schedule shared through the database: ``await slot()`` gives the local time at
    which one send may start. Blocks grow while a worker keeps using its slots (up to a
    quarter of a second's worth) and shrink when slots pass unused."""

    def __init__(
        self,
        key: str,
        limit: float,
        timer: Timer,
        *,
        unit: float = 1.0,
        lease: Lease = _sql.lease_slots,
        max_block: int | None = None,
    ) -> None:
        self.key = key
        self.timer = timer
        self.interval = slot_interval(limit) * unit
        self.lease = lease
        self.max_block = max_block or max(1, int(limit / unit * 0.25))
        self.block = 1
        self.slots: deque[float] = deque()
        self.leases = 0
        self.unused = 0
        self._last_lease = float("-inf")
        self._lock = asyncio.Lock()
        #: Database seconds minus local seconds, from the fastest recent lease.
        self._offset = 0.0
        self._offset_rtt = float("inf")
        self._offset_at = float("-inf")

    def usable(self, at: float, now: float) -> bool:
        """A slot may be used from its time until half an interval after it."""
        return now <= at + self.interval / 2

    async def slot(self) -> float:
        """Reserve the next slot (leasing a block when none is left); returns its local
        time. The caller waits until then, and takes another slot if it woke up after
        the slot was over (:meth:`usable`)."""
        while True:
            now = self.timer.monotonic()
            while self.slots and not self.usable(self.slots[0], now):
                self.slots.popleft()
                self.unused += 1
            if self.slots:
                return self.slots.popleft()
            async with self._lock:
                if not self.slots:
                    await self._lease(now)

    async def _lease(self, now: float) -> None:
        if self.unused:
            self.block = max(1, self.block // 2)
        elif now - self._last_lease < 2 * self.block * self.interval:
            self.block = min(self.max_block, self.block * 2)
        self.unused = 0
        sent = self.timer.monotonic()
        first, db_now = await self.lease(self.key, self.block, self.interval)
        local = self.timer.monotonic()
        rtt = local - sent
        if rtt <= self._offset_rtt or local - self._offset_at > 30.0:
            self._offset = db_now - (sent + local) / 2
            self._offset_rtt, self._offset_at = rtt, local
        start = first - self._offset
        self.slots.extend(start + i * self.interval for i in range(self.block))
        self.leases += 1
        self._last_lease = local

    async def wait(self) -> None:
        """Wait for a usable slot of this schedule."""
        while True:
            at = await self.slot()
            now = self.timer.monotonic()
            if at > now:
                await self.timer.sleep(at - now)
                now = self.timer.monotonic()
            if self.usable(at, now):
                return
            self.unused += 1
