"""Crash loop: registration killed (SIGKILL) after its 1st, 2nd, 3rd... database write,
restarted each time from what the last run left, never leaves a member "registered" without a profile, a flow stuck at "done", or a
second member; and it finishes (issue #15)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from core import Account, Member
from core.testing import make_app, test_settings
from plugins.onboarding.models import Profile

WORKER = Path(__file__).resolve().with_name("crash_worker.py")


@pytest.mark.slow
async def test_registration_survives_sigkill_after_every_write(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path}/crash.sqlite3"
    async with make_app(settings=test_settings(database={"url": url})):
        pass  # creates the schema in the file
    root = WORKER.parents[3]
    runs = []
    for kill_after in range(1, 80):
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(WORKER),
            url,
            str(kill_after),  # each run gets one write further before it dies
            cwd=root,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=120)
        runs.append(process.returncode)
        assert process.returncode in (0, -9), out.decode() + err.decode()[-2000:]
        if process.returncode == 0:
            assert "registered" in out.decode()
            break
    else:
        pytest.fail(f"registration never finished: {runs}")
    assert runs.count(-9) >= 10  # it really was killed at many points
    async with make_app(settings=test_settings(database={"url": url}), create_database=False):
        profile = await Profile.all().first()
        assert profile is not None
        assert (profile.batch, profile.training) == (7, "Pemasaran Digital")


@pytest.mark.slow
async def test_forgetme_survives_sigkill_after_every_write(tmp_path: Path) -> None:
    """/hapusdata killed after its 1st, 6th, 11th... write (every fifth, to stay CI-sized):
    the member's data is either all there with a job to finish the deletion, or all gone;
    it always ends all gone."""
    url = f"sqlite://{tmp_path}/forget.sqlite3"
    async with make_app(settings=test_settings(database={"url": url})):
        pass
    root = WORKER.parents[3]

    async def run(*args: str) -> tuple[int | None, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(WORKER),
            url,
            *args,
            cwd=root,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=120)
        return process.returncode, out.decode() + err.decode()[-2000:]

    code, out = await run("0")
    assert code == 0, out
    runs = []
    for kill_after in range(1, 400, 5):
        code, out = await run(str(kill_after), "forget", str(kill_after))
        runs.append(code)
        assert code in (0, -9), out
        if code == 0 and "forgotten" in out:
            break
    else:
        pytest.fail(f"deletion never finished: {runs}")
    assert runs.count(-9) >= 5
    async with make_app(settings=test_settings(database={"url": url}), create_database=False):
        assert await Member.all().count() == 0
        assert await Account.all().count() == 0
        assert await Profile.all().count() == 0
