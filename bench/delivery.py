"""Benchmark: the delivery layer.

(a) Enqueue: one event with RSVPS members going, its reminder job run once. The job only
    stores durable deliveries (one batch per language and zone); prints the job's time,
    rows per second and the process's peak RSS before and after the job.
(b) Drain: DRAIN deliveries drained by the outbox against an unlimited in-memory platform,
    against a plain ``await send_dm(...)`` loop over the same recipients in the same run;
    prints deliveries/s of each and the ratio outbox / plain loop, per outbox concurrency.
    The in-memory send costs nothing, so this ratio is the outbox's bookkeeping against
    an empty loop. (b-http) does the same through the real Telegram adapter
    (python-telegram-bot's HTTP stack) against the loopback fake Bot API with no rate limit:
    the outbox's drain against a plain loop of the adapter's ``send_dm`` over HTTP, the way a
    job sent directly before the delivery layer.
(c) Shared rate: with GUYUB_TEST_POSTGRES_URL set, SHARED DMs drained by 3 worker
    processes on one PostgreSQL database against a loopback fake Bot API that allows 30
    messages a second (429 beyond); prints the rate achieved as % of the limit, the 429s,
    and the most messages in any one-second window.

(a) and (b) run on a SQLite file (WAL), as one Guyub process does in production.

    .venv/bin/python bench/delivery.py [--rsvps 100000] [--drain 20000] [--drain-http 3000]
        [--shared 900]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import plugins.events
from adapters.telegram import TelegramAdapter
from adapters.telegram.testing import TOKEN
from adapters.telegram.testing import FakeBotApi as LoopbackBotApi
from core import (
    ChatRef,
    FakeClock,
    Message,
    MessageRef,
    Outgoing,
    Recipient,
    SystemClock,
    UserRef,
)
from core.outbox.models import Delivery
from core.testing import TEST_START, MemoryAdapter, make_app, test_settings
from plugins.events._service import REMIND_KIND
from plugins.events.models import Event
from tests.core.outbox.loopback import FakeBotApi, most_in_window

RATE_WORKER = Path(__file__).resolve().parent.parent / "tests/core/outbox/rate_worker.py"


@dataclass(eq=False)
class Sink(MemoryAdapter):
    """Accepts every message and keeps nothing (an unlimited platform)."""

    count: int = 0

    async def send_dm(self, user: UserRef, message: Outgoing) -> MessageRef:
        self.count += 1
        return MessageRef(ChatRef(self.platform, user.id), "1")

    async def send(self, chat: ChatRef, message: Outgoing, *, reply_to=None) -> MessageRef:  # type: ignore[no-untyped-def]
        self.count += 1
        return MessageRef(chat, "1")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def seed(app, n: int, event_id: int) -> None:  # type: ignore[no-untyped-def]
    """Members, Telegram accounts (open for DMs) and RSVPs straight into SQLite."""
    db = app.database.context.db("default")
    now = TEST_START.isoformat()
    for lo in range(1, n + 1, 50_000):
        ids = range(lo, min(n, lo + 49_999) + 1)
        await db.execute_many(
            "INSERT INTO core_member (id, display_name, language, region_code, created_at)"
            " VALUES (?, ?, ?, '11.08', ?)",
            [[i, f"alumni {i}", "id" if i % 5 else "en", now] for i in ids],
        )
        await db.execute_many(
            "INSERT INTO core_account (id, platform, platform_user_id, member_id, display_name,"
            " dm_open, created_at) VALUES (?, 'tg', ?, ?, '', 1, ?)",
            [[i, str(1_000_000 + i), i, now] for i in ids],
        )
        await db.execute_many(
            "INSERT INTO events_rsvp (event_id, member_id, status, waitlisted, created_at,"
            " updated_at) VALUES (?, ?, 'going', 0, ?, ?)",
            [[event_id, i, now, now] for i in ids],
        )


async def enqueue(rsvps: int, folder: Path) -> None:
    clock = FakeClock(TEST_START)
    sink = Sink("tg")
    settings = test_settings(database={"url": f"sqlite://{folder}/enqueue.sqlite3"})
    async with make_app(
        adapters=[sink],
        clock=clock,
        settings=settings,
        plugins=[plugins.events],
        discover_plugins=False,
    ) as app:
        start = TEST_START + timedelta(days=1)
        event = await Event.create(title="Temu alumni", region_code="11.08", starts_at=start)
        await seed(app, rsvps, event.id)
        due = start - timedelta(hours=1)
        payload = {"event": event.id, "minutes": 60, "start": int(start.timestamp())}
        await app.scheduler.schedule(REMIND_KIND, due, payload, key="bench:remind")
        clock.set(due)
        rss_before = peak_rss_mib()
        began = time.perf_counter()
        await app.scheduler.run_due()
        took = time.perf_counter() - began
        stored = await Delivery.all().count()
    print(f"(a) reminder job for {rsvps:,} RSVPs: {took:.2f} s, {stored:,} deliveries stored")
    print(f"    {stored / took:,.0f} deliveries/s enqueued; nothing sent by the job itself")
    print(f"    peak RSS {peak_rss_mib():.0f} MiB (peak before the job {rss_before:.0f} MiB)")


async def drain(n: int, folder: Path, concurrency: int, chunk: int) -> None:
    clock = FakeClock(TEST_START)
    sink = Sink("tg")
    settings = test_settings(
        database={"url": f"sqlite://{folder}/drain-{concurrency}.sqlite3"},
        outbox={"concurrency": concurrency, "chunk_size": chunk},
    )
    recipients = [Recipient("tg", str(1_000_000 + i)) for i in range(n)]
    async with make_app(
        adapters=[sink], clock=clock, settings=settings, discover_plugins=False
    ) as app:
        out = await app.render(Message.of("Pengingat: temu alumni besok"))
        await app.outbox.enqueue("bench", out, recipients)
        began = time.perf_counter()
        await app.outbox.run_due()
        outbox_s = time.perf_counter() - began
        assert sink.count == n, sink.count
        sink.count = 0
        began = time.perf_counter()
        for r in recipients:
            await sink.send_dm(UserRef("tg", r.target), out)
        plain_s = time.perf_counter() - began
    print(f"(b) drain of {n:,} deliveries, unlimited platform, concurrency {concurrency}:")
    print(f"    outbox {n / outbox_s:,.0f}/s, plain send loop {n / plain_s:,.0f}/s")
    print(f"    ratio outbox / plain loop: {plain_s / outbox_s:.4f}")


async def drain_http(n: int, folder: Path, concurrency: int) -> None:
    unlimited = {
        "overall_per_second": 1e9,
        "per_chat_per_second": 1e9,
        "per_group_per_minute": 1e9,
        "dm_per_second": 1e9,
    }
    recipients = [Recipient("telegram", str(1_000_000 + i)) for i in range(n)]
    async with LoopbackBotApi() as api:
        settings = test_settings(
            database={"url": f"sqlite://{folder}/drain-http-{concurrency}.sqlite3"},
            telegram={"token": TOKEN, "api_base_url": api.root},
            outbox={
                "concurrency": concurrency,
                "chunk_size": 1000,
                "poll_interval": 0.05,
                "rate_limits": {"telegram": unlimited},
            },
        )
        adapter = TelegramAdapter(settings)
        async with make_app(
            adapters=[adapter], clock=SystemClock(), settings=settings, discover_plugins=False
        ) as app:
            runner = asyncio.create_task(app.run(install_signal_handlers=False))
            try:
                await api.wait_for("getUpdates")
                out = await app.render(Message.of("Pengingat: temu alumni besok"))
                before = len(api.called("sendMessage"))
                began = time.perf_counter()
                await app.outbox.enqueue("bench", out, recipients)
                while len(api.called("sendMessage")) - before < n:  # noqa: ASYNC110 - the server records
                    await asyncio.sleep(0.02)
                outbox_s = time.perf_counter() - began
                began = time.perf_counter()
                for r in recipients:
                    await adapter.send_dm(UserRef("telegram", r.target), out)
                plain_s = time.perf_counter() - began
                assert len(api.called("sendMessage")) - before == 2 * n
            finally:
                app.request_stop()
                await runner
    print(
        f"(b-http) drain of {n:,} DMs through python-telegram-bot over loopback HTTP,"
        f" no rate limit, concurrency {concurrency}:"
    )
    print(f"    outbox {n / outbox_s:,.0f}/s, plain adapter send loop {n / plain_s:,.0f}/s")
    print(f"    ratio outbox / plain loop: {plain_s / outbox_s:.4f}")


async def shared(n: int, limit: int = 30, workers: int = 3) -> None:
    api = FakeBotApi(limit=limit)
    url = await api.start()
    try:
        async with make_app(discover_plugins=False) as app:
            recipients = [Recipient("tg", str(1_000_000 + i)) for i in range(n)]
            await app.outbox.enqueue("bench", Message.of("Pengingat"), recipients)
            procs = [
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    str(RATE_WORKER),
                    app.settings.database.url,
                    url,
                    "--rate",
                    str(limit),
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                )
                for _ in range(workers)
            ]
            leases = 0
            for proc in procs:
                out, err = await proc.communicate()
                if proc.returncode:
                    raise SystemExit(err.decode()[-2000:])
                done = json.loads(out.decode().strip().splitlines()[-1])
                print("   ", done)
                leases += done["leases"]
    finally:
        await api.stop()
    arrived = sorted(t for t, _, _ in api.received)
    rate = (len(arrived) - 1) / (arrived[-1] - arrived[0])
    print(f"(c) {n:,} DMs, {workers} worker processes on PostgreSQL, fake API at {limit}/s:")
    print(
        f"    achieved {rate:.2f}/s = {100 * rate / limit:.1f}% of the limit; 429s: {api.refusals}"
    )
    print(
        f"    most in any 1 s window: {most_in_window(api.times(), 1.0)} as sent,"
        f" {most_in_window(arrived, 1.0)} as arrived; {leases} slot leases"
        f" ({len(arrived) / max(1, leases):.1f} sends per lease)"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rsvps", type=int, default=100_000)
    parser.add_argument("--drain", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, nargs="*", default=[8, 64])
    parser.add_argument("--chunk", type=int, default=1000)
    parser.add_argument("--drain-http", type=int, default=3000)
    parser.add_argument("--shared", type=int, default=900)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        if args.rsvps:
            await enqueue(args.rsvps, Path(tmp))
        for concurrency in args.concurrency:
            await drain(args.drain, Path(tmp), concurrency, args.chunk)
        if args.drain_http:
            await drain_http(args.drain_http, Path(tmp), 8)
    if args.shared and os.environ.get("GUYUB_TEST_POSTGRES_URL"):
        await shared(args.shared)
    elif args.shared:
        print("(c) skipped: set GUYUB_TEST_POSTGRES_URL to a PostgreSQL server")


if __name__ == "__main__":
    asyncio.run(main())
