"""``/healthz`` and ``/readyz`` over HTTP against a real database: 503 with the reason when
the database goes away, a migration is missing, an adapter is disconnected or the loop is
blocked; 200 again once that is over."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from core import App
from core._db import throwaway_url
from core._health import LoopMonitor, ProbeServer, parse_listen
from core.testing import MemoryAdapter, test_settings
from tests.databases import is_server, real_database_url


@dataclass(eq=False)
class Flaky(MemoryAdapter):
    """A platform whose connection the test cuts and restores."""

    down: str | None = None

    def health(self) -> str | None:
        return self.down


@asynccontextmanager
async def probes(app: App) -> AsyncIterator[Any]:
    server = ProbeServer(app, "127.0.0.1:0")
    await server.start()

    async def get(path: str) -> tuple[int, dict[str, Any]]:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{server.port}{path}") as response,
        ):
            return response.status, await response.json()

    try:
        yield get
    finally:
        await server.stop()


async def test_readyz_names_what_is_wrong_and_recovers(tmp_path: Path):
    url = real_database_url(tmp_path)
    settings = test_settings(database={"url": url})
    platform = Flaky("fake")
    app = App(
        settings,
        adapters=[platform],
        discover_plugins=False,
        create_database=is_server(url),
        drop_database=is_server(url),
    )
    async with app, probes(app) as get:
        status, body = await get("/readyz")
        assert status == 200, body
        assert body["checks"] == {"database": "ok", "migrations": "ok", "adapter:fake": "ok"}

        platform.down = "not connected to the gateway"
        status, body = await get("/readyz")
        assert status == 503
        assert body["problems"] == ["adapter:fake: not connected to the gateway"]
        platform.down = None

        # A deployment one migration behind: the record of the core's latest is missing.
        conn = app.database.context.db("default")  # type: ignore[union-attr]
        _, rows = await conn.execute_query(
            "SELECT name, applied_at FROM tortoise_migrations WHERE app = 'core' ORDER BY name DESC"
        )
        latest, applied_at = rows[0]["name"], rows[0]["applied_at"]
        where = f"WHERE app = 'core' AND name = '{latest}'"
        await conn.execute_query(f"DELETE FROM tortoise_migrations {where}")
        status, body = await get("/readyz")
        assert status == 503
        assert body["problems"] == [f"migrations: not applied: core.{latest}"]
        mark = "$1" if is_server(url) else "?"
        await conn.execute_query(
            "INSERT INTO tortoise_migrations (app, name, applied_at) VALUES "
            f"('core', '{latest}', {mark})",
            [applied_at],
        )
        assert (await get("/readyz"))[0] == 200

        app.stopping = True
        status, body = await get("/readyz")
        assert status == 503
        assert "worker: shutting down" in body["problems"]


@pytest.mark.postgres
async def test_readyz_turns_503_when_postgres_goes_away_and_200_when_it_returns():
    import asyncpg

    base = os.environ["GUYUB_TEST_POSTGRES_URL"]
    url = throwaway_url(base)
    name = url.rsplit("/", 1)[1]
    settings = test_settings(database={"url": url})
    app = App(settings, discover_plugins=False, create_database=True, drop_database=True)
    async with app, probes(app) as get:
        assert (await get("/readyz"))[0] == 200
        admin = await asyncpg.connect(base)
        try:
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
            )
            for _ in range(2):  # the first try may meet a connection that is being torn down
                status, body = await get("/readyz")
            assert status == 503
            assert body["problems"][0].startswith("database: ")
            assert "not currently accepting connections" in body["problems"][0]
            assert body["checks"]["migrations"] == "unknown (database unreachable)"
            # The counters are still served while the database is away.
            assert app.metrics.db_errors.labels(app.worker_name, "readyz")._value.get() >= 1
        finally:
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            await admin.close()
        for _ in range(2):
            status, body = await get("/readyz")
        assert status == 200, body


async def test_healthz_turns_503_while_the_loop_is_blocked(make_app):
    async with make_app(discover_plugins=False) as app, probes(app) as get:
        app.loop_monitor = LoopMonitor(interval=0.02, limit=0.1, window=0.5)
        monitor = asyncio.create_task(app.loop_monitor.run_forever())
        try:
            await asyncio.sleep(0.05)
            status, body = await get("/healthz")
            assert status == 200
            assert body["status"] == "ok"
            time.sleep(0.3)  # noqa: ASYNC251 - the point: a synchronous call holding the loop
            await asyncio.sleep(0.03)  # the monitor's next tick measures the delay
            status, body = await get("/healthz")
            assert status == 503
            assert body["loop_lag_seconds"] > 0.1
            await asyncio.sleep(0.6)  # the window has passed
            assert (await get("/healthz"))[0] == 200
        finally:
            monitor.cancel()


def test_listen_addresses():
    assert parse_listen("0.0.0.0:9100") == ("0.0.0.0", 9100)
    assert parse_listen(":9100") == ("0.0.0.0", 9100)
    assert parse_listen("[::1]:9100") == ("::1", 9100)
    with pytest.raises(ValueError, match="host:port"):
        parse_listen("9100x")
