"""Supervision of background loops: a failure is logged and the loop started again after a
growing pause, so a database outage or a locked SQLite file never ends the process.

The process ends only on a signal or a configuration error (:class:`SettingsError`)."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import random
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from core._settings import SettingsError

__all__ = ["Backoff", "Rounds", "periodically", "supervise"]

log = logging.getLogger("core.supervise")

T = TypeVar("T")


class Rounds:
    """Runs each round of a loop in a copy of the context the loop started in.

    tortoise keeps the current connection in a context variable and does not always reset
    it when the database fails mid-transaction (a ``BEGIN`` on a killed PostgreSQL
    connection leaves the dead transaction as "the connection" of the task). A loop that
    ran in one task for ever would then fail for ever; a round in its own task takes that
    state with it when it ends."""

    def __init__(self) -> None:
        self._clean = contextvars.copy_context()

    async def run(self, round_: Callable[[], Coroutine[Any, Any, T]]) -> T:
        return await asyncio.create_task(round_(), context=self._clean.copy())


class Backoff:
    """Pauses after consecutive failures: ``first`` seconds, doubling up to ``limit``, with
    a little jitter so several workers don't hammer a database that comes back together."""

    def __init__(self, first: float = 1.0, limit: float = 60.0) -> None:
        self.first = first
        self.limit = limit
        self.failures = 0

    def next(self) -> float:
        """The pause after one more failure."""
        self.failures += 1
        base = min(self.limit, self.first * 2.0 ** (self.failures - 1))
        return base * random.uniform(0.8, 1.0)

    def reset(self) -> None:
        self.failures = 0


async def periodically(
    what: str,
    round_: Callable[[], Coroutine[Any, Any, object]],
    interval: float,
    *,
    logger: logging.Logger,
    limit: float = 60.0,
) -> None:
    """Run ``round_()`` every ``interval`` seconds for ever, each round in a fresh copy of
    the context (:class:`Rounds`). A round that fails is logged (as ``what``) and the next
    try waits longer, ``interval`` doubling up to ``limit``: a database outage costs a log
    line now and then, not one per interval. Cancellation goes through."""
    rounds = Rounds()
    backoff = Backoff(first=interval, limit=max(limit, interval))
    wait = interval
    while True:
        await asyncio.sleep(wait)
        try:
            await rounds.run(round_)
        except asyncio.CancelledError:
            raise
        except Exception:
            wait = backoff.next()
            logger.exception("%s failed; next try in %.1fs", what, wait)
        else:
            backoff.reset()
            wait = interval


async def supervise(
    name: str,
    run: Callable[[], Coroutine[Any, Any, None]],
    *,
    first: float = 1.0,
    limit: float = 60.0,
) -> None:
    """Run ``run()`` for ever: when it raises (or returns), log it and start it again after
    a backoff pause. Cancellation and configuration errors go through."""
    backoff = Backoff(first, limit)
    loop = asyncio.get_running_loop()
    rounds = Rounds()
    while True:
        started = loop.time()
        try:
            await rounds.run(run)
            log.error("%s stopped on its own; starting it again", name)
        except asyncio.CancelledError:
            raise
        except SettingsError:
            raise
        except Exception:
            log.exception("%s failed; starting it again", name)
        if loop.time() - started > limit:
            backoff.reset()  # it ran well for a while: this is a new failure, not a streak
        pause = backoff.next()
        log.info("%s restarts in %.1fs", name, pause)
        await asyncio.sleep(pause)
