"""Pacing: how fast the outbox may send, per platform, per chat and per group.

Each limit is a virtual-time schedule with no burst (GCRA): a send is allowed once the
previous one was ``1/rate`` seconds ago, so no window of any length ever holds more
messages than the platform allows. The time source is a :class:`Timer`, real or simulated,
so tests and benchmarks run hours of pacing in milliseconds.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from core._adapter import RateLimits
from core._clock import Clock

__all__ = ["ClockTimer", "Pace", "RealTimer", "Timer", "timer_for"]


class Timer(Protocol):
    """Seconds that only go forward, and a way to wait for them."""

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class RealTimer:
    """Wall-clock pacing."""

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ClockTimer:
    """Simulated pacing on a settable clock: sleeping moves the clock instead of waiting
    (tests, benchmarks, scenario scripts)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def monotonic(self) -> float:
        return self.clock.now().timestamp()

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.clock.advance(timedelta(seconds=seconds))  # type: ignore[attr-defined]
        await asyncio.sleep(0)


def timer_for(clock: Clock) -> Timer:
    """A simulated timer for clocks that stand still (FakeClock), real time otherwise."""
    from core._clock import FakeClock

    return ClockTimer(clock) if isinstance(clock, FakeClock) else RealTimer()


@dataclass
class _Schedule:
    """The earliest time the next send may go, per key."""

    interval: float
    next_free: dict[str, float] = field(default_factory=dict)
    #: Prune when this many keys are held (doubles when pruning frees little, so a
    #: broadcast to many chats at once does not rebuild the table on every send).
    prune_at: int = 10_000

    def wait(self, key: str, now: float) -> float:
        return max(0.0, self.next_free.get(key, 0.0) - now)

    def take(self, key: str, now: float) -> None:
        self.next_free[key] = max(now, self.next_free.get(key, 0.0)) + self.interval

    def prune(self, now: float) -> None:
        # A big broadcast touches hundreds of thousands of private chats once each: forget
        # the ones whose pause is over so memory stays flat.
        if len(self.next_free) > self.prune_at:
            self.next_free = {k: v for k, v in self.next_free.items() if v > now}
            self.prune_at = max(10_000, 2 * len(self.next_free))


def _interval(rate: float) -> float:
    return 1.0 / rate if rate > 0 else 0.0


class Pace:
    """The limits of one platform: overall, private chats, each chat, each group."""

    def __init__(self, limits: RateLimits) -> None:
        self.limits = limits
        self.overall = _Schedule(_interval(limits.overall_per_second))
        self.dm = _Schedule(_interval(limits.dm_per_second))
        self.chat = _Schedule(_interval(limits.per_chat_per_second))
        self.group = _Schedule(_interval(limits.per_group_per_minute / 60.0))
        self.paused: dict[str, float] = {}

    def chat_wait(self, chat: str, is_group: bool, now: float) -> float:
        """Seconds until ``chat`` may get another message (its own limits, a 429 pause)."""
        wait = max(self.chat.wait(chat, now), self.paused.get(chat, 0.0) - now)
        if is_group:
            wait = max(wait, self.group.wait(chat, now))
        return max(0.0, wait)

    def shared_wait(self, is_group: bool, now: float) -> float:
        """Seconds until the platform-wide limits allow one more message."""
        wait = self.overall.wait("", now)
        if not is_group:
            wait = max(wait, self.dm.wait("", now))
        return wait

    def reply_wait(self, chat: str, is_group: bool, now: float) -> float:
        """Seconds until an interactive send to ``chat`` may go: the chat's own limits and
        the platform-wide rate, not the slow pace of unsolicited bulk DMs."""
        return max(self.chat_wait(chat, is_group, now), self.overall.wait("", now))

    def take(self, chat: str, is_group: bool, now: float) -> None:
        self.overall.take("", now)
        self.chat.take(chat, now)
        if is_group:
            self.group.take(chat, now)
        else:
            self.dm.take("", now)
        self.chat.prune(now)
        if len(self.paused) > 10_000:
            self.paused = {k: v for k, v in self.paused.items() if v > now}

    def pause(self, chat: str, seconds: float, now: float) -> None:
        """The platform said 429 for ``chat``: hold only that chat."""
        self.paused[chat] = max(self.paused.get(chat, 0.0), now + seconds)
