"""Database start-up: a SQLite file runs in WAL mode with synchronous=NORMAL (safe against a
process crash, one disk wait per commit) and waits for other processes' locks."""

from __future__ import annotations

from pathlib import Path

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

    from core import FakeClock
    from core.models import Job
    from core.testing import TEST_START, make_app

    clock = FakeClock(TEST_START)
    async with make_app(clock=clock) as app:
        kind = next(iter(app.scheduler.kinds))
        first = await app.scheduler.schedule(kind, TEST_START + timedelta(days=1))
        clock.advance(timedelta(hours=5))
        second = await app.scheduler.schedule(kind, TEST_START + timedelta(days=1))
        assert (await Job.get(id=first.id)).created_at == TEST_START
        assert (await Job.get(id=second.id)).created_at == TEST_START + timedelta(hours=5)
