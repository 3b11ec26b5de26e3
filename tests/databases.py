"""A database for tests that need a real file or server rather than ``:memory:``.

Tortoise caches each model's SQL per process, so one test process must not mix SQLite and
PostgreSQL: on the PostgreSQL pass (``GUYUB_TEST_POSTGRES_URL`` set) these tests use a
throw-away database on the server, on the SQLite pass a file."""

from __future__ import annotations

import os
from pathlib import Path

from core import App
from core._db import throwaway_url
from core.testing import test_settings

__all__ = ["drop", "is_server", "real_database_url"]


def real_database_url(tmp_path: Path) -> str:
    base = os.environ.get("GUYUB_TEST_POSTGRES_URL")
    return throwaway_url(base) if base else f"sqlite://{tmp_path / 'guyub.sqlite3'}"


def is_server(url: str) -> bool:
    return not url.startswith("sqlite")


async def drop(url: str) -> None:
    """Drop a server database made for a test (files go with tmp_path)."""
    if not is_server(url):
        return
    settings = test_settings(database={"url": url})
    async with App(settings, discover_plugins=False, schema="none", drop_database=True):
        pass
