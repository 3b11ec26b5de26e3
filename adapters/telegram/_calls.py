"""Calling the Bot API politely: retries with backoff for network errors and 5xx, and a
429's ``retry_after`` honoured only for the chat or method it concerns."""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
import warnings
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram.error import NetworkError, RetryAfter, TimedOut

import core

__all__ = ["Caller", "retry_seconds"]

log = logging.getLogger("adapters.telegram")

T = TypeVar("T")


def retry_seconds(exc: RetryAfter) -> float:
    """``retry_after`` in seconds, whichever type this PTB version hands out."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    if isinstance(value, dtm.timedelta):
        return value.total_seconds()
    return float(value)


def _transient(exc: Exception) -> bool:
    # BadRequest is a NetworkError subclass in PTB but is the caller's fault: never retried.
    return type(exc) is NetworkError or isinstance(exc, TimedOut)


class Caller:
    """Runs Bot API calls under a key (``chat:<id>`` or a method name).

    A 429 blocks that key until its ``retry_after`` has passed; other keys go on. A wait up
    to ``max_wait`` seconds is sat out and the call retried; a longer one raises
    :class:`core.RetryAfter` so the outbox can do other work meanwhile.
    """

    def __init__(
        self,
        *,
        attempts: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        max_wait: float = 10.0,
    ) -> None:
        self.attempts = attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_wait = max_wait
        self._blocked: dict[str, float] = {}

    def blocked_for(self, key: str) -> float:
        """Seconds until ``key`` may be used again (0 when free)."""
        until = self._blocked.get(key)
        if until is None:
            return 0.0
        left = until - asyncio.get_running_loop().time()
        if left <= 0:
            del self._blocked[key]
            return 0.0
        return left

    def block(self, key: str, seconds: float) -> None:
        now = asyncio.get_running_loop().time()
        if len(self._blocked) > 1000:
            # Forget chats whose wait is over, so a bot in many chats keeps a small table.
            self._blocked = {k: t for k, t in self._blocked.items() if t > now}
        self._blocked[key] = max(now + seconds, self._blocked.get(key, 0.0))

    async def __call__(self, key: str, call: Callable[[], Awaitable[T]]) -> T:
        delay = self.backoff
        attempt = 1
        while True:
            wait = self.blocked_for(key)
            if wait > self.max_wait:
                raise core.RetryAfter(wait)
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                return await call()
            except RetryAfter as exc:
                seconds = retry_seconds(exc)
                self.block(key, seconds)
                log.warning("Telegram asked to wait %.0fs before using %s again", seconds, key)
                if seconds > self.max_wait or attempt >= self.attempts:
                    raise core.RetryAfter(seconds) from exc
            except Exception as exc:
                if not _transient(exc) or attempt >= self.attempts:
                    raise
                log.warning(
                    "Telegram call on %s failed (%s), retry %d in %.1fs", key, exc, attempt, delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff)
            attempt += 1
