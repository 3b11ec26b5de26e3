"""Database start-up: one tortoise app per plugin, tortoise's built-in migrations.

Tortoise 1.x keeps its state in a context variable, so the database is opened in the task
that runs the App (tasks it starts inherit the context) and always closed on the way out.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar, Token
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tortoise import timezone as _tortoise_time
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.context import TortoiseContext
from tortoise.migrations.autodetector import MigrationAutodetector
from tortoise.migrations.executor import MigrationExecutor
from tortoise.migrations.recorder import MigrationRecorder

from core._clock import Clock
from core._logging import secret_filter
from core._specs import ModelModule
from core._sql import table_names

__all__ = [
    "CORE_MODELS",
    "Database",
    "dialect_of",
    "redact_url",
    "tortoise_config",
]

log = logging.getLogger(__name__)

CORE_MODELS = ModelModule(app="core", models=("core.models",), migrations="core.migrations")

#: The core's tortoise apps. Each core feature with tables of its own (the outbox, privacy)
#: is a separate app with its own migrations package, so features evolve independently.
CORE_APPS: list[ModelModule] = [
    CORE_MODELS,
    ModelModule(app="state", models=("core.state.models",), migrations="core.state.migrations"),
    ModelModule(
        app="privacy", models=("core.privacy.models",), migrations="core.privacy.migrations"
    ),
    ModelModule(app="outbox", models=("core.outbox.models",), migrations="core.outbox.migrations"),
    ModelModule(app="web", models=("core.web.models",), migrations="core.web.migrations"),
]


# tortoise stamps auto_now / auto_now_add fields with its own wall clock; they follow the
# running App's clock instead, so tests and the console's :clock see consistent times.
_APP_CLOCK: ContextVar[Clock | None] = ContextVar("guyub_app_clock", default=None)
_wall_now = _tortoise_time.now


def _now() -> datetime:
    clock = _APP_CLOCK.get()
    return clock.now() if clock is not None else _wall_now()


_tortoise_time.now = _now


def use_clock(clock: Clock | None) -> Token[Clock | None]:
    """Make ``clock`` the time of auto_now fields in this context (the App's task and the
    tasks it starts)."""
    return _APP_CLOCK.set(clock)


def reset_clock(token: Token[Clock | None]) -> None:
    """Undo :func:`use_clock` (raises ValueError from another context)."""
    _APP_CLOCK.reset(token)


def dialect_of(url: str) -> str:
    scheme = url.split("://", 1)[0].lower()
    if scheme in ("postgres", "postgresql", "asyncpg", "psycopg"):
        return "postgres"
    return scheme


def _password(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def redact_url(url: str) -> str:
    """The URL without its password, for logs."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def sqlite_tuned(url: str) -> str:
    """A SQLite file URL with ``synchronous=NORMAL`` unless the URL sets it: with WAL (the
    default journal) a crash of the process loses nothing committed, and each commit no
    longer waits for the disk twice. ``busy_timeout`` lets several processes share a file."""
    if not url.startswith("sqlite://") or ":memory:" in url:
        return url
    extra = [
        p
        for p in ("synchronous=NORMAL", "busy_timeout=5000")
        if p.split("=", 1)[0] + "=" not in url
    ]
    if not extra:
        return url
    return url + ("&" if "?" in url else "?") + "&".join(extra)


def tortoise_config(url: str, modules: Sequence[ModelModule]) -> dict[str, Any]:
    url = sqlite_tuned(url)
    apps: dict[str, dict[str, Any]] = {}
    for module in modules:
        app: dict[str, Any] = {"models": list(module.models), "default_connection": "default"}
        if module.migrations:
            app["migrations"] = module.migrations
        apps[module.app] = app
    return {"connections": {"default": url}, "apps": apps, "use_tz": True, "timezone": "UTC"}


class Database:
    """Opens, migrates and closes the database of one App."""

    def __init__(self, url: str, modules: Sequence[ModelModule]) -> None:
        self.url = url
        password = _password(url)
        if password:
            # Drivers put the URL in their errors; no log line may show the password.
            secret_filter().add(password)
        core_labels = {m.app for m in CORE_APPS}
        self.modules = [*CORE_APPS, *[m for m in modules if m.app not in core_labels]]
        self.dialect = dialect_of(url)
        self.context: TortoiseContext | None = None
        self._throwaway: str | None = None

    @property
    def config(self) -> dict[str, Any]:
        return tortoise_config(self.url, self.modules)

    async def open(self, *, create: bool = False) -> TortoiseContext:
        """Initialise tortoise in the current task (and the tasks it will start)."""
        if self.url.startswith("sqlite://") and ":memory:" not in self.url:
            Path(self.url.removeprefix("sqlite://").split("?", 1)[0]).parent.mkdir(
                parents=True, exist_ok=True
            )
        _forget_other_dialects_sql(self.dialect)
        ctx = TortoiseContext()
        ctx.__enter__()
        try:
            await ctx.init(config=self.config, _create_db=create)
        except BaseException:
            ctx.__exit__(None, None, None)
            raise
        self.context = ctx
        log.info("database open: %s", redact_url(self.url))
        return ctx

    async def unapplied(self) -> list[str]:
        """Migration files not recorded as applied (``app.name``), found without loading
        them; every file when the migrations table does not exist yet."""
        recorder = MigrationRecorder(self._require().db("default"))
        try:
            done = {(k.app_label, k.name) for k in await recorder.applied_migrations()}
        except Exception:  # no migrations table: a new database
            done = set()
        missing: list[str] = []
        for label, app in self._apps_config().items():
            missing.extend(
                f"{label}.{name}"
                for name in migration_names(app["migrations"])
                if (label, name) not in done
            )
        return missing

    async def migrate(self) -> list[str]:
        """Apply every pending migration; returns the ones applied. When none is pending
        (every start but the first after an upgrade) the migration executor, which imports
        every migration module and builds their graph, is not even created."""
        if not await self.unapplied():
            return []
        ctx = self._require()
        applied: list[str] = []
        apps = {k: v for k, v in self.config["apps"].items() if v.get("migrations")}

        def progress(event: str, app_label: str, name: str) -> None:
            if event == "apply_done":
                applied.append(f"{app_label}.{name}")

        async with self._schema_lock():
            # Another worker may have applied them while this one waited for the lock.
            if await self.unapplied():
                executor = MigrationExecutor(ctx.db("default"), apps)
                await executor.migrate(None, progress=progress)
        return applied

    async def missing_tables(self) -> dict[str, list[str]]:
        """The tables of each app's models that the database lacks (``{app label: [table]}``),
        from one query listing the tables: after migrating, a table missing means no
        migration creates it (a plugin whose author never ran ``guyub db makemigrations``)."""
        present = await table_names(self._require().db("default"), self.dialect)
        if present is None:
            return {}
        missing: dict[str, list[str]] = {}
        for label, models in self._apps().items():
            lacking = sorted(
                table
                for model in models.values()
                if (table := model._meta.db_table).lower() not in present
            )
            if lacking:
                missing[label] = lacking
        return missing

    async def pending_migrations(self) -> list[str]:
        """Migrations of the core and the enabled plugins not yet applied (``app.name``)."""
        ctx = self._require()
        apps = {k: v for k, v in self.config["apps"].items() if v.get("migrations")}
        plan = await MigrationExecutor(ctx.db("default"), apps).plan()
        return [f"{s.migration.app_label}.{s.migration.name}" for s in plan if not s.backward]

    async def create_schema(self) -> None:
        """Create every table straight from the models (fast path for tests), and the
        triggers that keep the member tallies (migration 0007 on a migrated database)."""
        async with self._schema_lock():
            await self._require().generate_schemas(safe=True)
            if "core" in self._apps_config():
                from core._tallies import install_tallies

                await install_tallies(self._require().db("default"))

    @asynccontextmanager
    async def _schema_lock(self) -> AsyncIterator[None]:
        """On PostgreSQL, one worker at a time changes the schema: several workers starting
        together would otherwise race to create the same trigger or apply the same
        migration. The others wait on a session advisory lock, held on a connection of its
        own so that the pool, however small, stays free for the work; SQLite needs none
        (one process writes at a time)."""
        if self.dialect != "postgres":
            yield
            return
        import asyncpg

        client: Any = self._require().db("default")  # tortoise's asyncpg client
        connection = await asyncpg.connect(
            host=client.host,
            port=client.port,
            user=client.user,
            password=client.password,
            database=client.database,
            ssl=client.extra.get("ssl"),
        )
        try:
            await connection.execute("SELECT pg_advisory_lock($1)", _SCHEMA_LOCK)
            yield
        finally:
            await connection.close()  # the lock goes with the session

    async def pending_changes(self) -> list[str]:
        """Model changes not yet captured in a migration file (``app.name`` per change)."""
        autodetector = MigrationAutodetector(self._apps(), self._apps_config())
        return [f"{w.app_label}.{w.name}" for w in await autodetector.changes()]

    async def make_migrations(self) -> list[str]:
        """Write migration files for model changes; returns their paths."""
        autodetector = MigrationAutodetector(self._apps(), self._apps_config())
        return [str(path) for path in await autodetector.write()]

    async def close(self, *, drop: bool = False) -> None:
        """Close every connection; ``drop`` deletes the database too (throw-away test and
        demo databases)."""
        ctx = self.context
        if ctx is None:
            return
        try:
            if drop and self.dialect != "sqlite":
                client = ctx.db("default")
                await client.close()  # the pool holds sessions that would block DROP
                await _drop(client)
            await ctx.close_connections()
        finally:
            ctx.__exit__(None, None, None)
            self.context = None

    def _apps_config(self) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.config["apps"].items() if v.get("migrations")}

    def _apps(self) -> Any:
        apps = self._require().apps
        if apps is None:
            raise RuntimeError("database is not initialised")
        return apps

    def _require(self) -> TortoiseContext:
        if self.context is None:
            raise RuntimeError("database is not open")
        return self.context


#: The advisory lock key of schema changes (any constant unlikely to clash; the cache
#: triggers use 727167 in a transaction).
_SCHEMA_LOCK = 727168

_dialect_in_use: list[str] = []


def _forget_other_dialects_sql(dialect: str) -> None:
    """Tortoise keeps each model's INSERT/UPDATE text per connection name, not per dialect:
    a process that opens a SQLite database and then a PostgreSQL one (tests, benchmarks)
    would send SQLite's placeholders to PostgreSQL. Forget them when the dialect changes."""
    if _dialect_in_use and _dialect_in_use[0] != dialect:
        EXECUTOR_CACHE.clear()
    _dialect_in_use[:] = [dialect]


def migration_names(package: str) -> list[str]:
    """The migration module names in a migrations package, without importing them."""
    spec = importlib.util.find_spec(package)
    folders = list(spec.submodule_search_locations or []) if spec else []
    return sorted(path.stem for folder in folders for path in Path(folder).glob("[0-9]*.py"))


def throwaway_url(base_url: str) -> str:
    """A fresh database name on the same server (tests on PostgreSQL get one each)."""
    parts = urlsplit(base_url)
    name = f"guyub_test_{uuid.uuid4().hex[:12]}"
    return urlunsplit(parts._replace(path=f"/{name}"))


async def _drop(client: Any) -> None:
    """Drop the server database of ``client``. Sessions of processes that have just ended
    (workers of a test) can outlive them for a moment on the server: wait for them, up to
    five seconds."""
    for attempt in range(50):
        try:
            await client.db_delete()
            return
        except Exception as exc:
            if type(exc).__name__ != "ObjectInUseError" or attempt == 49:
                raise
            await asyncio.sleep(0.1)
