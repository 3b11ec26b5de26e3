"""Fake platforms for outbox tests: one that enforces Telegram's 30 messages per second with
429s, and one that appends every send to a file (for multi-process tests)."""

from __future__ import annotations

import inspect
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from core import ChatRef, Clock, MessageRef, Outgoing, RateLimits, RetryAfter, UserRef
from core.testing import MemoryAdapter


@dataclass(eq=False)
class ThrottledPlatform(MemoryAdapter):
    """Refuses with ``RetryAfter`` whenever the bot exceeds ``limit`` messages per second
    (a token bucket holding ``limit`` tokens, refilled continuously), like Telegram."""

    clock: Clock | None = None
    limit: float = 30.0
    refusals: int = 0
    times: list[float] = field(default_factory=list)
    #: Called with each target before the limit is checked; may be async (and raise).
    hook: Callable[[str], Awaitable[None] | None] | None = None
    _tokens: float = 0.0
    _at: float | None = None

    def _spend(self, target: str) -> None:
        assert self.clock is not None
        now = self.clock.now().timestamp()
        if self._at is None:
            self._tokens, self._at = self.limit, now
        self._tokens = min(self.limit, self._tokens + (now - self._at) * self.limit)
        self._at = now
        if self._tokens < 1:
            self.refusals += 1
            raise RetryAfter(1.0)
        self._tokens -= 1
        self.times.append(now)

    async def _check(self, target: str) -> None:
        if self.hook is not None:
            called = self.hook(target)
            if inspect.isawaitable(called):
                await called
        self._spend(target)

    async def send(
        self, chat: ChatRef, message: Outgoing, *, reply_to: MessageRef | None = None
    ) -> MessageRef:
        await self._check(chat.id)
        return await super().send(chat, message, reply_to=reply_to)

    async def send_dm(self, user: UserRef, message: Outgoing) -> MessageRef:
        await self._check(user.id)
        return await super().send_dm(user, message)


@dataclass(eq=False)
class FilePlatform(MemoryAdapter):
    """Appends ``target`` to a file on every send, before the outbox records it: the file
    is what recipients really got, whatever happens to the process afterwards."""

    path: str = ""

    async def send_dm(self, user: UserRef, message: Outgoing) -> MessageRef:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, f"{user.id}\n".encode())
        finally:
            os.close(fd)
        return MessageRef(self.dm_chat(user), user.id)


def thirty_per_second() -> RateLimits:
    return RateLimits(
        overall_per_second=30, per_chat_per_second=1, per_group_per_minute=20, dm_per_second=30
    )
