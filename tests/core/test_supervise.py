"""Supervision: a background loop that fails is started again after a pause; a database
that goes away (an SQLite file locked by another process, PostgreSQL connections killed)
never ends the process, and the work due meanwhile is done once it is back."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from tortoise.exceptions import OperationalError

from core import (
    App,
    ChatKind,
    ChatRef,
    JobContext,
    JobKind,
    Message,
    MessageReceived,
    PluginInfo,
    Recipient,
    Sender,
    SettingsError,
    SystemClock,
    UserRef,
    _supervise,
    hookimpl,
)
from core._supervise import Backoff, supervise
from core.models import Account
from core.testing import MemoryAdapter, make_app, test_settings


async def test_a_failing_loop_is_started_again_after_a_growing_pause(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runs = 0
    pauses: list[float] = []
    pause_after = _supervise.Backoff.next

    def recorded(backoff: _supervise.Backoff) -> float:
        pauses.append(pause_after(backoff))
        return pauses[-1]

    monkeypatch.setattr(_supervise.Backoff, "next", recorded)

    async def flaky() -> None:
        nonlocal runs
        runs += 1
        if runs < 4:
            raise OSError("database is away")
        await asyncio.Event().wait()

    task = asyncio.create_task(supervise("flaky", flaky, first=0.02, limit=1.0))
    async with asyncio.timeout(5):
        while runs < 4:  # noqa: ASYNC110 - polling what another task records
            await asyncio.sleep(0.01)
    assert not task.done()
    task.cancel()
    # The pauses asked for (not wall-clock gaps): backing off, not spinning.
    assert len(pauses) == 3
    assert pauses[0] < pauses[1] < pauses[2]


async def test_a_configuration_error_still_ends_the_loop() -> None:
    async def misconfigured() -> None:
        raise SettingsError("telegram.token is not set")

    with pytest.raises(SettingsError):
        await supervise("misconfigured", misconfigured, first=0.01)


def test_backoff_doubles_up_to_its_limit_and_resets() -> None:
    backoff = Backoff(first=1.0, limit=8.0)
    pauses = [backoff.next() for _ in range(6)]
    assert 0.8 <= pauses[0] <= 1.0
    assert 6.4 <= pauses[-1] <= 8.0
    backoff.reset()
    assert backoff.next() <= 1.0


class Ticker:
    """A job that sends through the outbox, like a reminder."""

    PLUGIN = PluginInfo(name="ticker")

    def __init__(self) -> None:
        self.ran = 0

    async def tick(self, job: JobContext) -> None:
        self.ran += 1
        await job.app.outbox.enqueue(
            "ticker", Message.of("tick"), [Recipient("fake", "7", ChatKind.GROUP)]
        )

    @hookimpl
    def guyub_register_jobs(self) -> list[JobKind]:
        return [JobKind("ticker:tick", self.tick)]


async def _outage_then_recovery(app: App, adapter: MemoryAdapter, ticker: Ticker, outage) -> None:  # type: ignore[no-untyped-def]
    """Schedule work due during ``outage()`` and check the App survives it and does the
    work afterwards."""
    amir = UserRef("fake", "1")
    account = await app.identity.ensure(amir, "Amir")
    app.activity.interval = 0.2
    runner = asyncio.create_task(app.run(install_signal_handlers=False))
    try:
        await asyncio.sleep(0.3)
        await app.scheduler.schedule("ticker:tick", app.clock.now() + timedelta(seconds=0.5))
        app.activity.seen(amir, app.clock.now())
        await outage()
        # Plain group chatter while the database was away is not an error for the member.
        await app.dispatch(
            MessageReceived(
                user=Sender(amir, "Amir"),
                chat=ChatRef("fake", "7", ChatKind.GROUP),
                text="halo",
            ),
            adapter,
        )
        async with asyncio.timeout(60):
            while not [s for s in adapter.sent if s.text == "tick"]:
                assert not runner.done(), "the App ended during the outage"
                await asyncio.sleep(0.1)
            while (await Account.get(id=account.id)).last_seen_at is None:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        assert not runner.done()
        assert ticker.ran == 1
    finally:
        app.request_stop()
        await runner


def _quick(url: str) -> dict[str, object]:
    return {
        "database": {"url": url},
        "scheduler": {"poll_interval": 0.2},
        "outbox": {"poll_interval": 0.2},
    }


@pytest.mark.slow
async def test_sqlite_file_locked_by_another_process(
    tmp_path: Path,
) -> None:
    if os.environ.get("GUYUB_TEST_POSTGRES_URL"):
        pytest.skip("outage tests run on one database: PostgreSQL's is the other test")
    db = tmp_path / "guyub.sqlite3"
    adapter = MemoryAdapter(name="fake")
    ticker = Ticker()
    async with make_app(
        plugins=[ticker],
        discover_plugins=False,
        adapters=[adapter],
        clock=SystemClock(),
        settings=test_settings(**_quick(f"sqlite://{db}")),
    ) as app:

        async def outage() -> None:
            # Another process holds the write lock longer than SQLite's busy timeout (5 s).
            holder = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                "import sqlite3, sys, time\n"
                "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
                "c.execute('BEGIN EXCLUSIVE')\n"
                "print('locked', flush=True)\n"
                "time.sleep(float(sys.argv[2]))\n"
                "c.rollback()\n",
                str(db),
                "8",
                stdout=asyncio.subprocess.PIPE,
            )
            assert holder.stdout is not None
            assert (await holder.stdout.readline()).strip() == b"locked"
            # The lock really stops the App's writes (past SQLite's busy timeout).
            with pytest.raises(OperationalError):
                await Account.filter(id=0).update(last_seen_at=None)
            await holder.communicate()

        await _outage_then_recovery(app, adapter, ticker, outage)


@pytest.mark.slow
@pytest.mark.postgres
async def test_postgres_connections_killed() -> None:
    base = os.environ.get("GUYUB_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("needs GUYUB_TEST_POSTGRES_URL")
    import asyncpg

    adapter = MemoryAdapter(name="fake")
    ticker = Ticker()
    from core._db import throwaway_url

    url = throwaway_url(base)
    async with make_app(
        plugins=[ticker],
        discover_plugins=False,
        adapters=[adapter],
        clock=SystemClock(),
        settings=test_settings(**_quick(url)),
    ) as app:
        name = url.rsplit("/", 1)[1].split("?")[0]
        killed = 0

        async def outage() -> None:
            # Kill every connection to the App's database for a few seconds, repeatedly.
            nonlocal killed
            admin = await asyncpg.connect(base.replace("postgres://", "postgresql://", 1))
            try:
                for _ in range(15):
                    killed += await admin.fetchval(
                        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) "
                        "FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                        name,
                    )
                    await asyncio.sleep(0.2)
            finally:
                await admin.close()

        await _outage_then_recovery(app, adapter, ticker, outage)
    # The App's connections really were killed under it (whether a loop logged an error
    # depends on whether it was mid-query at that moment; the pool reconnects otherwise).
    assert killed > 0, "no connection of the App's was killed"
