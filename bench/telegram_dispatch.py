"""Benchmark: Telegram updates through a bare PTB Application vs the Guyub adapter + core.

The same N synthetic updates (half plain group messages, half commands) are processed by
(a) a raw python-telegram-bot ``Application.process_update`` with a no-op handler,
(a') the same raw PTB bot answering each ``/help`` as a plain PTB bot would: one
``bot.send_message`` with the very text Guyub answers (HTML, same length), over HTTP to the
same loopback fake Bot API server — the same visible work as (b), and
(b) the Telegram adapter + core + every enabled plugin (``Application.process_update`` into
the adapter's handler: conversion, member lookup, limits, plugin hooks, the reply through the
core's delivery layer and PTB's ``send_message``).
Replies go over HTTP to a loopback fake Bot API server (in this process: its side of each
request costs CPU here too, for (a') and (b) alike). The database is a SQLite file in a
temporary folder (as in production; an in-memory database has no second connection, so the
dispatch cache has to ask it for changes on every update).
Both runs happen in this process, one after the other; the figure that matters is the ratio.

    .venv/bin/python bench/telegram_dispatch.py [N]
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import tempfile
import time
from typing import Any, NamedTuple

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import ApplicationBuilder, TypeHandler

from adapters.telegram import Caller, TelegramAdapter
from adapters.telegram._convert import BotIdentity, update_events
from adapters.telegram.testing import TOKEN, FakeBotApi
from core.testing import make_app, test_settings

GROUPS = (-1001000000001, -1001000000002, -1001000000003)


def synthetic(n: int, *, commands: bool = True) -> list[dict[str, Any]]:
    """``n`` updates: alternating plain messages and /help commands from 50 members."""
    out: list[dict[str, Any]] = []
    for i in range(n):
        user = {"id": 7000 + i % 50, "is_bot": False, "first_name": f"Alumni {i % 50}"}
        chat = {"id": GROUPS[i % 3], "title": "Alumni", "type": "supergroup"}
        message: dict[str, Any] = {
            "message_id": i + 1,
            "from": {**user, "language_code": "id"},
            "chat": chat,
            "date": 1795000000 + i,
            "text": f"halo semua, pesan ke-{i}",
        }
        if commands and i % 2:
            message["text"] = "/help"
            message["entities"] = [{"offset": 0, "length": 5, "type": "bot_command"}]
        out.append({"update_id": 10_000 + i, "message": message})
    return out


class Rate(NamedTuple):
    """Updates per second of wall clock, and per second of this process's CPU (steadier on
    a shared machine; the fake Bot API's side of each request is in this process too)."""

    wall: float
    cpu: float


def _best(rates: list[Rate]) -> Rate:
    return Rate(max(r.wall for r in rates), max(r.cpu for r in rates))


def _rate(n: int, wall: float, cpu: float) -> Rate:
    return Rate(n / wall, n / cpu if cpu > 0 else float("inf"))


async def raw_ptb(api: FakeBotApi, data: list[dict[str, Any]], answer: str | None = None) -> Rate:
    """Raw PTB; with ``answer``, each /help is answered with that HTML text."""

    async def handle(update: object, context: Any) -> None:
        if answer is None or not isinstance(update, Update):
            return
        message = update.message
        if message is not None and message.text == "/help":
            await context.bot.send_message(
                chat_id=message.chat.id, text=answer, parse_mode=ParseMode.HTML
            )

    application = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(f"{api.root}/bot")
        .updater(None)
        .job_queue(None)
        .build()
    )
    application.add_handler(TypeHandler(Update, handle))
    async with application:
        updates = [Update.de_json(d, application.bot) for d in data]
        cpu = time.process_time()
        start = time.perf_counter()
        for update in updates:
            await application.process_update(update)
        rate = _rate(len(updates), time.perf_counter() - start, time.process_time() - cpu)
    return rate


async def guyub(api: FakeBotApi, data: list[dict[str, Any]], rounds: int = 1) -> Rate:
    """Through one App; with ``rounds``, the best of that many (fresh update ids)."""
    folder = tempfile.mkdtemp(prefix="guyub-bench-")
    settings = test_settings(
        telegram={"token": TOKEN, "api_base_url": api.root},
        database={"url": f"sqlite://{folder}/bench.sqlite3"},
    )
    adapter = TelegramAdapter(settings, caller=Caller(), retry_delay=3600)
    async with make_app(adapters=[adapter], settings=settings) as app:
        await adapter.start(app)
        try:
            # First sight creates each member's account: not what we measure.
            for d in synthetic(100):
                first = {**d, "update_id": d["update_id"] + 1_000_000}
                await adapter.application.process_update(
                    Update.de_json(first, adapter.application.bot)
                )
            rates: list[Rate] = []
            for r in range(rounds):
                updates = [
                    Update.de_json(
                        {**d, "update_id": d["update_id"] + r * 100_000},
                        adapter.application.bot,
                    )
                    for d in data
                ]
                cpu = time.process_time()
                start = time.perf_counter()
                for update in updates:
                    await adapter.application.process_update(update)
                wall, cpu = time.perf_counter() - start, time.process_time() - cpu
                rates.append(_rate(len(updates), wall, cpu))
        finally:
            await adapter.stop()
    return _best(rates)


def conversion_only(data: list[dict[str, Any]]) -> Rate:
    """The adapter's own share: Update objects to core events, nothing else."""
    me = BotIdentity(1, "GuyubBot")
    updates = [Update.de_json(d, None) for d in data]
    cpu = time.process_time()
    start = time.perf_counter()
    for update in updates:
        update_events(update, me)
    return _rate(len(updates), time.perf_counter() - start, time.process_time() - cpu)


async def main(n: int) -> None:
    logging.basicConfig(level=logging.ERROR)
    async with FakeBotApi() as api:
        mixed = synthetic(n)
        plain = synthetic(n, commands=False)
        # Warm-up (imports, first connections), not measured.
        await raw_ptb(api, synthetic(50))
        await guyub(api, synthetic(50))
        # The raw bot answers /help with the text Guyub sent (same size, same HTML).
        answer = str(api.called("sendMessage")[-1].params["text"])
        # Every side: best of three, to keep the scheduler's noise (a shared machine) out.
        a_mixed = _best([await raw_ptb(api, mixed) for _ in range(3)])
        r_mixed = _best([await raw_ptb(api, mixed, answer) for _ in range(3)])
        b_mixed = await guyub(api, mixed, rounds=3)
        a_plain = _best([await raw_ptb(api, plain) for _ in range(3)])
        b_plain = await guyub(api, plain, rounds=3)
    c_plain = _best([conversion_only(plain) for _ in range(3)])
    print(f"telegram_dispatch: N={n} updates, nproc={os.cpu_count()} (machine shared)")
    print("  updates per second of wall clock / of process CPU")
    print(f"  mixed (half plain, half /help; the answer is {len(answer)} characters):")
    _row("(a) raw PTB process_update, no-op handler", a_mixed)
    _row("(a') raw PTB answering /help (same text)", r_mixed)
    _row("(b) adapter + core + plugins", b_mixed)
    _ratio("ratio b/a'", b_mixed, r_mixed, "(goal >= 0.1; same work on both sides)")
    _ratio("ratio b/a", b_mixed, a_mixed, "(the raw side sends nothing)")
    print("  plain group chatter only:")
    _row("(a) raw PTB process_update, no-op handler", a_plain)
    _row("(b) adapter + core + plugins", b_plain)
    _ratio("ratio b/a", b_plain, a_plain, "(goal >= 0.5)")
    _row("(c) adapter conversion alone (no core)", c_plain)
    _ratio("ratio c/a", c_plain, a_plain, "")


def _row(label: str, rate: Rate) -> None:
    print(f"    {label:42} {rate.wall:10.0f} / {rate.cpu:10.0f} updates/s")


def _ratio(label: str, ours: Rate, base: Rate, note: str) -> None:
    print(
        f"    {label}: {ours.wall / base.wall:.4f} (wall)  {ours.cpu / base.cpu:.4f} (CPU) {note}"
    )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
