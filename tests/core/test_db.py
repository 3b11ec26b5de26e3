"""Database start-up: a SQLite file runs in WAL mode with synchronous=NORMAL (safe against a
process crash, one disk wait per commit) and waits for other processes' locks."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from core import ModelModule, hookimpl
from core._db import redact_url, sqlite_tuned
from core.testing import make_app, test_settings


def test_sqlite_urls_are_tuned_unless_they_say_otherwise() -> None:
    assert sqlite_tuned("sqlite://data/g.sqlite3") == (
        "sqlite://data/g.sqlite3?synchronous=NORMAL&busy_timeout=5000"
    )
    assert sqlite_tuned("sqlite://g.db?synchronous=FULL") == (
        "sqlite://g.db?synchronous=FULL&busy_timeout=5000"
    )
    assert sqlite_tuned("sqlite://:memory:") == "sqlite://:memory:"
    assert sqlite_tuned("postgres://u@h/db") == "postgres://u@h/db"


def test_passwords_are_redacted_from_logged_urls() -> None:
    assert (
        redact_url("postgres://guyub:s3cret@db:5432/guyub") == "postgres://guyub:***@db:5432/guyub"
    )


async def test_a_file_database_uses_wal_and_normal_sync(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path}/g.sqlite3"
    async with make_app(settings=test_settings(database={"url": url})) as app:
        assert app.database.context is not None
        client = app.database.context.db("default")
        pragmas = {k: str(v).lower() for k, v in client.pragmas.items()}  # type: ignore[attr-defined]
    assert pragmas["journal_mode"] == "wal"
    assert pragmas["synchronous"] == "normal"
    assert pragmas["busy_timeout"] == "5000"
    assert (tmp_path / "g.sqlite3").is_file()


async def test_auto_now_fields_follow_the_apps_clock() -> None:
    """Rows stamped by tortoise (auto_now_add / auto_now) get the App's (test) time."""
    from datetime import timedelta

    from core import FakeClock, Member, Role, RoleGrant
    from core.testing import TEST_START, make_app

    clock = FakeClock(TEST_START)
    async with make_app(clock=clock) as app:
        first = await Member.create(display_name="amir")
        clock.advance(timedelta(hours=5))
        await app.roles.grant(first.id, Role.CAPTAIN, "11.08")
        assert (await Member.get(id=first.id)).created_at == TEST_START
        grant = await RoleGrant.get(member_id=first.id)
        assert grant.created_at == TEST_START + timedelta(hours=5)


async def test_a_start_with_nothing_pending_finds_it_without_the_executor(tmp_path: Path) -> None:
    from core import App
    from core.models import Job

    settings = test_settings(database={"url": f"sqlite://{tmp_path}/m.sqlite3"})
    async with App(settings, schema="migrate") as app:
        assert await app.database.unapplied() == []
        await Job.all().count()  # the tables are there
    app = App(settings, schema="none")
    async with app:
        assert await app.database.unapplied() == []
        assert await app.database.migrate() == []


async def test_a_new_database_lists_every_migration_file(tmp_path: Path) -> None:
    from core import App

    settings = test_settings(database={"url": f"sqlite://{tmp_path}/n.sqlite3"})
    async with App(settings, schema="create", discover_plugins=False) as app:
        missing = await app.database.unapplied()
    assert "core.0001_initial" in missing
    assert "core.0003_job_status_due_index" in missing
    assert "state.0002_cache_changes" in missing


@pytest.mark.postgres
@pytest.mark.parametrize("schema", ["migrate", "create"])
async def test_workers_starting_together_on_postgres_change_the_schema_one_at_a_time(
    schema: str,
) -> None:
    """Three workers start at once on a new PostgreSQL database (a deploy scaling to three,
    or the multi-process tests): one creates the tables and the tally triggers, the others
    wait for it and find them there; none fails on a trigger or table the other made."""
    import asyncio
    import os

    from core import App, Member
    from core._db import Database
    from core.models import MemberTally

    if not os.environ.get("GUYUB_TEST_POSTGRES_URL"):
        pytest.skip("needs GUYUB_TEST_POSTGRES_URL")
    settings = test_settings()
    keeper = Database(settings.database.url, [])
    await keeper.open(create=True)  # a new, empty database

    async def worker() -> list[str]:
        async with App(settings, schema=schema, discover_plugins=False) as app:
            await Member.create(display_name="amir")
            return await app.database.unapplied()

    try:
        results = await asyncio.gather(*(worker() for _ in range(3)), return_exceptions=True)
        assert [r for r in results if isinstance(r, BaseException)] == []
        if schema == "migrate":
            assert results == [[], [], []]
        # The triggers were installed once and count every member exactly once.
        assert sum(await MemberTally.all().values_list("members", flat=True)) == 3
    finally:
        await keeper.close(drop=True)


class _Mentoring:
    """A plugin with models but no migration: ``migrations`` names its (empty) package, or
    is None."""

    def __init__(self, migrations: str | None) -> None:
        from core import PluginInfo

        self.PLUGIN = PluginInfo(name="mentoring", version="0.1.0", description="Mentors")
        self.migrations = migrations

    @hookimpl
    def guyub_register_models(self) -> Sequence[ModelModule]:
        return [ModelModule("mentoring", ("tests.core.mentoring_models",), self.migrations)]


@pytest.mark.parametrize("migrations", ["tests.core.mentoring_migrations", None])
async def test_a_plugin_whose_models_no_migration_creates_stops_the_start(
    tmp_path: Path, migrations: str | None
) -> None:
    """Loud at start-up rather than "no such table" in front of the first member who uses
    the plugin: on SQLite and on PostgreSQL, after migrating, one query lists the tables."""
    from core import App, PluginError
    from tests.core.sql_trace import statements
    from tests.databases import drop, is_server, real_database_url

    url = real_database_url(tmp_path)
    settings = test_settings(database={"url": url})
    app = App(
        settings,
        plugins=[_Mentoring(migrations)],
        discover_plugins=False,
        create_database=is_server(url),
    )
    try:
        with pytest.raises(PluginError) as raised, statements() as sent:
            await app.start()
    finally:
        await app.stop()
        await drop(url)
    message = str(raised.value)
    assert "plugin 'mentoring'" in message
    assert "mentoring_mentor" in message
    assert "guyub db makemigrations" in message
    if migrations is None:
        assert "no migrations package" in message
    else:
        assert "no migration (tests.core.mentoring_migrations) creates" in message
    # The check is one query, whatever the number of models.
    assert len([s for s in sent if "sqlite_master" in s or "pg_tables" in s]) == 1


async def test_tables_from_the_models_need_no_migration() -> None:
    """Tests build the tables from the models (``schema="create"``): no check there."""
    from tests.core.mentoring_models import Mentor

    async with make_app(plugins=[_Mentoring(None)], discover_plugins=False):
        await Mentor.create(member_id=1, skill="Excel")
        assert await Mentor.all().count() == 1
