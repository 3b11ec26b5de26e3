"""Prometheus metrics: one registry per App, every series labelled with the ``worker``.

Each worker process serves its own ``/metrics`` (on the web server, the webhook server or
``[metrics] listen``) from its own registry, and every series carries ``worker`` (the
``[worker] name``), so several processes on one host never share or overwrite a series and
Prometheus sums across workers with ``sum without (worker)``. No global registry: two Apps in
one process (tests) keep separate counts.

Counters are bumped at the core's choke points (dispatch, the plugin hook caller, the
scheduler, the outbox); gauges that describe the database (queue depths, due jobs, lag) are
read from it when scraped (:meth:`Metrics.refresh`), so they are right whichever worker did
the work.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, Final, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from tortoise.exceptions import (
    DBConnectionError,
    IncompleteInstanceError,
    IntegrityError,
    NotExistOrMultiple,
    NoValuesFetched,
    ObjectDoesNotExistError,
    OperationalError,
    TransactionManagementError,
)

__all__ = [
    "CONTENT_TYPE",
    "CommandOutcome",
    "DeliveryResult",
    "Metrics",
    "is_database_error",
]

CONTENT_TYPE: Final = CONTENT_TYPE_LATEST

_S = TypeVar("_S", Counter, Gauge)

#: Seconds; a command answered from the database is typically a few milliseconds, a
#: broadcast start or an export a second or more.
#: Handling times held between scrapes before they are flushed anyway.
_HANDLED_HELD = 10_000

_HANDLING_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class CommandOutcome:
    """The ``outcome`` label of ``guyub_commands_total``."""

    OK = "ok"
    USAGE_ERROR = "usage_error"
    REFUSED = "refused"
    INTERNAL_ERROR = "internal_error"
    UNKNOWN_COMMAND = "unknown_command"


class DeliveryResult:
    """The ``result`` label of ``guyub_deliveries_total``."""

    DELIVERED = "delivered"
    FAILED = "failed"
    UNREACHABLE = "unreachable"
    UNKNOWN = "unknown"
    DEFERRED = "deferred"  # a 429: put back for later, nothing dropped
    RETRY = "retry"  # a transient error: tried again after a backoff


class Metrics:
    """Every series Guyub exports, in a registry of its own."""

    def __init__(self, worker: str = "", registry: CollectorRegistry | None = None) -> None:
        self.worker = worker or "main"
        self.registry = registry or CollectorRegistry()
        # Labelled children, looked up once: prometheus-client's labels() is the costly part
        # of a count, and every label value here comes from a bounded set.
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}
        #: Told of every unexpected error the core catches (a handler, a job, a plugin
        #: hook, a background loop): the test kit shows them to the test that caused them.
        self.error_listeners: list[Callable[[BaseException, str], None]] = []
        # What every update counts (received, handled, its command, its reply) is kept in
        # plain dicts and handed to prometheus-client when the registry is collected (a
        # scrape): a count on the hot path is then one dict update, not a lock and checks.
        self._received: dict[tuple[str, str], int] = {}
        self._commands: dict[tuple[str, str], int] = {}
        self._deliveries: dict[tuple[str, str], int] = {}
        self._handled: list[tuple[str, float]] = []
        self._in_flight = 0
        self.registry.register(_Flush(self))  # first: collected before the series it feeds
        counter, gauge = self._series(Counter), self._series(Gauge)
        self.updates = counter(
            "guyub_updates_received",
            "Platform updates received, by platform and event type.",
            "platform",
            "type",
        )
        self.handling = Histogram(
            "guyub_update_handling_seconds",
            "Time from an update's arrival to the end of its handling, by event type.",
            ["worker", "type"],
            buckets=_HANDLING_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = gauge("guyub_updates_in_flight", "Updates being handled right now.")
        self.commands = counter(
            "guyub_commands",
            "Commands by name and outcome (ok, usage_error, refused, internal_error, "
            "unknown_command).",
            "command",
            "outcome",
        )
        self.hook_errors = counter(
            "guyub_plugin_hook_errors",
            "Plugin hook calls that raised, by plugin and hook.",
            "plugin",
            "hook",
        )
        self.hook_timeouts = counter(
            "guyub_plugin_hook_timeouts",
            "Plugin hook calls abandoned after plugins.hook_timeout, by plugin and hook.",
            "plugin",
            "hook",
        )
        self.deliveries = counter(
            "guyub_deliveries",
            "Outbox sends by platform and result (delivered, failed, unreachable, unknown, "
            "deferred by a 429, retry).",
            "platform",
            "result",
        )
        self.rate_limited = counter(
            "guyub_rate_limited", "429 / retry-after answers received from a platform.", "platform"
        )
        self.queue_depth = gauge(
            "guyub_outbox_queue_depth",
            "Outbox deliveries not finished, by status (due, deferred, sending); read from the "
            "database when scraped.",
            "status",
        )
        self.jobs = counter(
            "guyub_scheduler_jobs",
            "Scheduler job runs by kind and result (done, retry, failed, late).",
            "kind",
            "result",
        )
        self.job_failures = counter(
            "guyub_scheduler_job_failures",
            "Job attempts that raised, by kind (each retry counts).",
            "kind",
        )
        self.jobs_due = gauge(
            "guyub_scheduler_due_jobs",
            "Pending jobs whose due time has passed; read from the database when scraped.",
        )
        self.scheduler_lag = gauge(
            "guyub_scheduler_lag_seconds",
            "How long the oldest due pending job has been waiting (0 when none is due).",
        )
        self.db_errors = counter(
            "guyub_database_errors",
            "Database errors caught by the core, by where they happened.",
            "where",
        )
        self.up = gauge("guyub_worker_start_time_seconds", "Unix time this worker process started.")

    def _series(self, kind: type[_S]) -> Callable[..., _S]:
        """A maker of ``kind`` series in this registry, labelled ``worker`` first."""

        def make(name: str, documentation: str, *labels: str) -> _S:
            return kind(name, documentation, ["worker", *labels], registry=self.registry)

        return make

    # --- recording -------------------------------------------------------------------

    def _child(self, metric: Any, *labels: str) -> Any:
        key = (id(metric), labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(self.worker, *labels)
        return child

    def handling_started(self) -> None:
        self._in_flight += 1

    def handling_ended(self) -> None:
        self._in_flight -= 1

    def update_received(self, platform: str, event_type: str) -> None:
        key = (platform, event_type)
        self._received[key] = self._received.get(key, 0) + 1

    def update_handled(self, event_type: str, seconds: float) -> None:
        self._handled.append((event_type, seconds))
        if len(self._handled) >= _HANDLED_HELD:
            self.flush()  # nobody scrapes: the held timings stay few

    def command(self, name: str, outcome: str) -> None:
        key = (name, outcome)
        self._commands[key] = self._commands.get(key, 0) + 1

    def hook_failed(self, plugin: str, hook: str, *, timeout: bool = False) -> None:
        series = self.hook_timeouts if timeout else self.hook_errors
        self._child(series, plugin, hook).inc()

    def delivery(self, platform: str, result: str) -> None:
        key = (platform, result)
        self._deliveries[key] = self._deliveries.get(key, 0) + 1

    def flush(self) -> None:
        """Hand the counts held since the last flush to their series (done at every
        collection of the registry; call it before reading a series directly)."""
        for series, held in (
            (self.updates, self._received),
            (self.commands, self._commands),
            (self.deliveries, self._deliveries),
        ):
            if held:
                counts = list(held.items())
                held.clear()
                for labels, count in counts:
                    self._child(series, *labels).inc(count)
        if self._handled:
            handled, self._handled = self._handled, []
            for event_type, seconds in handled:
                self._child(self.handling, event_type).observe(seconds)
        self._child(self.in_flight).set(self._in_flight)

    def rate_limit(self, platform: str) -> None:
        self._child(self.rate_limited, platform).inc()

    def job(self, kind: str, result: str) -> None:
        self._child(self.jobs, kind, result).inc()

    def job_failed(self, kind: str) -> None:
        self._child(self.job_failures, kind).inc()

    def db_error(self, where: str) -> None:
        self._child(self.db_errors, where).inc()

    def note_error(self, exc: BaseException, where: str) -> None:
        """An unexpected error caught at ``where``: counted if it is a database error,
        and told to the :attr:`error_listeners`."""
        if is_database_error(exc):
            self.db_error(where)
        for listener in self.error_listeners:
            listener(exc, where)

    def started(self, at: datetime) -> None:
        self._child(self.up).set(at.timestamp())

    # --- database gauges -------------------------------------------------------------

    def set_queue(self, depths: dict[str, int]) -> None:
        for status, count in depths.items():
            self._child(self.queue_depth, status).set(count)

    def set_scheduler(self, due: int, lag_seconds: float) -> None:
        self._child(self.jobs_due).set(due)
        self._child(self.scheduler_lag).set(max(0.0, lag_seconds))

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)


class _Flush:
    """A collector that yields no series: collected first, it flushes the held counts into
    the series collected after it."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Any]:
        self.metrics.flush()
        return iter(())


_DB_ERRORS: tuple[type[BaseException], ...] = (
    DBConnectionError,
    OperationalError,
    IntegrityError,
    TransactionManagementError,
    sqlite3.Error,
    ConnectionRefusedError,
)


def _all_db_errors() -> tuple[type[BaseException], ...]:
    """The database errors, asyncpg's too once it is loaded: until then (SQLite) none of its
    errors can exist, and importing it just to name them would cost every start-up."""
    asyncpg = sys.modules.get("asyncpg")
    if asyncpg is None:
        return _DB_ERRORS
    return (*_DB_ERRORS, asyncpg.PostgresError, asyncpg.InterfaceError)


_NOT_DB_ERRORS: tuple[type[BaseException], ...] = (
    NotExistOrMultiple,
    ObjectDoesNotExistError,
    NoValuesFetched,
    IncompleteInstanceError,
)


def is_database_error(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) came from the database or its driver."""
    seen: set[int] = set()
    current: BaseException | None = exc
    errors = _all_db_errors()
    while current is not None and id(current) not in seen:
        if isinstance(current, _NOT_DB_ERRORS):
            return False  # a lookup that found nothing is the code's business, not the DB's
        if isinstance(current, errors):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
