"""Calling the Bot API politely and never twice by accident.

A 429's ``retry_after`` is honoured only for the chat or method it concerns (Telegram refuses
a 429'd request before doing anything, so it is sent again after the wait). Other failures
are retried with backoff only when the call is idempotent (reads, edits, deletes, menus) or
when the request certainly never left this machine (no connection could be made). A
non-idempotent send (``sendMessage``...) whose request may have reached Telegram (a read
timeout, a connection dropped after writing, a 5xx answer) raises
:class:`core.DeliveryUnknown`: sending it again could message the recipient twice."""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
import warnings
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx
from telegram.error import NetworkError, RetryAfter, TimedOut

import core

__all__ = ["Caller", "never_sent", "retry_seconds"]

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


#: httpx failures that happen before a request is written: Telegram never saw it.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def _transient(exc: Exception) -> bool:
    # BadRequest is a NetworkError subclass in PTB but is the caller's fault: never retried.
    return type(exc) is NetworkError or isinstance(exc, TimedOut)


def never_sent(exc: Exception) -> bool:
    """True when ``exc`` certainly happened before the request reached Telegram."""
    return _transient(exc) and isinstance(exc.__cause__, _NOT_SENT)


class Caller:
    """Runs Bot API calls under a key (``chat:<id>`` or a method name).

    A 429 blocks that key until its ``retry_after`` has passed; other keys go on. A wait up
    to ``max_wait`` seconds is sat out and the call retried; a longer one raises
    :class:`core.RetryAfter` so the caller can defer the work (the outbox does other work
    meanwhile). Calls are non-idempotent unless the caller says ``idempotent=True``.
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

    async def __call__(
        self, key: str, call: Callable[[], Awaitable[T]], *, idempotent: bool = False
    ) -> T:
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
                if not _transient(exc):
                    raise
                if not idempotent and not never_sent(exc):
                    log.warning("Telegram call on %s has an unknown outcome: %s", key, exc)
                    raise core.DeliveryUnknown(f"{key}: {exc}") from exc
                if attempt >= self.attempts:
                    raise
                log.warning(
                    "Telegram call on %s failed (%s), retry %d in %.1fs", key, exc, attempt, delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff)
            attempt += 1
