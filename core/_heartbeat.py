"""Worker heartbeats: each running process writes a row every ``[worker] heartbeat_seconds``
(name, host, pid, adapters, updates handled and in flight, its last error), so
``guyub status`` run anywhere sees every worker of the deployment and which went quiet."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from datetime import datetime
from typing import TYPE_CHECKING

from core._logging import ScopeFilter, secret_filter
from core._metrics import is_database_error
from core.state.models import WorkerBeat

if TYPE_CHECKING:
    from core._app import App

__all__ = ["Heartbeat", "LastError"]

log = logging.getLogger(__name__)


class LastError(logging.Handler):
    """Keeps the last ERROR line of this process (masked like every log line)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.addFilter(ScopeFilter())
        self.addFilter(secret_filter())
        self.text: str | None = None
        self.at: float | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.text = f"{record.name}: {record.getMessage()}"[:500]
        self.at = record.created


class Heartbeat:
    """The heartbeat loop, one of the App's supervised workers."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.started_at = app.clock.now()
        self.errors = LastError()

    async def beat(self, *, stopped: bool = False) -> None:
        app = self.app
        now = app.clock.now()
        error_at = datetime.fromtimestamp(self.errors.at, now.tzinfo) if self.errors.at else None
        await WorkerBeat.update_or_create(
            name=app.worker_name[:96],
            defaults={
                "host": socket.gethostname()[:128],
                "pid": os.getpid(),
                "adapters": ",".join(sorted(app.adapters))[:128],
                "started_at": self.started_at,
                "seen_at": now,
                "stopped_at": now if stopped else None,
                "handled": app.handled,
                "in_flight": app.in_flight,
                "last_error": self.errors.text,
                "last_error_at": error_at,
            },
        )

    async def run_forever(self) -> None:
        root = logging.getLogger()
        root.addHandler(self.errors)
        try:
            while True:
                try:
                    await self.beat()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    if is_database_error(exc):
                        self.app.metrics.db_error("heartbeat")
                    log.warning("heartbeat not written; retrying", exc_info=True)
                await asyncio.sleep(self.app.settings.worker.heartbeat_seconds)
        finally:
            root.removeHandler(self.errors)

    async def run_due(self, limit: int | None = None) -> int:
        return 0
