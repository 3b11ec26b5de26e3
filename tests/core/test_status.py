"""``guyub status`` reads a deployment's database: workers from their heartbeats, queue
depths, scheduler lag and the last errors; exit 0 healthy, 1 degraded."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from core import App, Message, Recipient
from core._clock import SystemClock
from core._heartbeat import Heartbeat
from core.cli import cli
from core.models import Job
from core.state.models import WorkerBeat
from core.testing import test_settings
from tests.databases import drop, is_server, real_database_url


def run_status(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["status", *args], env={"GUYUB_DATABASE__URL": url}, catch_exceptions=False
    )
    return result.exit_code, result.output


def test_status_shows_workers_queues_lag_and_errors(tmp_path: Path):
    url = real_database_url(tmp_path)
    settings = test_settings(database={"url": url}, worker={"name": "bot-1"})

    async def first_worker() -> None:
        app = App(
            settings, discover_plugins=False, clock=SystemClock(), create_database=is_server(url)
        )
        async with app:
            heartbeat = Heartbeat(app)
            logging.getLogger().addHandler(heartbeat.errors)
            try:
                logging.getLogger("plugins.x").error("something broke for %s", "m7")
            finally:
                logging.getLogger().removeHandler(heartbeat.errors)
            app.handled = 12
            await heartbeat.beat()
            await app.outbox.enqueue("test", Message.of("hai"), [Recipient("fake", "u1")])

    asyncio.run(first_worker())
    code, out = run_status(url)
    assert code == 0, out
    assert out.startswith("status: healthy")
    assert "bot-1" in out
    assert "alive" in out
    assert "handled 12" in out
    assert "last error" in out
    assert "plugins.x: something broke for m7" in out
    assert "outbox: due 1, deferred 0, sending 0" in out

    async def trouble() -> None:
        async with App(settings, discover_plugins=False, clock=SystemClock()) as app:
            now = app.clock.now()
            await WorkerBeat.create(
                name="bot-2", host="h", pid=2, started_at=now, seen_at=now - timedelta(seconds=200)
            )
            await WorkerBeat.create(
                name="bot-3",
                host="h",
                pid=3,
                started_at=now,
                seen_at=now - timedelta(seconds=300),
                stopped_at=now - timedelta(seconds=300),
            )
            await Job.create(kind="late", due_at=now - timedelta(minutes=10))
            await Job.create(
                kind="broken",
                due_at=now,
                status="failed",
                last_error="ValueError: x",
                finished_at=now,
            )

    asyncio.run(trouble())
    code, out = run_status(url)
    assert code == 1, out
    assert out.startswith("status: DEGRADED")
    assert "worker bot-2 silent for" in out
    assert "bot-3" in out
    assert "stopped" in out
    assert "behind (more than 300s)" in out
    assert "broken" in out
    assert "ValueError: x" in out

    code, out = run_status(url, "--json", "--max-lag", "3600")
    report = json.loads(out)
    assert code == 1
    assert report["healthy"] is False
    assert [w["state"] for w in report["workers"]] == ["alive", "missing", "stopped"]
    assert report["jobs"]["due"] == 1
    assert report["problems"] == [p for p in report["problems"] if "bot-2" in p]
    asyncio.run(drop(url))


def test_status_is_degraded_when_the_database_is_unreachable(tmp_path: Path):
    code, out = run_status("postgres://nobody@127.0.0.1:1/none")
    assert code == 1
    assert "database unreachable" in out
