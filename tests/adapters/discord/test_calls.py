"""discord.py's real HTTP stack against a loopback REST server: a send answered with a
5xx, or whose connection drops after the request was written, is ``unknown`` and posted
once; discord.py's own blind retry of 5xx answers does not happen for message creates."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import discord
import pytest
from aiohttp import web
from discord_harness import discord_settings

from adapters.discord import DiscordAdapter
from core import ChatKind, ChatRef, DeliveryError, DeliveryUnknown, Markup, Outgoing

CHANNEL = ChatRef("discord", "4242", ChatKind.GROUP)


def answer(data: object, status: int = 200) -> web.Response:
    # discord.py reads JSON only when the content type is exactly application/json.
    body = json.dumps(data).encode()
    return web.Response(body=body, status=status, headers={"Content-Type": "application/json"})


BOT = {"id": "1", "username": "guyub", "discriminator": "0", "avatar": None, "bot": True}


@dataclass
class FakeRest:
    """Answers GET /users/@me and POST /channels/{id}/messages; scripted failures."""

    posts: int = 0
    failures: list[str] = field(default_factory=list)  # "502", "drop"
    port: int = 0

    async def me(self, _request: web.Request) -> web.Response:
        return answer(BOT)

    async def post(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        self.posts += 1
        failure = self.failures.pop(0) if self.failures else None
        if failure == "502":
            return answer({"message": "Bad Gateway"}, status=502)
        if failure == "drop":
            # The message was posted, then the connection is lost before the answer.
            assert request.transport is not None
            request.transport.close()
            return web.Response()
        channel = request.match_info["channel"]
        return answer(
            {
                "id": str(1000 + self.posts),
                "channel_id": channel,
                "type": 0,
                "content": "x",
                "author": BOT,
                "attachments": [],
                "embeds": [],
                "mentions": [],
                "mention_roles": [],
                "pinned": False,
                "mention_everyone": False,
                "tts": False,
                "timestamp": "2026-12-05T00:00:00+00:00",
                "edited_timestamp": None,
                "flags": 0,
                "components": [],
            }
        )


@asynccontextmanager
async def rest_adapter(
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[DiscordAdapter, FakeRest]]:
    rest = FakeRest()
    server = web.Application()
    server.router.add_get("/api/v10/users/@me", rest.me)
    server.router.add_post("/api/v10/channels/{channel}/messages", rest.post)
    runner = web.AppRunner(server, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    rest.port = int(runner.addresses[0][1])
    monkeypatch.setattr(discord.http.Route, "BASE", f"http://127.0.0.1:{rest.port}/api/v10")
    adapter = DiscordAdapter(discord_settings())
    try:
        await adapter.client.http.static_login("test-token")
        yield adapter, rest
    finally:
        await adapter.client.http.close()
        await runner.cleanup()


async def test_a_server_error_on_a_send_is_unknown_and_not_retried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with rest_adapter(monkeypatch) as (adapter, rest):
        rest.failures = ["502"]
        with pytest.raises(DeliveryUnknown):
            await adapter.send(CHANNEL, Outgoing(Markup("halo")))
        await asyncio.sleep(1.5)  # discord.py's own retry would come after 1 s
        assert rest.posts == 1
        ref = await adapter.send(CHANNEL, Outgoing(Markup("lagi")))
    assert rest.posts == 2
    assert ref.id == "1002"


async def test_a_connection_dropped_after_the_request_is_unknown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with rest_adapter(monkeypatch) as (adapter, rest):
        rest.failures = ["drop"]
        with pytest.raises(DeliveryUnknown):
            await adapter.send(CHANNEL, Outgoing(Markup("halo")))
    assert rest.posts == 1


async def test_no_connection_at_all_is_a_plain_retryable_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with rest_adapter(monkeypatch) as (adapter, _):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            closed = int(sock.getsockname()[1])
        monkeypatch.setattr(discord.http.Route, "BASE", f"http://127.0.0.1:{closed}/api/v10")
        with pytest.raises(DeliveryError) as raised:
            await adapter.send(CHANNEL, Outgoing(Markup("halo")))
    assert not isinstance(raised.value, DeliveryUnknown)
    assert not raised.value.permanent
