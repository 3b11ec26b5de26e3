"""Benchmark: the delivery layer.

(a) Enqueue: one event with RSVPS members going, its reminder job run once. The job only
    stores durable deliveries (one batch per language and zone); prints the job's time,
    rows per second and the process's peak RSS before and after the job.
(b) Drain: DRAIN deliveries drained by the outbox against an unlimited in-memory platform,
    against a plain ``await send_dm(...)`` loop over the same recipients in the same run;
    prints deliveries/s of each and the ratio outbox / plain loop.

Runs on a SQLite file (WAL), as one Guyub process does in production.

    .venv/bin/python bench/delivery.py [--rsvps 100000] [--drain 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import plugins.events
from core import (
    ChatRef,
    FakeClock,
    Message,
    MessageRef,
    Outgoing,
    Recipient,
    UserRef,
)
from core.outbox.models import Delivery
from core.testing import TEST_START, MemoryAdapter, make_app, test_settings
from plugins.events._service import REMIND_KIND
from plugins.events.models import Event


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


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rsvps", type=int, default=100_000)
    parser.add_argument("--drain", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, nargs="*", default=[8, 64])
    parser.add_argument("--chunk", type=int, default=1000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        if args.rsvps:
            await enqueue(args.rsvps, Path(tmp))
        for concurrency in args.concurrency:
            await drain(args.drain, Path(tmp), concurrency, args.chunk)


if __name__ == "__main__":
    asyncio.run(main())
