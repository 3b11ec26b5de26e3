"""Supervision: a background loop that fails is started again after a pause; a database
that goes away (an SQLite file locked by another process, PostgreSQL connections killed)
never ends the process, and the work due meanwhile is done once it is back."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Protocol

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
from core._supervise import Backoff, periodically, supervise
from core.models import Account
from core.testing import MemoryAdapter, make_app, test_settings


def _pauses_asked(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The pauses the backoff hands out from now on (not wall-clock gaps: machine speed)."""
    pauses: list[float] = []
    pause_after = _supervise.Backoff.next

    def recorded(backoff: _supervise.Backoff) -> float:
        pauses.append(pause_after(backoff))
        return pauses[-1]

    monkeypatch.setattr(_supervise.Backoff, "next", recorded)
    return pauses


async def test_a_failing_loop_is_started_again_after_a_growing_pause(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runs = 0
    pauses = _pauses_asked(monkeypatch)

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


async def test_a_periodic_round_that_fails_waits_longer_each_time_then_resumes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rounds = 0
    pauses = _pauses_asked(monkeypatch)

    async def flush() -> None:
        nonlocal rounds
        rounds += 1
        if rounds <= 4:
            raise OSError("database is away")

    task = asyncio.create_task(
        periodically("flushing", flush, 0.01, logger=logging.getLogger("test"))
    )
    async with asyncio.timeout(5):
        while rounds < 8:  # noqa: ASYNC110 - polling what another task records
            await asyncio.sleep(0.01)
    task.cancel()
    # Four failures, four growing pauses; the rounds after the database came back went on
    # at the plain interval (no pause asked for).
    assert len(pauses) == 4
    assert pauses[0] < pauses[1] < pauses[2] < pauses[3]


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


class LoopFailures(logging.Handler):
    """Counts the errors each core logger records (a handler of our own: caplog's root
    handler can be gone after earlier tests)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.by_logger: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.by_logger[record.name] += 1


class Outage(Protocol):
    async def begin(self) -> None:
        """Returns once the database is away."""

    async def end(self) -> None:
        """Returns once the database is back."""


AMIR = UserRef("fake", "1")
BUDI = UserRef("fake", "2")
GROUP = ChatRef("fake", "7", ChatKind.GROUP)


async def _outage_then_recovery(
    app: App, adapter: MemoryAdapter, ticker: Ticker, outage: Outage
) -> None:
    """Work falls due while ``outage`` lasts, members talk to the bot meanwhile: the App
    lives through it, answers, backs off rather than spins, and does the work afterwards."""
    amir = await app.identity.ensure(AMIR, "Amir")
    budi = await app.identity.ensure(BUDI, "Budi")
    app.activity.interval = 0.2
    failures = LoopFailures()
    logging.getLogger("core").addHandler(failures)
    runner = asyncio.create_task(app.run(install_signal_handlers=False))
    try:
        await asyncio.sleep(0.3)
        now = app.clock.now()
        # Due a moment into the outage: a job (it sends through the outbox), a stored DM.
        await app.scheduler.schedule("ticker:tick", now + timedelta(seconds=2))
        await app.outbox.enqueue(
            "test",
            Message.of("due"),
            [Recipient("fake", "3")],
            not_before=now + timedelta(seconds=2),
        )
        app.activity.seen(AMIR, now)
        await outage.begin()
        # Members talk meanwhile (each update in its own task, as the adapters run them):
        # plain group chatter is no error for them, a private message is answered.
        chatter = MessageReceived(user=Sender(BUDI, "Budi"), chat=GROUP, text="halo")
        private = MessageReceived(
            user=Sender(BUDI, "Budi"), chat=ChatRef("fake", "2", ChatKind.DM), text="halo"
        )
        await asyncio.create_task(app.dispatch(chatter, adapter))
        await asyncio.create_task(app.dispatch(private, adapter))
        assert [s for s in adapter.sent if s.chat.is_dm and s.chat.id == "2"]
        assert not [s for s in adapter.sent if s.chat == GROUP]
        await outage.end()
        assert not runner.done(), "the App ended during the outage"
        # The loops felt it, and backed off: a minute away costs each a few log lines,
        # not one per poll interval (0.2 s here).
        assert failures.by_logger["core._scheduler"] >= 1
        assert failures.by_logger["core.outbox._outbox"] >= 1
        assert max(failures.by_logger.values()) <= 15, failures.by_logger
        # The work due meanwhile is done once the database is back (the longest pause
        # between tries is a minute), and no activity seen meanwhile is lost.
        async with asyncio.timeout(150):
            while {"tick", "due"} - {s.text for s in adapter.sent}:
                assert not runner.done(), "the App ended after the outage"
                await asyncio.sleep(0.2)
            for account in (amir, budi):
                while (await Account.get(id=account.id)).last_seen_at is None:  # noqa: ASYNC110
                    await asyncio.sleep(0.2)
        assert ticker.ran == 1
        assert not runner.done()
    finally:
        logging.getLogger("core").removeHandler(failures)
        app.request_stop()
        await runner


def _quick(url: str) -> dict[str, object]:
    return {
        "database": {"url": url},
        "scheduler": {"poll_interval": 0.2},
        "outbox": {"poll_interval": 0.2},
    }


class SqliteLock:
    """Another process holds the file's write lock for ``seconds`` (past SQLite's 5 s busy
    timeout, so the App's writes fail rather than wait)."""

    def __init__(self, db: Path, seconds: float) -> None:
        self.db = db
        self.seconds = seconds
        self.holder: asyncio.subprocess.Process | None = None

    async def begin(self) -> None:
        self.holder = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "import sqlite3, sys, time\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "c.execute('BEGIN EXCLUSIVE')\n"
            "print('locked', flush=True)\n"
            "time.sleep(float(sys.argv[2]))\n"
            "c.rollback()\n",
            str(self.db),
            str(self.seconds),
            stdout=asyncio.subprocess.PIPE,
        )
        assert self.holder.stdout is not None
        assert (await self.holder.stdout.readline()).strip() == b"locked"
        # The lock really stops the App's writes.
        with pytest.raises(OperationalError):
            await Account.filter(id=0).update(last_seen_at=None)

    async def end(self) -> None:
        assert self.holder is not None
        await self.holder.communicate()
        assert self.holder.returncode == 0


@pytest.mark.slow
async def test_sqlite_file_locked_by_another_process_for_65_seconds(tmp_path: Path) -> None:
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
        await _outage_then_recovery(app, adapter, ticker, SqliteLock(db, 65))


class PostgresDown:
    """The App's database refuses every connection for ``seconds``: new ones are refused
    (``ALLOW_CONNECTIONS false``, which binds superusers too) and open ones are killed."""

    def __init__(self, base: str, name: str, seconds: float) -> None:
        self.base = base.replace("postgres://", "postgresql://", 1)
        self.name = name
        self.seconds = seconds
        self.killed = 0
        self.until = 0.0

    async def _admin(self, sql: str) -> int:
        import asyncpg

        admin = await asyncpg.connect(self.base)
        try:
            await admin.execute(sql)
            return int(
                await admin.fetchval(
                    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) "
                    "FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                    self.name,
                )
            )
        finally:
            await admin.close()

    async def begin(self) -> None:
        self.until = asyncio.get_running_loop().time() + self.seconds
        self.killed = await self._admin(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false')
        # Really away: a new connection is refused.
        import asyncpg

        with pytest.raises(asyncpg.PostgresError):
            await asyncpg.connect(self.base.rsplit("/", 1)[0] + "/" + self.name)

    async def end(self) -> None:
        await asyncio.sleep(max(0.0, self.until - asyncio.get_running_loop().time()))
        await self.restore()

    async def restore(self) -> None:
        import asyncpg

        admin = await asyncpg.connect(self.base)
        try:
            await admin.execute(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true')
        finally:
            await admin.close()


@pytest.mark.slow
@pytest.mark.postgres
async def test_postgres_away_for_60_seconds() -> None:
    base = os.environ.get("GUYUB_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("needs GUYUB_TEST_POSTGRES_URL")
    from core._db import throwaway_url

    adapter = MemoryAdapter(name="fake")
    ticker = Ticker()
    url = throwaway_url(base)
    down = PostgresDown(base, url.rsplit("/", 1)[1].split("?")[0], 60)
    async with make_app(
        plugins=[ticker],
        discover_plugins=False,
        adapters=[adapter],
        clock=SystemClock(),
        settings=test_settings(**_quick(url)),
    ) as app:
        try:
            await _outage_then_recovery(app, adapter, ticker, down)
        finally:
            await down.restore()  # whatever happened, the database can be dropped
    # The App's open connections were killed under it, not just new ones refused.
    assert down.killed > 0, "no connection of the App's was killed"
