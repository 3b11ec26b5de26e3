"""The durable scheduler: due jobs run once, in order; retries back off; failures are kept."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from core import App, FakeClock, JobContext, JobKind, PluginInfo, Settings, hookimpl
from core._db import throwaway_url
from core.models import Job
from core.testing import TEST_START, Restarts, make_app, test_settings


class Recorder:
    """A plugin whose jobs record what ran (and can be told to fail)."""

    PLUGIN = PluginInfo(name="recorder")

    def __init__(self) -> None:
        self.ran: list[tuple[str, object]] = []
        self.fail_times = 0

    async def note(self, job: JobContext) -> None:
        self.ran.append((job.job.kind, job.payload.get("n")))

    async def flaky(self, job: JobContext) -> None:
        if self.fail_times > 0:
            self.fail_times -= 1
            raise RuntimeError("platform down")
        self.ran.append(("flaky", job.job.attempts))

    @hookimpl
    def guyub_register_jobs(self) -> list[JobKind]:
        return [
            JobKind("rec:note", self.note),
            JobKind("rec:flaky", self.flaky, max_attempts=3),
            JobKind("rec:strict", self.note, late_after=60),
        ]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def app(recorder: Recorder, clock: FakeClock) -> AsyncIterator[App]:
    async with make_app(plugins=[recorder], discover_plugins=False, clock=clock) as running:
        yield running


async def test_jobs_run_when_due_in_order(app: App, recorder: Recorder, clock: FakeClock) -> None:
    now = clock.now()
    await app.scheduler.schedule("rec:note", now + timedelta(hours=2), {"n": 2})
    await app.scheduler.schedule("rec:note", now + timedelta(hours=1), {"n": 1})
    assert await app.scheduler.run_due() == 0
    await app.advance_clock(now + timedelta(hours=3))
    assert recorder.ran == [("rec:note", 1), ("rec:note", 2)]
    assert await Job.filter(status="done").count() == 2


async def test_advance_clock_runs_each_job_at_its_time(app: App, clock: FakeClock) -> None:
    seen: list[object] = []

    async def stamp(job: JobContext) -> None:
        seen.append(job.now())

    app.scheduler.register(JobKind("rec:stamp", stamp))
    due = clock.now() + timedelta(minutes=30)
    await app.scheduler.schedule("rec:stamp", due)
    await app.advance_clock(clock.now() + timedelta(hours=2))
    assert seen == [due]


async def test_key_moves_a_pending_job_and_never_reruns_a_done_one(
    app: App, recorder: Recorder, clock: FakeClock
) -> None:
    now = clock.now()
    await app.scheduler.schedule("rec:note", now + timedelta(hours=1), {"n": 1}, key="k")
    await app.scheduler.schedule("rec:note", now + timedelta(hours=5), {"n": 5}, key="k")
    assert await Job.filter(kind="rec:note").count() == 1
    await app.advance_clock(now + timedelta(hours=2))
    assert recorder.ran == []
    await app.advance_clock(now + timedelta(hours=6))
    assert recorder.ran == [("rec:note", 5)]
    await app.scheduler.schedule("rec:note", now + timedelta(hours=7), {"n": 7}, key="k")
    await app.advance_clock(now + timedelta(hours=8))
    assert recorder.ran == [("rec:note", 5)]


async def test_cancel_and_cancel_prefix(app: App, recorder: Recorder, clock: FakeClock) -> None:
    now = clock.now()
    for i in range(3):
        await app.scheduler.schedule(
            "rec:note", now + timedelta(minutes=i + 1), {"n": i}, key=f"event:7:{i}"
        )
    await app.scheduler.schedule("rec:note", now + timedelta(minutes=5), {"n": 9}, key="other")
    assert await app.scheduler.cancel("event:7:0")
    assert await app.scheduler.cancel_prefix("event:7:") == 2
    await app.advance_clock(now + timedelta(hours=1))
    assert recorder.ran == [("rec:note", 9)]


async def test_retries_back_off_then_succeed(
    app: App, recorder: Recorder, clock: FakeClock
) -> None:
    recorder.fail_times = 2
    now = clock.now()
    job = await app.scheduler.schedule("rec:flaky", now)
    await app.run_pending()
    await job.refresh_from_db()
    assert job.status == "pending"
    assert job.last_error == "RuntimeError: platform down"
    first_retry = job.due_at - now
    assert first_retry == timedelta(seconds=app.settings.scheduler.retry_base_seconds)
    await app.advance_clock(job.due_at)
    await job.refresh_from_db()
    assert job.due_at - clock.now() == 2 * first_retry  # exponential backoff
    await app.advance_clock(job.due_at)
    await job.refresh_from_db()
    assert job.status == "done"
    assert recorder.ran == [("flaky", 3)]


async def test_a_job_that_keeps_failing_ends_failed_with_its_error(
    app: App, recorder: Recorder, clock: FakeClock
) -> None:
    recorder.fail_times = 99
    job = await app.scheduler.schedule("rec:flaky", clock.now())
    await app.advance_clock(clock.now() + timedelta(days=1))
    await job.refresh_from_db()
    assert job.status == "failed"
    assert job.attempts == 3
    assert "platform down" in (job.last_error or "")


async def test_unknown_kind_is_refused(app: App, clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="unknown job kind"):
        await app.scheduler.schedule("nobody:handles", clock.now())


async def test_naive_datetimes_are_refused(app: App) -> None:
    from datetime import datetime

    with pytest.raises(ValueError, match="timezone-aware"):
        await app.scheduler.schedule("rec:note", datetime(2026, 11, 23, 10, 0))


async def test_missed_jobs_run_once_on_start_and_too_late_ones_are_dropped(
    tmp_path: Path, recorder: Recorder
) -> None:
    """Jobs that fell due while the bot was down run once when it starts again; a kind with
    ``late_after`` drops jobs found later than that."""
    settings = _file_settings(tmp_path)
    clock = FakeClock(TEST_START)
    lives = Restarts(settings, clock=clock, discover_plugins=False)
    async with lives.app(recorder) as app:
        await app.scheduler.schedule("rec:note", TEST_START + timedelta(hours=1), {"n": 1})
        await app.scheduler.schedule("rec:strict", TEST_START + timedelta(hours=1), {"n": 2})
    clock.advance(timedelta(hours=5))  # the bot was down meanwhile
    async with lives.app(recorder) as app:
        await app.run_pending()
        await app.run_pending()
        assert recorder.ran == [("rec:note", 1)]
        late = await Job.get(kind="rec:strict")
        assert late.status == "late"
    async with lives.app(recorder, last=True) as app:
        await app.run_pending()
    assert recorder.ran == [("rec:note", 1)]


def _file_settings(tmp_path: Path) -> Settings:
    base = os.environ.get("GUYUB_TEST_POSTGRES_URL")
    if base:
        # Same server, one database shared by the successive Apps of the test.
        url = throwaway_url(base)
        return test_settings(database={"url": url})
    return test_settings(database={"url": f"sqlite://{tmp_path}/guyub.sqlite3"})


async def test_schedule_many_writes_a_thousand_jobs_per_statement(
    app: App, recorder: Recorder, clock: FakeClock
) -> None:
    from core import Scheduled
    from tests.core.sql_trace import statements

    due = clock.now() + timedelta(hours=1)
    with statements() as sent:
        count = await app.scheduler.schedule_many(
            Scheduled("rec:note", due + timedelta(seconds=i), {"n": i}, key=f"k{i}")
            for i in range(2500)
        )
    assert count == 2500
    inserts = [s for s in sent if s.startswith("INSERT INTO core_job")]
    assert len(inserts) == 3
    assert await Job.filter(kind="rec:note").count() == 2500
    # Keys keep their meaning: a pending job moves, a done one stays done.
    await app.advance_clock(due)
    assert recorder.ran == [("rec:note", 0)]
    await app.scheduler.schedule_many(
        [
            Scheduled("rec:note", due + timedelta(minutes=5), {"n": "again"}, key="k0"),
            Scheduled("rec:note", due + timedelta(minutes=5), {"n": "moved"}, key="k1"),
            Scheduled("rec:note", due + timedelta(minutes=9), {"n": "later"}, key="k1"),
        ]
    )
    assert (await Job.get(idempotency_key="k0")).status == "done"
    moved = await Job.get(idempotency_key="k1")
    assert moved.payload == {"n": "later"}
    assert moved.due_at == due + timedelta(minutes=9)
    assert await Job.filter(kind="rec:note").count() == 2500


async def test_a_batch_is_claimed_and_finished_in_one_statement_each(
    app: App, recorder: Recorder, clock: FakeClock
) -> None:
    from core import Scheduled
    from tests.core.sql_trace import statements

    await app.scheduler.schedule_many(
        Scheduled("rec:note", clock.now() - timedelta(seconds=1), {"n": i}) for i in range(120)
    )
    with statements() as sent:
        assert await app.scheduler.run_due() == 120
    claims = [s for s in sent if s.startswith("UPDATE core_job SET status = 'running'")]
    finishes = [s for s in sent if s.startswith('UPDATE "core_job" SET "status"=') and " IN " in s]
    pending = [s for s in claims if "status = 'pending'" in s]
    assert len(pending) == 4  # 50 + 50 + 20, then one that finds nothing
    # Expired leases are looked for only when a batch is not full (20, then nothing).
    assert len(claims) - len(pending) == 2
    assert len(finishes) == 3
    assert [n for _, n in recorder.ran] == list(range(120))
    assert await Job.filter(status="done").count() == 120


async def test_jobs_of_a_batch_run_side_by_side(app: App, clock: FakeClock) -> None:
    import asyncio

    started: list[int] = []
    gate = asyncio.Event()

    async def slow(job: JobContext) -> None:
        started.append(job.payload["n"])
        if len(started) == 4:
            gate.set()
        await gate.wait()  # only returns once all four are running at the same time

    app.scheduler.register(JobKind("rec:slow", slow))
    for i in range(4):
        await app.scheduler.schedule("rec:slow", clock.now(), {"n": i})
    assert await asyncio.wait_for(app.scheduler.run_due(concurrency=4), 10) == 4
    assert sorted(started) == [0, 1, 2, 3]
    assert await Job.filter(status="done").count() == 4


async def test_a_slow_job_does_not_hold_back_the_next_batches(make_app) -> None:  # type: ignore[no-untyped-def]
    """The next batch is claimed while a batch's jobs wait or run: the first job waits for
    one in the third batch (batches of two), which a batch-by-batch loop never claims."""
    import asyncio

    ran: list[int] = []
    last = asyncio.Event()

    async def job(ctx: JobContext) -> None:
        n = ctx.payload["n"]
        if n == 0:
            await last.wait()
        if n == 4:
            last.set()
        ran.append(n)

    async with make_app(discover_plugins=False, scheduler={"batch_size": 2}) as app:
        app.scheduler.register(JobKind("rec:chain", job))
        now = app.clock.now()
        for i in range(5):
            await app.scheduler.schedule("rec:chain", now - timedelta(seconds=5 - i), {"n": i})
        assert await asyncio.wait_for(app.scheduler.run_due(concurrency=4), 10) == 5
        assert ran[-1] == 0
        assert sorted(ran) == [0, 1, 2, 3, 4]
        assert await Job.filter(status="done").count() == 5
