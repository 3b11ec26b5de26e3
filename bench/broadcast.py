"""Benchmark: a broadcast to all of Aceh's 440,287 alumni through the core outbox.

1. Plan: count the audience (one account per member, DM reachability) and create the
   deliveries the way /broadcast does (``plugins.captains._broadcast``: one
   ``INSERT ... SELECT`` choosing one account per member) — wall time and the peak resident
   memory it added; beside it, in the same run, the way it was planned before (every
   account read into Python, a recipient object per member, inserted in chunks).
2. Drain against an unlimited fake platform — deliveries per second of outbox overhead
   (claim, mark, send, record), beside a plain loop calling the same fake send, as a ratio.
3. Drain against a fake platform enforcing 30 messages/s with 429s, in simulated time (the
   outbox paces on the app's fake clock, so four hours of sending take seconds) — the
   achieved rate as a share of the limit, and the 429s received.

Run: ``.venv/bin/python bench/broadcast.py`` (a SQLite file in a temporary folder; about a
minute), or ``--database postgres://postgres@127.0.0.1:5432/test`` (a throw-away database on
that server). One database kind per process: tortoise keeps per-dialect query caches.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import (
    Account,
    Capability,
    ChatRef,
    FakeClock,
    Message,
    MessageRef,
    Outgoing,
    RateLimits,
    Recipient,
    RetryAfter,
    UserRef,
    in_areas,
)
from core._db import throwaway_url
from core.testing import ALL_CAPABILITIES, TEST_START, MemoryAdapter, make_app
from plugins.captains._broadcast import audience_of, plan
from plugins.captains.models import Broadcast

ACEH = 440_287
DRAIN_SAMPLE = int(os.environ.get("BENCH_DRAIN", "20000"))
PACED_SAMPLE = int(os.environ.get("BENCH_PACED", "3000"))
REGIONS = ["11.01", "11.02", "11.03", "11.08", "11.11", "11.17", "11.71", "11.73"]


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


@dataclass(eq=False)
class Thirty(Sink):
    """Refuses with 429 beyond 30 messages per second (token bucket of 30)."""

    clock: FakeClock | None = None
    refusals: int = 0
    first: float | None = None
    last: float = 0.0
    tokens: float = 30.0
    at: float | None = None

    async def send_dm(self, user: UserRef, message: Outgoing) -> MessageRef:
        assert self.clock is not None
        now = self.clock.now().timestamp()
        if self.at is not None:
            self.tokens = min(30.0, self.tokens + (now - self.at) * 30.0)
        self.at = now
        if self.tokens < 1:
            self.refusals += 1
            raise RetryAfter(1.0)
        self.tokens -= 1
        self.first = now if self.first is None else self.first
        self.last = now
        return await super().send_dm(user, message)


async def seed(app, n: int) -> None:  # type: ignore[no-untyped-def]
    """Members and Telegram accounts straight into the database; a quarter never started
    the bot."""
    db = app.database.context.db("default")
    postgres = app.database.dialect == "postgres"
    now = TEST_START if postgres else TEST_START.isoformat()

    def marks(count: int) -> str:
        return ", ".join(f"${i}" if postgres else "?" for i in range(1, count + 1))

    for lo in range(1, n + 1, 50_000):
        ids = range(lo, min(n, lo + 49_999) + 1)
        await db.execute_many(
            "INSERT INTO core_member (id, display_name, language, region_code, created_at)"
            f" VALUES ({marks(5)})",
            [[i, f"alumni {i}", "id", REGIONS[i % len(REGIONS)], now] for i in ids],
        )
        await db.execute_many(
            "INSERT INTO core_account (id, platform, platform_user_id, member_id, display_name,"
            f" dm_open, created_at) VALUES ({marks(7)})",
            [[i, "tg", str(1_000_000 + i), i, "", i % 4 != 0, now] for i in ids],
        )
    if postgres:
        # Rows loaded behind the planner's back: let it see them (as a restore would).
        await db.execute_script("ANALYZE core_member; ANALYZE core_account")


def rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


async def old_way(app, codes: list[str]) -> int:  # type: ignore[no-untyped-def]
    """Planning as it was before: every account in the areas read into Python, one account
    chosen per member there, a Recipient each, inserted in chunks (the baseline)."""
    rows = (
        await Account.filter(in_areas(codes, prefix="member__"))
        .order_by("member_id", "id")
        .values_list("id", "member_id", "platform", "platform_user_id", "dm_open")
    )
    recipients: list[Recipient] = []
    current: list[tuple[object, ...]] = []

    def add(accounts: list[tuple[object, ...]]) -> None:
        best = min(accounts, key=lambda row: (not row[4], row[0]))
        recipients.append(
            Recipient(
                str(best[2]), str(best[3]), account_id=int(str(best[0])), reachable=bool(best[4])
            )
        )

    for row in rows:
        if current and current[0][1] != row[1]:
            add(current)
            current = []
        current.append(tuple(row))
    if current:
        add(current)
    batch = await app.outbox.enqueue("bench-old", Message.of("Temu alumni"), recipients)
    return batch.total


async def planning(url: str) -> None:
    clock = FakeClock(TEST_START)
    sink = Sink("tg", caps=ALL_CAPABILITIES - {Capability.DM_WITHOUT_START})
    async with make_app(adapters=[sink], clock=clock, database={"url": url}) as app:
        started = time.perf_counter()
        await seed(app, ACEH)
        print(f"seed {ACEH:,} members + accounts: {time.perf_counter() - started:.1f} s")

        before = current_rss_mib()
        started = time.perf_counter()
        audience = await audience_of(app, ["11"])
        found = time.perf_counter() - started
        broadcast = await Broadcast.create(
            sender_id=None, regions=["11"], lang="id", mode="dms", created_at=clock.now()
        )
        batch = await plan(app, broadcast, audience, Message.of("Temu alumni"))
        planned = time.perf_counter() - started
        peak = rss_mib() - before
        unreachable = sum(audience.unreachable.values())
        print(
            f"plan: {batch.total:,} deliveries ({unreachable:,} unreachable by DM) in "
            f"{planned:.1f} s (audience counted {found:.1f} s, INSERT ... SELECT "
            f"{planned - found:.1f} s); peak memory +{peak:.0f} MiB RSS over the "
            f"{before:.0f} MiB before planning (goals: <= 10 s, <= 300 MB)"
        )

        started = time.perf_counter()
        done = await app.outbox.run_due(limit=DRAIN_SAMPLE)
        outbox_rate = done / (time.perf_counter() - started)

        baseline = Sink("tg")
        out = Outgoing(Message.of("Temu alumni").text)
        started = time.perf_counter()
        for i in range(DRAIN_SAMPLE):
            await baseline.send_dm(UserRef("tg", str(i)), out)
        plain_rate = DRAIN_SAMPLE / (time.perf_counter() - started)
        print(
            f"drain (unlimited fake, {done:,} deliveries): outbox {outbox_rate:,.0f}/s, "
            f"plain send loop {plain_rate:,.0f}/s, ratio {outbox_rate / plain_rate:.4f} "
            f"(at 30/s Telegram needs {ACEH / 30 / 3600:.1f} h; the outbox alone "
            f"{ACEH / outbox_rate / 60:.1f} min)"
        )

        before_old = current_rss_mib()
        started = time.perf_counter()
        total = await old_way(app, ["11"])
        old_seconds = time.perf_counter() - started
        print(
            f"baseline, planned through Python as before: {total:,} deliveries in "
            f"{old_seconds:.1f} s, {current_rss_mib() - before_old:+.0f} MiB RSS still held "
            f"after it; ratio INSERT ... SELECT / Python {planned / old_seconds:.2f}x the time"
        )


async def paced() -> None:
    clock = FakeClock(TEST_START)
    fake = Thirty("tg", clock=clock, limits=RateLimits(30, 1, 20, 30))
    async with make_app(adapters=[fake], clock=clock, discover_plugins=False) as app:
        recipients = [Recipient("tg", str(i)) for i in range(PACED_SAMPLE)]
        await app.outbox.enqueue("bench", Message.of("Temu alumni"), recipients)
        started = time.perf_counter()
        await app.outbox.run_due()
        wall = time.perf_counter() - started
    assert fake.first is not None
    achieved = (fake.count - 1) / (fake.last - fake.first)
    print(
        f"paced (fake platform enforcing 30/s, {fake.count:,} sent in "
        f"{fake.last - fake.first:.0f} simulated s, {wall:.1f} s wall): "
        f"{achieved:.2f}/s = {achieved / 30:.1%} of the limit, {fake.refusals} × 429"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database", default="", help="postgres://... (default: SQLite file)")
    args = parser.parse_args()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    with tempfile.TemporaryDirectory() as folder:
        if args.database.startswith(("postgres://", "postgresql://")):
            url = throwaway_url(args.database)
        else:
            url = args.database or f"sqlite://{folder}/bench.sqlite3"
        kind = "PostgreSQL" if url.startswith("postgres") else "SQLite"
        print(f"machine: {os.cpu_count()} CPUs (shared with other sessions), {kind}, load {load}")
        await planning(url)
    if kind == "SQLite":  # the pacing part runs on an in-memory SQLite either way
        await paced()


if __name__ == "__main__":
    asyncio.run(main())
