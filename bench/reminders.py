"""Benchmark: event reminders through Guyub's durable scheduler vs python-telegram-bot's
in-memory JobQueue (APScheduler), the usual way Telegram bots schedule reminders.

Load: REMINDERS reminders across EVENTS events (one per member of each event), each with an
idempotency key like the events plugin's. For each scheduler it prints:

* jobs/s scheduled (``schedule_many`` with keys on the core; ``run_once`` on PTB);
* p50/p99 lateness of firing: every job falls due in a WINDOW-second burst on the real clock
  and the handler records ``now - due`` (so a scheduler that can't keep up shows it);
* peak traced memory (tracemalloc) while scheduling and firing;

and the ratios core/PTB. The core runs on a SQLite file (WAL), as one Guyub process does in
production, or on PostgreSQL with ``--database postgres://...`` (one database per run);
it writes every job to the database, the JobQueue keeps them in memory and loses them on
restart.

    .venv/bin/python bench/reminders.py [--n 100000] [--memory-n 20000] [--window 50]
    .venv/bin/python bench/reminders.py --database postgres://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from core import App, JobContext, JobKind, PluginInfo, SystemClock, hookimpl
from core.testing import test_settings as settings_for_tests

REMINDERS = 100_000
EVENTS = 1_000


@dataclass
class Result:
    name: str
    jobs: int
    schedule_seconds: float
    fire_seconds: float
    lateness: list[float]
    peak_bytes: int

    @property
    def scheduled_per_second(self) -> float:
        return self.jobs / self.schedule_seconds

    def p(self, q: float) -> float:
        ordered = sorted(self.lateness)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")

    def show(self) -> None:
        fired = len(self.lateness)
        print(
            f"{self.name:<28} jobs={self.jobs:>7}"
            f"  scheduled {self.scheduled_per_second:>9,.0f} jobs/s"
            f"  fired {fired:>7} in {self.fire_seconds:6.1f}s"
            f"  lateness p50 {self.p(0.5) * 1000:8.1f} ms  p99 {self.p(0.99) * 1000:9.1f} ms"
        )


def due_times(n: int, start: datetime, window: float) -> list[datetime]:
    return [start + timedelta(seconds=window * i / n) for i in range(n)]


# --- the core's durable scheduler ---------------------------------------------------------


class BenchPlugin:
    PLUGIN = PluginInfo(name="bench")

    def __init__(self, lateness: list[float], clock: Callable[[], datetime], n: int) -> None:
        self.lateness = lateness
        self.now = clock
        self.n = n
        self.all_fired = asyncio.Event()

    @hookimpl
    def guyub_register_jobs(self) -> list[JobKind]:
        async def remind(job: JobContext) -> None:
            self.lateness.append((self.now() - job.due_at).total_seconds())
            if len(self.lateness) >= self.n:
                self.all_fired.set()

        return [JobKind("bench:remind", remind)]


async def run_core(
    n: int, window: float, url: str, name: str, *, trace: bool = False, one_by_one: bool = False
) -> Result:
    from core import Scheduled
    from core.models import Job

    clock = SystemClock()
    lateness: list[float] = []
    settings = settings_for_tests(
        database={"url": url},
        scheduler={"poll_interval": 0.05, "batch_size": 500},
    )
    server = not url.startswith("sqlite")
    app = App(
        settings,
        clock=clock,
        plugins=[bench := BenchPlugin(lateness, clock.now, n)],
        discover_plugins=False,
        schema="create",
        create_database=server,
        drop_database=server,
    )
    per_event = max(1, n // EVENTS)
    # The jobs fall due from a little after scheduling ends, in real time.
    async with app:
        if trace:
            tracemalloc.start()
        started = time.perf_counter()
        if one_by_one:
            base = clock.now() + timedelta(seconds=3600)
            for i, due in enumerate(due_times(n, base, window)):
                event, member = divmod(i, per_event)
                await app.scheduler.schedule(
                    "bench:remind",
                    due,
                    {"event": event, "member": member},
                    key=f"events:{event}:remind:{member}",
                )
        else:
            # Far enough ahead for scheduling to finish first, as for PTB below: a pilot of
            # 2% (due in a day, removed after) estimates how long scheduling takes here.
            pilot = max(1, n // 50)
            far = clock.now() + timedelta(days=1)
            t0 = time.perf_counter()
            await app.scheduler.schedule_many(
                Scheduled("bench:remind", far, {"pilot": i}, key=f"pilot:{i}") for i in range(pilot)
            )
            estimate = (time.perf_counter() - t0) * (n / pilot)
            await Job.filter(idempotency_key__startswith="pilot:").delete()
            started = time.perf_counter()
            base = clock.now() + timedelta(seconds=max(2.0, 2 * estimate + 1))
            await app.scheduler.schedule_many(
                Scheduled(
                    "bench:remind",
                    due,
                    {"event": i // per_event, "member": i % per_event},
                    key=f"events:{i // per_event}:remind:{i % per_event}",
                )
                for i, due in enumerate(due_times(n, base, window))
            )
        scheduled = time.perf_counter() - started
        if not one_by_one and clock.now() > base:
            late = (clock.now() - base).total_seconds()
            print(f"  ({name}: scheduling overran its start by {late:.1f}s)")
        if one_by_one:
            clock.set(base - timedelta(seconds=0.2))  # type: ignore[attr-defined]
        started = time.perf_counter()
        idle = max(0.0, (base - clock.now()).total_seconds())  # until the first falls due
        worker = asyncio.create_task(app.scheduler.run_forever())
        while not bench.all_fired.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(bench.all_fired.wait(), timeout=0.1)
        fired = max(time.perf_counter() - started - idle, 1e-9)
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
        _, peak = tracemalloc.get_traced_memory() if trace else (0, 0)
        tracemalloc.stop()
    return Result(name, n, scheduled, fired, lateness, peak)


# --- python-telegram-bot's JobQueue (APScheduler, in memory) ------------------------------


async def run_ptb(n: int, window: float, *, trace: bool = False) -> Result:
    from telegram.ext import ApplicationBuilder, CallbackContext

    lateness: list[float] = []
    all_fired = asyncio.Event()

    async def remind(context: CallbackContext[Any, Any, Any, Any]) -> None:
        job = context.job
        assert job is not None
        lateness.append((datetime.now(UTC) - job.data).total_seconds())
        if len(lateness) >= n:
            all_fired.set()

    application = ApplicationBuilder().token("123:bench").build()
    queue = application.job_queue
    assert queue is not None
    per_event = max(1, n // EVENTS)
    # APScheduler uses the real clock and skips jobs more than a second late: schedule far
    # enough ahead to finish scheduling first (a pilot of 2% estimates how long that takes).
    pilot = max(1, n // 50)
    t0 = time.perf_counter()
    for i in range(pilot):
        queue.run_once(remind, 3600, data=datetime.now(UTC), name=f"pilot{i}")
    estimate = (time.perf_counter() - t0) * (n / pilot)
    application = ApplicationBuilder().token("123:bench").build()
    queue = application.job_queue
    assert queue is not None
    if trace:
        estimate *= 20  # tracemalloc slows APScheduler's bookkeeping down a lot
    base = datetime.now(UTC) + timedelta(seconds=max(2.0, 2 * estimate + 1))
    dues = due_times(n, base, window)
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    # Jobs added before start() wait in a list; start() files them in the job store.
    # misfire_grace_time=None: a job that is late still runs (and its lateness counts).
    for i, due in enumerate(dues):
        event, member = divmod(i, per_event)
        queue.run_once(
            remind,
            due,
            data=due,
            name=f"events:{event}:remind:{member}",
            job_kwargs={"misfire_grace_time": None},
        )
    await queue.start()
    scheduled = time.perf_counter() - started
    wait = (base - datetime.now(UTC)).total_seconds()
    if wait < 0:
        print(f"  (PTB scheduling overran its start by {-wait:.1f}s; late jobs may be skipped)")
    started = time.perf_counter()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(all_fired.wait(), timeout=max(0.0, wait) + window + 60)
    fired = time.perf_counter() - started - max(0.0, wait)
    _, peak = tracemalloc.get_traced_memory() if trace else (0, 0)
    tracemalloc.stop()
    await asyncio.sleep(0.2)  # let APScheduler's wrappers of the last jobs return
    await queue.stop(wait=True)
    return Result("PTB JobQueue (APScheduler)", n, scheduled, max(fired, 0.0), lateness, peak)


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=REMINDERS, help="jobs for the timing runs")
    parser.add_argument("--memory-n", type=int, default=20_000, help="jobs, memory runs")
    parser.add_argument(
        "--window", type=float, default=50.0, help="seconds the jobs fall due in (a burst)"
    )
    parser.add_argument(
        "--database",
        default="",
        help="the core's database URL (default: a SQLite file in a temporary folder); a "
        "postgres:// URL gets a throw-away database on that server",
    )
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # APScheduler logs every job cancelled at stop
    n = args.n
    print(f"reminders benchmark: {n:,} reminders across {EVENTS:,} events")
    print(
        f"machine: {os.cpu_count()} CPUs shared with other sessions, Python "
        f"{sys.version.split()[0]}; jobs fall due over {args.window:g}s on the real clock "
        f"({n / args.window:,.0f}/s)"
    )
    print("timing runs (no tracemalloc):")
    ptb = await run_ptb(n, args.window)
    ptb.show()
    runs = []
    # One database kind per process: tortoise keeps per-dialect query caches on the models.
    if args.database.startswith(("postgres://", "postgresql://")):
        from core._db import throwaway_url

        url = throwaway_url(args.database)
        runs.append(await run_core(n, args.window, url, "core, PostgreSQL"))
        runs[-1].show()
    else:
        with tempfile.TemporaryDirectory() as folder:
            url = args.database or f"sqlite://{Path(folder) / 'bench.sqlite3'}"
            runs.append(await run_core(n, args.window, url, "core, SQLite file"))
        runs[-1].show()
    print("memory runs (tracemalloc; jobs scheduled and fired):")
    window = args.window * args.memory_n / n  # the same arrival rate
    ptb_mem = await run_ptb(args.memory_n, window, trace=True)
    with tempfile.TemporaryDirectory() as folder:
        if url.startswith("sqlite"):
            url = f"sqlite://{Path(folder) / 'bench-memory.sqlite3'}"
        else:
            url = throwaway_url(args.database)
        core_mem = await run_core(args.memory_n, window, url, "core", trace=True)
    for result in (ptb_mem, core_mem):
        print(
            f"  {result.name:<26} {result.jobs:>7,} jobs"
            f"  peak {result.peak_bytes / 2**20:7.1f} MiB"
            f" ({result.peak_bytes / result.jobs:,.0f} bytes per job)"
        )
    ptb_fire = ptb.jobs / max(ptb.fire_seconds, 1e-9)
    for run in runs:
        print(f"ratios {run.name} / PTB JobQueue, same {n:,} jobs and due times:")
        print(f"  scheduling rate  {run.scheduled_per_second / ptb.scheduled_per_second:8.3f}x")
        print(f"  firing rate      {(run.jobs / run.fire_seconds) / ptb_fire:8.3f}x")
        print(
            f"  p99 lateness     {run.p(0.99) * 1000:8.1f} ms vs {ptb.p(0.99) * 1000:.1f} ms"
            " (goal <= 1000 ms)"
        )
    per_job = (core_mem.peak_bytes / core_mem.jobs) / (ptb_mem.peak_bytes / ptb_mem.jobs)
    print(f"  memory per job   {per_job:8.3f}x (core / PTB, peak traced while scheduling+firing)")


if __name__ == "__main__":
    asyncio.run(main())
