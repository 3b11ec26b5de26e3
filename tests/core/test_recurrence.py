"""Recurring jobs: occurrence times (every / cron, in a zone), one run per occurrence across
workers, missed occurrences skipped, series per region (core/_recurrence.py and the
scheduler's series)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core import App, FakeClock, JobContext, JobKind, PluginInfo, Settings, hookimpl
from core._db import throwaway_url
from core._recurrence import Cron, Recurrence
from core._scheduler import Scheduler
from core.models import Job
from core.testing import TEST_START, Restarts, make_app, test_settings

WIB = ZoneInfo("Asia/Jakarta")
WIT = ZoneInfo("Asia/Jayapura")


def _wib(*args: int) -> datetime:
    return datetime(*args, tzinfo=WIB)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("0 9 * * mon", _wib(2026, 11, 23, 10, 0), _wib(2026, 11, 30, 9, 0)),
        ("0 9 * * mon", _wib(2026, 11, 23, 8, 59), _wib(2026, 11, 23, 9, 0)),
        ("0 9 * * 1", _wib(2026, 11, 23, 9, 0), _wib(2026, 11, 30, 9, 0)),  # strictly after
        ("*/15 * * * *", _wib(2026, 11, 23, 10, 7), _wib(2026, 11, 23, 10, 15)),
        ("30 18 1 * *", _wib(2026, 11, 23, 10, 0), _wib(2026, 12, 1, 18, 30)),
        ("0 0 29 feb *", _wib(2026, 3, 1, 0, 0), _wib(2028, 2, 29, 0, 0)),
        ("0 7 1-7 * sun", _wib(2026, 11, 23, 10, 0), _wib(2026, 11, 29, 7, 0)),  # day OR weekday
        ("0 12 * 1,7 sat-sun", _wib(2026, 11, 23, 10, 0), _wib(2027, 1, 2, 12, 0)),
    ],
)
def test_cron_occurrences(expression: str, after: datetime, expected: datetime) -> None:
    assert Cron.parse(expression).next_after(after, WIB) == expected


def test_cron_runs_in_the_given_zone() -> None:
    rule = Cron.parse("0 9 * * *")
    # 09:00 WIT is 07:00 WIB.
    assert rule.next_after(_wib(2026, 11, 23, 6, 0), WIT) == _wib(2026, 11, 23, 7, 0)


@pytest.mark.parametrize(
    "bad", ["0 9 * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "*/0 * * * *", "a b c d e"]
)
def test_bad_cron_is_refused_when_the_kind_is_declared(bad: str) -> None:
    async def handler(job: JobContext) -> None:
        return None

    with pytest.raises(ValueError, match="cron"):
        JobKind("x", handler, cron=bad)


def test_every_counts_from_monday_midnight_local() -> None:
    weekly = Recurrence.of(timedelta(days=7), None)
    assert weekly is not None
    assert weekly.next_after(_wib(2026, 11, 23, 10, 0), WIB) == _wib(2026, 11, 30, 0, 0)
    hourly = Recurrence.of(3600, None)
    assert hourly is not None
    assert hourly.next_after(_wib(2026, 11, 23, 10, 0), WIB) == _wib(2026, 11, 23, 11, 0)
    with pytest.raises(ValueError, match="either"):
        Recurrence.of(60, "* * * * *")
    with pytest.raises(ValueError, match="one minute"):
        Recurrence.of(1, None)


class Digest:
    """A weekly digest (Mondays 09:00 WIB) and a per-region daily note."""

    PLUGIN = PluginInfo(name="digest")

    def __init__(self, late_after: float | None = None) -> None:
        self.ran: list[tuple[str | None, datetime, dict[str, object]]] = []
        self.late_after = late_after

    async def weekly(self, job: JobContext) -> None:
        await asyncio.sleep(0)  # let another worker try to take it meanwhile
        self.ran.append((job.series, job.due_at, dict(job.payload)))

    @hookimpl
    def guyub_register_jobs(self) -> list[JobKind]:
        return [
            JobKind("digest:weekly", self.weekly, cron="0 9 * * mon", late_after=self.late_after),
            JobKind("digest:daily", self.weekly, every=timedelta(days=1), autostart=False),
            JobKind("digest:once", self.weekly),
        ]


def _settings(tmp_path: Path) -> Settings:
    base = os.environ.get("GUYUB_TEST_POSTGRES_URL")
    if base:
        return test_settings(database={"url": throwaway_url(base)})
    return test_settings(database={"url": f"sqlite://{tmp_path}/guyub.sqlite3"})


@pytest.fixture
async def digest_app(clock: FakeClock) -> AsyncIterator[tuple[App, Digest]]:
    digest = Digest()
    async with make_app(plugins=[digest], discover_plugins=False, clock=clock) as app:
        yield app, digest


async def test_a_recurring_kind_runs_once_per_occurrence(
    digest_app: tuple[App, Digest], clock: FakeClock
) -> None:
    app, digest = digest_app
    # TEST_START is Monday 23 November 2026, 10:00 WIB: the first digest is next Monday.
    pending = await Job.get(kind="digest:weekly", status="pending")
    assert pending.due_at == _wib(2026, 11, 30, 9, 0)
    await app.advance_clock(TEST_START + timedelta(days=21))
    assert [when for _, when, _ in digest.ran] == [
        _wib(2026, 11, 30, 9, 0),
        _wib(2026, 12, 7, 9, 0),
        _wib(2026, 12, 14, 9, 0),
    ]
    assert digest.ran[0][0] == "default"
    assert digest.ran[0][2] == {}  # the bookkeeping stays out of the payload
    assert await Job.filter(kind="digest:weekly", status="pending").count() == 1


async def test_a_series_per_region_in_its_zone(
    digest_app: tuple[App, Digest], clock: FakeClock
) -> None:
    app, digest = digest_app
    await app.scheduler.start_series("digest:daily", "91", tz="Asia/Jayapura", payload={"r": "91"})
    again = await app.scheduler.start_series("digest:daily", "91", tz="Asia/Jayapura")
    assert again.due_at == datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # 00:00 WIT, once
    await app.advance_clock(TEST_START + timedelta(days=2))
    daily = [(s, when, p) for s, when, p in digest.ran if s == "91"]
    assert [when.astimezone(WIT).hour for _, when, _ in daily] == [0, 0]
    assert daily[0][2] == {"r": "91"}
    assert await app.scheduler.stop_series("digest:daily", "91") == 1
    await app.advance_clock(TEST_START + timedelta(days=4))
    assert len([1 for s, _, _ in digest.ran if s == "91"]) == 2
    with pytest.raises(ValueError, match="does not recur"):
        await app.scheduler.start_series("digest:once")


async def test_missed_occurrences_are_skipped_and_the_late_policy_applies(
    tmp_path: Path,
) -> None:
    settings = _settings(tmp_path)
    clock = FakeClock(TEST_START)
    lives = Restarts(settings, clock=clock, discover_plugins=False)
    async with lives.app(Digest()):
        pass
    clock.advance(timedelta(days=20))  # down for three Mondays
    runs_anyway = Digest()
    async with lives.app(runs_anyway) as app:
        await app.run_pending()
        # The one pending occurrence runs (late); the two other missed Mondays never do.
        assert [when for _, when, _ in runs_anyway.ran] == [_wib(2026, 11, 30, 9, 0)]
        nxt = await Job.get(kind="digest:weekly", status="pending")
        assert nxt.due_at == _wib(2026, 12, 14, 9, 0)  # the next Monday after now
    clock.advance(timedelta(days=14))
    strict = Digest(late_after=3600)
    async with lives.app(strict, last=True) as app:
        await app.run_pending()
        assert strict.ran == []  # more than an hour late: dropped
        late = await Job.get(kind="digest:weekly", status="late")
        assert late.due_at == _wib(2026, 12, 14, 9, 0)
        assert await Job.filter(kind="digest:weekly", status="pending").count() == 1


async def test_two_workers_run_each_occurrence_once(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    clock = FakeClock(TEST_START)
    digest = Digest()
    async with make_app(
        plugins=[digest],
        discover_plugins=False,
        clock=clock,
        settings=settings,
        create_database=True,
        drop_database=True,
        worker_id="one",
    ) as app:
        other = Scheduler(
            clock, app.settings.scheduler, dialect=app.database.dialect, worker_id="two"
        )
        other.bind(lambda job, late: JobContext(app, job, late))
        for kind in app.scheduler.kinds.values():
            other.register(kind)
        await other.resume_series()  # the second worker starts too: still one series
        assert await Job.filter(kind="digest:weekly").count() == 1
        for week in range(1, 5):
            clock.set(TEST_START + timedelta(days=7 * week))
            await asyncio.gather(app.scheduler.run_due(), other.run_due())
        assert len(digest.ran) == 4
        assert len({when for _, when, _ in digest.ran}) == 4
        assert await Job.filter(kind="digest:weekly", status="done").count() == 4
