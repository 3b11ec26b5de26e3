"""A loopback fake Bot API for multi-process rate tests, and the adapter workers use to
reach it.

The server records the time (``time.monotonic()``, one clock for every process on the
machine) each message reaches it, and refuses with 429 what Telegram would refuse: more
than ``limit`` messages a second (a bucket of ``limit`` tokens refilled continuously, as
in ``fakes.ThrottledPlatform``), or more than ``group_limit`` in any sixty-second window
of one group. Tests check the strict form too: no one-second window of the recorded
times above the limit.
"""

from __future__ import annotations

import bisect
import os
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiohttp import web

from core import ChatRef, MessageRef, Outgoing, RetryAfter, UserRef
from core.testing import MemoryAdapter


def most_in_window(times: list[float], window: float) -> int:
    """The largest number of ``times`` inside any half-open window of ``window`` seconds."""
    ordered = sorted(times)
    best = 0
    for i, start in enumerate(ordered):
        best = max(best, bisect.bisect_left(ordered, start + window) - i)
    return best


@dataclass
class FakeBotApi:
    limit: int = 30
    group_limit: int = 20
    #: (time, chat kind, target) of every message accepted.
    received: list[tuple[float, str, str]] = field(default_factory=list)
    refusals: int = 0
    _tokens: float = -1.0
    _at: float = 0.0
    #: (time, chat kind, target) of every message refused.
    refused: list[tuple[float, str, str]] = field(default_factory=list)
    #: When each accepted message left its worker (the worker's ``time.monotonic()``).
    sent_at: list[float] = field(default_factory=list)
    #: The process id of the worker that sent each accepted message.
    senders: list[int] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    url: str = ""

    def _over(self, now: float, kind: str, target: str) -> bool:
        if self._tokens < 0:
            self._tokens, self._at = float(self.limit), now
        self._tokens = min(self.limit, self._tokens + (now - self._at) * self.limit)
        self._at = now
        if self._tokens < 1:
            return True
        if kind == "group":
            group = [t for t, k, c in self.received if k == kind and c == target]
            if len([t for t in group if t > now - 60.0]) >= self.group_limit:
                return True
        self._tokens -= 1
        return False

    async def _send(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = await request.json()
        now = time.monotonic()
        kind, target = str(body["kind"]), str(body["target"])
        if self._over(now, kind, target):
            self.refusals += 1
            self.refused.append((now, kind, target))
            return web.json_response(
                {"ok": False, "error_code": 429, "parameters": {"retry_after": 1}}, status=429
            )
        self.received.append((now, kind, target))
        self.sent_at.append(float(body.get("at", now)))
        self.senders.append(int(body.get("pid", 0)))
        return web.json_response({"ok": True, "result": {"message_id": len(self.received)}})

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/send", self._send)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/send"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def times(self, kind: str | None = None, target: str | None = None) -> list[float]:
        """When the accepted messages (of one chat kind, to one target) left their
        workers. (Arrival times add this server's own scheduling delays: on a loaded
        machine, up to a few hundred milliseconds.)"""
        return [
            at
            for (_, k, c), at in zip(self.received, self.sent_at, strict=True)
            if (kind is None or k == kind) and (target is None or c == target)
        ]


@dataclass(eq=False)
class HttpPlatform(MemoryAdapter):
    """Sends every message to a :class:`FakeBotApi` over loopback HTTP."""

    url: str = ""
    _client: httpx.AsyncClient | None = None

    def open(self) -> None:
        """Make the HTTP client now: making it takes long enough to skew the first send's
        departure time."""
        self._client = httpx.AsyncClient(timeout=30)

    async def _post(self, kind: str, target: str) -> str:
        if self._client is None:
            self.open()
            assert self._client is not None
        body = {"kind": kind, "target": target, "at": time.monotonic(), "pid": os.getpid()}
        answer = await self._client.post(self.url, json=body)
        data = answer.json()
        if answer.status_code == 429:
            raise RetryAfter(float(data["parameters"]["retry_after"]))
        answer.raise_for_status()
        return str(data["result"]["message_id"])

    async def send(
        self, chat: ChatRef, message: Outgoing, *, reply_to: MessageRef | None = None
    ) -> MessageRef:
        return MessageRef(chat, await self._post(chat.kind.value, chat.id))

    async def send_dm(self, user: UserRef, message: Outgoing) -> MessageRef:
        return MessageRef(self.dm_chat(user), await self._post("dm", user.id))

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
