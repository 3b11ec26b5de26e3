"""The scheduler across processes: a crash loses no job and runs none twice; several workers
on PostgreSQL share due jobs, each job running exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from core.models import Job
from core.state.models import KeyValue
from core.testing import make_app, test_settings

WORKER = Path(__file__).with_name("scheduler_worker.py")


def _database_url(tmp_path: Path) -> str:
    base = os.environ.get("GUYUB_TEST_POSTGRES_URL")
    if base:
        from core._db import throwaway_url

        return throwaway_url(base)
    return f"sqlite://{tmp_path}/guyub.sqlite3"


async def _marks(url: str) -> tuple[Counter[str], set[str]]:
    """How often each job ran, and the statuses jobs are in."""
    async with make_app(
        discover_plugins=False,
        settings=test_settings(database={"url": url}),
        create_database=False,
        drop_database=False,
    ):
        keys = await KeyValue.filter(key__startswith="ran:").values_list("key", flat=True)
        statuses = await Job.exclude(kind="privacy:retention").values_list("status", flat=True)
    return Counter(str(k).split(":")[1] for k in keys), {str(s) for s in statuses}


async def _spawn(url: str, mode: str, arg: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        str(WORKER),
        url,
        mode,
        arg,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


@pytest.mark.slow
async def test_job_survives_sigkill_and_runs_exactly_once(tmp_path: Path) -> None:
    url = _database_url(tmp_path)
    async with make_app(
        discover_plugins=False,
        settings=test_settings(database={"url": url}),
        create_database=True,
        drop_database=False,
    ):
        pass  # the database and its tables exist
    first = await _spawn(url, "serve", "3")
    assert first.stdout is not None
    assert (await asyncio.wait_for(first.stdout.readline(), 60)).strip() == b"scheduled"
    first.send_signal(signal.SIGKILL)  # dies before the job is due
    await first.wait()
    assert first.returncode == -signal.SIGKILL
    assert await _marks(url) == (Counter(), {"pending"})

    second = await _spawn(url, "drain", "1")
    _out, err = await asyncio.wait_for(second.communicate(), 180)
    assert second.returncode == 0, err.decode()
    third = await _spawn(url, "drain", "1")  # a later start must not run it again
    await asyncio.wait_for(third.communicate(), 180)
    marks, statuses = await _marks(url)
    assert sum(marks.values()) == 1
    assert statuses == {"done"}
    await _drop(url)


@pytest.mark.slow
@pytest.mark.postgres
async def test_three_workers_share_2000_jobs_each_runs_once() -> None:
    base = os.environ["GUYUB_TEST_POSTGRES_URL"]
    from core._db import throwaway_url

    url = throwaway_url(base)
    settings = test_settings(database={"url": url})
    async with make_app(
        discover_plugins=False, settings=settings, create_database=True, drop_database=False
    ) as app:
        due = app.clock.now() - timedelta(minutes=1)
        await Job.bulk_create(
            [
                Job(kind="proc:mark", due_at=due, payload={"i": i}, max_attempts=3)
                for i in range(2000)
            ]
        )
    workers = [await _spawn(url, "drain", "2000") for _ in range(3)]
    results = await asyncio.wait_for(asyncio.gather(*(w.communicate() for w in workers)), 300)
    for worker, (_, err) in zip(workers, results, strict=True):
        assert worker.returncode == 0, err.decode()
    marks, statuses = await _marks(url)
    assert statuses == {"done"}
    assert len(marks) == 2000
    assert set(marks.values()) == {1}
    await _drop(url)


async def _drop(url: str) -> None:
    if url.startswith("sqlite"):
        return
    async with make_app(
        discover_plugins=False,
        settings=test_settings(database={"url": url}),
        create_database=False,
        drop_database=True,
    ):
        pass
