"""Graceful shutdown in a real process: on SIGTERM the worker takes no more updates,
finishes the ones in hand within ``[worker] shutdown_timeout``, hands its job lease back and
exits 0; an update that outlasts the budget is cut off and the exit is still clean."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from core import App, Job
from core.state import get_value
from core.state.models import WorkerBeat
from core.testing import test_settings
from tests.databases import drop, real_database_url

WORKER = Path(__file__).with_name("shutdown_worker.py")
ROOT = Path(__file__).resolve().parents[2]


async def _run_and_term(
    url: str, handler: float, budget: float, *, twice: bool = False
) -> tuple[int, str, float]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(WORKER),
        url,
        str(handler),
        str(budget),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 120)
    assert line.strip() == b"handling"
    await asyncio.sleep(0.5)  # the job is running too
    sent = time.monotonic()
    process.send_signal(signal.SIGTERM)
    if twice:
        # The worker says it stopped receiving once the first signal is being handled.
        assert await asyncio.wait_for(process.stdout.readline(), 60) == b"stopped receiving\n"
        process.send_signal(signal.SIGTERM)
    out, err = await asyncio.wait_for(process.communicate(), 120)
    elapsed = time.monotonic() - sent
    print(f"handler {handler}s, budget {budget}s: exited {elapsed:.2f}s after SIGTERM")
    return process.returncode or 0, (line + out).decode() + err.decode(), elapsed


async def _state(url: str) -> tuple[str | None, Job, WorkerBeat]:
    settings = test_settings(database={"url": url})
    async with App(settings, discover_plugins=False, schema="none"):
        found = await get_value("slow:finished"), await Job.get(kind="hang"), await WorkerBeat.get()
    await drop(url)
    return found


@pytest.mark.slow
async def test_sigterm_finishes_updates_in_hand_and_releases_leases(tmp_path: Path):
    url = real_database_url(tmp_path)
    code, output, _ = await _run_and_term(url, handler=1.5, budget=20)
    assert code == 0, output
    assert "stopped receiving" in output
    assert "finished" in output
    assert "every update in hand finished" in output
    assert output.rstrip().endswith("exited") or "exited" in output
    finished, job, beat = await _state(url)
    assert finished == "1"
    # The job it was running is back for the other workers, its attempt not counted.
    assert job.status == "pending"
    assert job.locked_by is None
    assert job.attempts == 0
    assert beat.stopped_at is not None


@pytest.mark.slow
async def test_an_update_outlasting_the_budget_is_cut_off(tmp_path: Path):
    url = real_database_url(tmp_path)
    code, output, elapsed = await _run_and_term(url, handler=300, budget=1)
    assert code == 0, output
    assert "finished" not in output.replace("every update in hand finished", "")
    assert "1 updates still in flight when the wait ended" in output
    assert elapsed < 60  # the 300-second handler did not hold the stop
    finished, job, _ = await _state(url)
    assert finished is None
    assert job.status == "pending"


@pytest.mark.slow
async def test_a_second_sigterm_cuts_the_wait_short(tmp_path: Path):
    url = real_database_url(tmp_path)
    code, output, elapsed = await _run_and_term(url, handler=300, budget=120, twice=True)
    assert code == 0, output
    assert "1 updates still in flight when the wait ended" in output
    assert elapsed < 60  # not the 120-second budget
    finished, job, _ = await _state(url)
    assert finished is None
    assert job.status == "pending"


@pytest.mark.parametrize("service", ["scheduler", "outbox"])
async def test_a_loop_woken_just_as_it_is_cancelled_still_stops(
    make_app: Any, service: str
) -> None:
    """The wake-up and the cancellation land in one turn of the event loop (a delivery
    stored while the App stops). With ``asyncio.wait_for`` (Python 3.11) the loop took the
    wake-up, dropped the cancellation and ran on: the App's stop never ended."""
    async with make_app() as app:
        loop_owner = getattr(app, service)
        task = asyncio.create_task(loop_owner.run_forever())
        await asyncio.sleep(0.3)  # one round done: idle, waiting to be woken
        loop_owner._wakeup.set()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            async with asyncio.timeout(5):
                await task
