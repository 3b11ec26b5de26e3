"""One rate shared by every worker process of a deployment, held in its PostgreSQL database.

The database holds one row per shared schedule (a bot token's global rate, a group's
rate): the next free send time, on the database's clock (GCRA's "theoretical arrival
time"). A worker reserves a block of send *slots* with one ``INSERT ... ON CONFLICT DO
UPDATE ... RETURNING`` (:func:`core.outbox._sql.lease_slots`) and spends them locally,
for outbox sends and interactive replies alike: a block of slots costs one statement,
and a worker that dies holds nothing (its slots just pass unused).

Slots are ``1 / (limit - 1)`` seconds apart and a slot may be used until half a slot
length after its time, never later (a send that wakes up later takes a new slot). So no
one-second window holds more than ``limit`` sends: ``limit + 1`` of them span ``limit``
intervals minus at most half an interval of lateness, ``(limit - 0.5) / (limit - 1)``
seconds, more than one. The other half interval (17 ms at 30 a second) is the margin for
the mapping of the database's clock to each worker's and for what comes between the
slot and the request leaving the process. The full limit is never used: 29 slots a
second at 30.

The database's clock is mapped to the worker's with the round trip of the fastest lease
seen (:class:`DatabaseClock`), so blocks leased by different workers line up to within
half that round trip.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

from core.outbox import _sql
from core.outbox._pace import Timer

__all__ = ["DatabaseClock", "SharedRate"]

log = logging.getLogger(__name__)

#: ``lease(key, count, interval) -> (first slot, database now)``, in database seconds.
Lease = Callable[[str, int, float], Awaitable[tuple[float, float]]]


#: How late (in slot lengths) a send may start in its slot.
LATENESS = 0.5


def slot_interval(limit: float) -> float:
    """Seconds between slots for at most ``limit`` sends in any window of one unit."""
    return 1.0 / (limit - 1) if limit > 1 else 1.0 / limit if limit > 0 else 0.0


class DatabaseClock:
    """The database's clock seen from this process: its offset from the local clock,
    measured by the fastest lease so far (the database's "now" taken to be the middle of
    the round trip), shared by every schedule of the process."""

    def __init__(self, now: Callable[[], Awaitable[float]] = _sql.database_now) -> None:
        self.now = now
        self.offset = 0.0
        self.rtt = float("inf")
        self.at = float("-inf")
        self.samples = 0

    async def calibrate(self, timer: Timer, samples: int = 5) -> None:
        """A few quick readings of the database's clock (the first lease of a fresh
        process is often slow: a new connection, a process still starting)."""
        for _ in range(samples):
            sent = timer.monotonic()
            db_now = await self.now()
            self.observe(sent, db_now, timer.monotonic())

    def observe(self, sent: float, db_now: float, answered: float) -> None:
        rtt = answered - sent
        self.samples += 1
        # Clocks drift slowly: a fresh sample is taken now and then even if slower.
        if rtt <= self.rtt or answered - self.at > 300.0:
            self.offset = db_now - (sent + answered) / 2
            self.rtt, self.at = rtt, answered

    def local(self, db_seconds: float) -> float:
        return db_seconds - self.offset


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
        clock: DatabaseClock | None = None,
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
        #: Slots that passed unused, in all.
        self.wasted = 0
        #: Slots given up because their send woke up too late (a loaded machine).
        self.late = 0
        self._last_lease = float("-inf")
        self._lock = asyncio.Lock()
        self.clock = clock or DatabaseClock()

    def usable(self, at: float, now: float) -> bool:
        """A slot may be used from its time until ``LATENESS`` intervals after it."""
        return now <= at + LATENESS * self.interval

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
        self.wasted += self.unused
        if self.unused:
            self.block = max(1, self.block // 2)
        elif now - self._last_lease < 2 * self.block * self.interval:
            self.block = min(self.max_block, self.block * 2)
        self.unused = 0
        if self.clock.samples < 5:
            await self.clock.calibrate(self.timer)
        sent = self.timer.monotonic()
        first, db_now = await self.lease(self.key, self.block, self.interval)
        local = self.timer.monotonic()
        self.clock.observe(sent, db_now, local)
        start = self.clock.local(first)
        self.slots.extend(start + i * self.interval for i in range(self.block))
        self.leases += 1
        self._last_lease = local

    async def wait(self) -> float:
        """Wait for a usable slot of this schedule; returns its time."""
        while True:
            at = await self.slot()
            now = self.timer.monotonic()
            if at > now:
                await self.timer.sleep(at - now)
                now = self.timer.monotonic()
            if self.usable(at, now):
                return at
            self.late += 1  # woke up too late for it: that slot passes unused
