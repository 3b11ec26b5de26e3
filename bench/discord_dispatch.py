"""How much the Discord adapter, the core and its plugins cost per gateway event.

N synthetic MESSAGE_CREATE and INTERACTION_CREATE (``/help``) payloads go through discord.py's
own parsers twice in the same process:

* baseline: a raw ``discord.Client`` whose listeners do nothing;
* answering baseline: the same raw client answering each ``/help`` as a plain discord.py bot
  would, ``interaction.response.send_message(text, ephemeral=True)`` with the very text
  Guyub answers, through the same offline interaction webhook (the same visible work);
* guyub: the Discord adapter's client, dispatching into an App (core + plugins) on a SQLite
  file in a temporary folder (as in production), answering each slash command through an
  offline interaction webhook (no network: discord.py builds the whole response, the
  webhook adapter that would put it on the wire accepts it).

Prints the rates and their ratios. Run: ``.venv/bin/python bench/discord_dispatch.py``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from typing import Any, NamedTuple

import discord
from discord.webhook.async_ import async_context

from adapters.discord import DiscordAdapter
from core.testing import make_app, test_settings

MESSAGES = int(os.environ.get("BENCH_MESSAGES", "2000"))
INTERACTIONS = int(os.environ.get("BENCH_INTERACTIONS", "500"))
USERS = 50
ROUNDS = 5
BATCH = 100

GUILD_ID = 1300000000000000000
CHANNEL_ID = 1300000000000000001
APP_ID = 1200000000000000000
BOT = {"id": str(APP_ID), "username": "guyub", "discriminator": "0", "avatar": None, "bot": True}


def _user(n: int) -> dict[str, Any]:
    return {
        "id": str(1400000000000000000 + n),
        "username": f"alumni{n}",
        "global_name": f"Alumni {n}",
        "discriminator": "0",
        "avatar": None,
    }


def _member(n: int) -> dict[str, Any]:
    return {
        "user": _user(n),
        "roles": [],
        "joined_at": "2026-11-20T03:00:00+00:00",
        "flags": 0,
        "permissions": "2147483647",
    }


def _guild() -> dict[str, Any]:
    return {
        "id": str(GUILD_ID),
        "name": "Alumni Aceh",
        "owner_id": BOT["id"],
        "roles": [{"id": str(GUILD_ID), "name": "@everyone", "permissions": "3072", "position": 0}],
        "emojis": [],
        "features": [],
        "member_count": USERS,
        "members": [_member(n) for n in range(USERS)],
        "channels": [{"id": str(CHANNEL_ID), "type": 0, "name": "umum", "position": 0}],
        "threads": [],
    }


def _message(i: int) -> dict[str, Any]:
    n = i % USERS
    return {
        "id": str(1500000000000000000 + i),
        "channel_id": str(CHANNEL_ID),
        "guild_id": str(GUILD_ID),
        "author": _user(n),
        "member": {k: v for k, v in _member(n).items() if k != "user"},
        "content": f"halo semua, pesan nomor {i}",
        "timestamp": "2026-11-23T03:00:00+00:00",
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "type": 0,
    }


def _interaction(i: int) -> dict[str, Any]:
    return {
        "id": str(1600000000000000000 + i),
        "application_id": str(APP_ID),
        "type": 2,
        "token": f"token-{i}",
        "version": 1,
        "guild_id": str(GUILD_ID),
        "channel_id": str(CHANNEL_ID),
        "channel": {"id": str(CHANNEL_ID), "type": 0, "name": "umum", "guild_id": str(GUILD_ID)},
        "member": _member(i % USERS),
        "locale": "id",
        "guild_locale": "id",
        "app_permissions": "2147483647",
        "attachment_size_limit": 10485760,
        "entitlements": [],
        "authorizing_integration_owners": {"0": str(GUILD_ID)},
        "context": 0,
        "data": {"id": "1700000000000000000", "name": "help", "type": 1},
    }


def _first_sight() -> list[dict[str, Any]]:
    return [{**_interaction(n), "id": str(1650000000000000000 + n)} for n in range(USERS)]


class _OfflineInteractionWebhook:
    """Stands in for Discord's interaction endpoint: accepts every response."""

    def __init__(self) -> None:
        self.responses = 0
        #: Responses carrying a message (not a deferral).
        self.answers = 0
        #: The last response's JSON payload (``{"type": 4, "data": {...}}``).
        self.last: dict[str, Any] = {}

    async def create_interaction_response(
        self, interaction_id: int, token: str, **kwargs: Any
    ) -> dict[str, Any]:
        self.responses += 1
        params = kwargs.get("params")
        if params is not None and params.payload is not None:
            self.last = params.payload
            if params.payload.get("data", {}).get("content"):
                self.answers += 1
        return {"interaction": {"id": str(interaction_id), "type": 2}}

    def __getattr__(self, name: str) -> Callable[..., Any]:
        async def accept(*args: Any, **kwargs: Any) -> dict[str, Any]:
            self.responses += 1
            return {}

        return accept


def _prepare(client: discord.Client) -> None:
    state = client._connection
    state.parse_ready({"user": BOT, "guilds": [], "application": {"id": str(APP_ID), "flags": 0}})  # type: ignore[typeddict-item]
    state.parse_guild_create(_guild())  # type: ignore[arg-type]


async def _drain() -> None:
    """Wait for every event task discord.py scheduled."""
    me = asyncio.current_task()
    while True:
        pending = [
            t for t in asyncio.all_tasks() if t is not me and t.get_name().startswith("discord.py")
        ]
        if not pending:
            return
        await asyncio.gather(*pending, return_exceptions=True)


class Timing(NamedTuple):
    """Seconds of wall clock, and of this process's CPU (steadier on a shared machine)."""

    wall: float
    cpu: float


def _best(timings: Iterable[Timing]) -> Timing:
    listed = list(timings)
    return Timing(min(t.wall for t in listed), min(t.cpu for t in listed))


async def _feed(client: discord.Client, event: str, payloads: list[dict[str, Any]]) -> Timing:
    parser = client._connection.parsers[event]
    cpu = time.process_time()
    start = time.perf_counter()
    for first in range(0, len(payloads), BATCH):
        for payload in payloads[first : first + BATCH]:
            parser(payload)
        await _drain()
    return Timing(time.perf_counter() - start, time.process_time() - cpu)


async def baseline(
    messages: list[dict[str, Any]],
    interactions: list[dict[str, Any]],
    webhook: _OfflineInteractionWebhook | None = None,
    answer: str = "",
) -> tuple[Timing, Timing]:
    """A raw client; with ``webhook``, each /help is answered with ``answer``."""
    client = discord.Client(intents=discord.Intents.all())

    @client.event
    async def on_message(message: discord.Message) -> None:
        return None

    @client.event
    async def on_interaction(interaction: discord.Interaction) -> None:
        if webhook is not None:
            await interaction.response.send_message(answer, ephemeral=True)

    async with client:  # sets the client's loop; nothing connects
        _prepare(client)
        await _drain_ready(client)
        token = async_context.set(webhook) if webhook is not None else None  # type: ignore[arg-type]
        try:
            m = await _feed(client, "MESSAGE_CREATE", messages)
            i = await _feed(client, "INTERACTION_CREATE", interactions)
        finally:
            if token is not None:
                async_context.reset(token)
    return m, i


async def _drain_ready(client: discord.Client) -> None:
    task = client._connection._ready_task
    if task is not None:
        task.cancel()


async def guyub(
    rounds: list[tuple[list[dict[str, Any]], list[dict[str, Any]]]],
    webhook: _OfflineInteractionWebhook,
    between: Callable[[], Awaitable[None]] | None = None,
) -> list[tuple[Timing, Timing]]:
    """Every round (fresh message and interaction ids) through one App, ``between`` run
    after each (the baseline's round, so that both sides share the machine's moods);
    each round's times."""
    folder = tempfile.mkdtemp(prefix="guyub-bench-")
    settings = test_settings(
        discord={"token": "bench", "message_content": True, "guild_ids": [GUILD_ID]},
        database={"url": f"sqlite://{folder}/bench.sqlite3"},
    )
    adapter = DiscordAdapter(settings)  # as in production: "thinking..." after 2 s
    async with make_app(settings=settings, adapters=[adapter]) as app:
        adapter.bind(app)
        await adapter.register_commands(app.visible_commands())
        async with adapter.client:
            _prepare(adapter.client)
            await _drain_ready(adapter.client)
            token = async_context.set(webhook)  # type: ignore[arg-type]
            try:
                # First sight creates each member's account: not what we measure.
                await _feed(adapter.client, "INTERACTION_CREATE", _first_sight())
                times: list[tuple[Timing, Timing]] = []
                for messages, interactions in rounds:
                    # A round is a minute later: a member's command limit (20 a minute)
                    # is never reached (the raw bot has none; nobody is refused here).
                    app.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
                    m = await _feed(adapter.client, "MESSAGE_CREATE", messages)
                    i = await _feed(adapter.client, "INTERACTION_CREATE", interactions)
                    times.append((m, i))
                    if between is not None:
                        async_context.reset(token)
                        await between()
                        token = async_context.set(webhook)  # type: ignore[arg-type]
            finally:
                async_context.reset(token)
        return times


async def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("discord.client").setLevel(logging.ERROR)  # no voice: expected
    # Every side: best of five rounds, to keep the scheduler's noise (a shared machine) out;
    # the raw sides' rounds run between Guyub's.
    rounds = [
        (
            [_message(r * MESSAGES + i) for i in range(MESSAGES)],
            [_interaction(r * INTERACTIONS + i) for i in range(INTERACTIONS)],
        )
        for r in range(ROUNDS)
    ]
    messages, interactions = rounds[0]
    webhook = _OfflineInteractionWebhook()
    answering = _OfflineInteractionWebhook()
    raw: list[tuple[Timing, Timing]] = []
    answered: list[Timing] = []

    async def raw_round() -> None:
        # The raw clients run right after each of Guyub's rounds: the two sides of every
        # ratio are measured side by side, not minutes apart. The answering one answers
        # with the text Guyub sent (same size), through the same offline webhook.
        raw.append(await baseline(messages, interactions))
        answer = str(webhook.last.get("data", {}).get("content", ""))
        if not answer:
            sys.exit("Guyub's /help answer was not seen")
        timing = await baseline(messages[:BATCH], interactions, answering, answer)
        answered.append(timing[1])

    ours = await guyub(rounds, webhook, raw_round)
    raw_m, raw_i = _best(r[0] for r in raw), _best(r[1] for r in raw)
    our_m, our_i = _best(t[0] for t in ours), _best(t[1] for t in ours)
    if webhook.answers < ROUNDS * INTERACTIONS + USERS:
        sys.exit(f"only {webhook.answers} of {ROUNDS * INTERACTIONS} /help were answered")
    if answering.answers < ROUNDS * INTERACTIONS:
        sys.exit(f"the raw bot answered {answering.answers} of {ROUNDS * INTERACTIONS}")
    answer = str(webhook.last.get("data", {}).get("content", ""))
    ans_i = _best(answered)
    paired_m = sorted(r[0].cpu / o[0].cpu for r, o in zip(raw, ours, strict=True))
    paired = sorted(a.cpu / o[1].cpu for a, o in zip(answered, ours, strict=True))
    python = sys.version.split()[0]
    print(f"machine: {os.cpu_count()} CPUs (shared with other sessions); Python {python}")
    print(f"MESSAGE_CREATE x{MESSAGES}  (events/s by wall clock; CPU µs per event)")
    _row("raw discord.py, no-op listener", MESSAGES, raw_m)
    _row("adapter + core + plugins", MESSAGES, our_m)
    _ratio("guyub / raw", raw_m, our_m, "(goal >= 0.5)")
    _rounds(paired_m)
    print(f"INTERACTION_CREATE /help x{INTERACTIONS} (answer: {len(answer)} characters)")
    _row("raw discord.py, no-op listener", INTERACTIONS, raw_i)
    _row("raw discord.py answering /help", INTERACTIONS, ans_i)
    _row("adapter + core + plugins", INTERACTIONS, our_i)
    _ratio("guyub / raw answering", ans_i, our_i, "(goal >= 0.2; same work)")
    _rounds(paired)
    _ratio("guyub / raw no-op", raw_i, our_i, "(the raw side sends nothing)")


def _rounds(ratios: list[float]) -> None:
    """The ratio of each pair of rounds run side by side (sorted)."""
    print(
        f"  {'round by round (CPU)':31}: median {ratios[len(ratios) // 2]:.3f}, "
        f"range {ratios[0]:.3f}-{ratios[-1]:.3f} over {len(ratios)} side-by-side rounds"
    )


def _row(label: str, n: int, t: Timing) -> None:
    print(f"  {label:31}: {n / t.wall:8.0f} events/s  {t.cpu / n * 1e6:7.1f} µs CPU")


def _ratio(label: str, base: Timing, ours: Timing, note: str) -> None:
    wall, cpu = base.wall / ours.wall, base.cpu / ours.cpu
    print(f"  {label:31}: {wall:8.3f} (wall)  {cpu:7.3f} (CPU) {note}")


if __name__ == "__main__":
    asyncio.run(main())
