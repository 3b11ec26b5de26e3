"""What an operator's probes ask: ``/metrics``, ``/healthz`` and ``/readyz``.

* ``/healthz`` — the process is alive and its event loop answers in time (an orchestrator
  restarts the worker when it fails).
* ``/readyz`` — the worker can do its job: the database answers, its migrations are all
  applied and every adapter is connected. 503 with the reasons otherwise (a load balancer
  stops sending it webhooks meanwhile).
* ``/metrics`` — the App's registry in Prometheus' text format, with the database gauges
  (queue depths, due jobs, scheduler lag) read at scrape time.

The handlers are plain aiohttp handlers (:func:`routes`), mounted on whichever server the
worker runs: the web server, the Telegram webhook server, or a server of their own on
``[metrics] listen`` (:class:`ProbeServer`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web
from tortoise.functions import Min

from core._metrics import CONTENT_TYPE
from core.models import Job
from core.outbox.models import Delivery

if TYPE_CHECKING:
    from core._app import App

__all__ = [
    "LoopMonitor",
    "ProbeServer",
    "Readiness",
    "check_readiness",
    "parse_listen",
    "refresh_metrics",
    "routes",
]

log = logging.getLogger(__name__)

#: Seconds a probe's database question may take before the database counts as away.
DB_TIMEOUT = 3.0


class LoopMonitor:
    """Ticks every ``interval`` seconds and records how late each tick was: a loop blocked
    by a slow synchronous call shows as lag. ``/healthz`` fails while the worst lag of the
    last ``window`` seconds is over ``limit``, or when the monitor stopped ticking."""

    def __init__(self, interval: float = 0.5, limit: float = 10.0, window: float = 30.0) -> None:
        self.interval = interval
        self.limit = limit
        self.window = window
        self.last_tick = time.monotonic()
        self._samples: deque[tuple[float, float]] = deque()

    @property
    def lag(self) -> float:
        """The worst lag seen in the last ``window`` seconds."""
        horizon = time.monotonic() - self.window
        return max((lag for at, lag in self._samples if at >= horizon), default=0.0)

    async def run_forever(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(self.interval)
            now = time.monotonic()
            self._samples.append((now, max(0.0, now - before - self.interval)))
            while self._samples and self._samples[0][0] < now - self.window:
                self._samples.popleft()
            self.last_tick = now

    async def run_due(self, limit: int | None = None) -> int:
        return 0

    def healthy(self) -> tuple[bool, dict[str, Any]]:
        since = time.monotonic() - self.last_tick
        lag = self.lag
        stale = since > self.limit + self.interval
        detail = {"loop_lag_seconds": round(lag, 4), "since_tick_seconds": round(since, 3)}
        return (lag <= self.limit and not stale), detail


@dataclass
class Readiness:
    """The answer of ``/readyz``: ready, or the reasons it is not."""

    problems: list[str] = field(default_factory=list)
    checks: dict[str, str] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return not self.problems

    def fail(self, check: str, reason: str) -> None:
        self.checks[check] = reason
        self.problems.append(f"{check}: {reason}")


async def check_readiness(app: App) -> Readiness:
    """Ask the database, its migrations and every adapter; each check bounded in time."""
    result = Readiness()
    try:
        # A question through the ORM that any database with the core's tables can answer.
        async with asyncio.timeout(DB_TIMEOUT):
            await Job.filter(id=0).exists()
        result.checks["database"] = "ok"
    except Exception as exc:
        app.metrics.note_error(exc, "readyz")
        result.fail("database", _reason(exc))
        result.checks["migrations"] = "unknown (database unreachable)"
    else:
        if app.schema_managed:
            try:
                async with asyncio.timeout(DB_TIMEOUT):
                    pending = await app.database.pending_migrations()
            except Exception as exc:
                result.fail("migrations", _reason(exc))
            else:
                if pending:
                    result.fail("migrations", "not applied: " + ", ".join(pending))
                else:
                    result.checks["migrations"] = "ok"
        else:
            result.checks["migrations"] = "ok (schema from models)"
    for platform, adapter in sorted(app.adapters.items()):
        problem = adapter.health()
        if problem:
            result.fail(f"adapter:{platform}", problem)
        else:
            result.checks[f"adapter:{platform}"] = "ok"
    return result


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {DB_TIMEOUT:g}s"
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:200]


async def refresh_metrics(app: App) -> None:
    """Read the gauges that describe the database (they are right whichever worker did
    the work): outbox depth by status, due jobs and the scheduler's lag."""
    now = app.clock.now()
    open_rows = Delivery.filter(status="pending")
    due = await open_rows.filter(next_attempt_at__lte=now).count()
    deferred = await Delivery.filter(status="pending", next_attempt_at__gt=now).count()
    sending = await Delivery.filter(status="sending").count()
    app.metrics.set_queue({"due": due, "deferred": deferred, "sending": sending})
    due_jobs = Job.filter(status="pending", due_at__lte=now)
    count = await due_jobs.count()
    lag = 0.0
    if count:
        rows = await due_jobs.annotate(oldest=Min("due_at")).values("oldest")
        oldest = rows[0]["oldest"] if rows else None
        if oldest is not None:
            lag = (now - oldest).total_seconds()
    app.metrics.set_scheduler(count, lag)


def routes(app: App) -> list[web.RouteDef]:
    """``/metrics``, ``/healthz`` and ``/readyz`` for ``app``, to add to any aiohttp app."""

    async def metrics(request: web.Request) -> web.Response:
        try:
            async with asyncio.timeout(DB_TIMEOUT):
                await refresh_metrics(app)
        except Exception as exc:
            # The counters are still worth scraping when the database is away.
            app.metrics.note_error(exc, "metrics")
            log.warning("metrics: database gauges not refreshed: %s", _reason(exc))
        body = app.metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    async def healthz(request: web.Request) -> web.Response:
        ok, detail = app.loop_monitor.healthy()
        detail = {"status": "ok" if ok else "unhealthy", "worker": app.worker_name, **detail}
        return _json(detail, 200 if ok else 503)

    async def readyz(request: web.Request) -> web.Response:
        readiness = await check_readiness(app)
        if app.stopping:
            readiness.fail("worker", "shutting down")
        body = {
            "status": "ready" if readiness.ready else "not ready",
            "worker": app.worker_name,
            "checks": readiness.checks,
            "problems": readiness.problems,
        }
        return _json(body, 200 if readiness.ready else 503)

    return [
        web.get("/metrics", metrics),
        web.get("/healthz", healthz),
        web.get("/readyz", readyz),
    ]


def _json(body: dict[str, Any], status: int) -> web.Response:
    return web.Response(
        text=json.dumps(body, sort_keys=True), status=status, content_type="application/json"
    )


def parse_listen(listen: str) -> tuple[str, int]:
    """``"host:port"`` (``"[::1]:9100"`` for IPv6, ``":9100"`` for every interface)."""
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"listen must be host:port, not {listen!r}")
    return host.strip("[]") or "0.0.0.0", int(port)


class ProbeServer:
    """A server of its own for the probes (``[metrics] listen``), run as an App worker."""

    def __init__(self, app: App, listen: str) -> None:
        self.app = app
        self.host, self.port = parse_listen(listen)
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        web_app = web.Application()
        web_app.add_routes(routes(self.app))
        self._runner = web.AppRunner(web_app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        self.port = int(self._runner.addresses[0][1])
        log.info("metrics and probes on %s:%s", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def run_forever(self) -> None:
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()

    async def run_due(self, limit: int | None = None) -> int:
        return 0
