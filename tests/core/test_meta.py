"""Keeps the plugin contract honest (datasette's habit): every hook is documented and tested,
every text has both languages, and migrations match the models."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from core import hookspecs
from core._app import App
from core._db import Database
from core._i18n import LANGUAGES
from core._plugins import Plugins
from core.testing import make_app, test_settings

TESTS = Path(__file__).resolve().parent.parent
HOOKS = sorted(n for n, f in vars(hookspecs).items() if n.startswith("guyub_") and callable(f))


def test_there_are_hooks() -> None:
    assert len(HOOKS) >= 20


@pytest.mark.parametrize("name", HOOKS)
def test_every_hook_is_documented(name: str) -> None:
    doc = inspect.getdoc(getattr(hookspecs, name)) or ""
    assert len(doc) > 40, f"{name} needs a docstring saying when it is called and what it returns"
    hints = inspect.signature(getattr(hookspecs, name))
    assert hints.return_annotation is not inspect.Signature.empty, f"{name} needs a return type"


@pytest.mark.parametrize("name", HOOKS)
def test_every_hook_has_a_test(name: str) -> None:
    users = [
        p
        for p in TESTS.rglob("test_*.py")
        if p.name != "test_meta.py" and name in p.read_text(encoding="utf-8")
    ]
    assert users, f"no test implements or calls {name}"


async def test_every_text_has_indonesian_and_english() -> None:
    async with make_app() as app:
        indonesian, english = (app.translator.keys(lang) for lang in LANGUAGES)
    assert indonesian - english == set(), "texts missing in English"
    assert english - indonesian == set(), "texts missing in Indonesian"


async def test_every_command_has_a_translated_description_and_alias() -> None:
    async with make_app() as app:
        for command in app.commands.all():
            for lang in LANGUAGES:
                assert app.translator.has(command.description, lang), (command.name, lang)
            assert command.alias, f"/{command.name} needs an Indonesian alias"


async def test_migrations_are_in_step_with_the_models() -> None:
    app = App(test_settings())
    database = Database("sqlite://:memory:", Plugins(app.loaded_plugins()).models())
    await database.open()
    try:
        assert await database.pending_changes() == []
    finally:
        await database.close()


async def test_migrating_an_empty_database_creates_every_table(tmp_path: Path) -> None:
    import os

    from core._db import throwaway_url

    base = os.environ.get("GUYUB_TEST_POSTGRES_URL")
    url = throwaway_url(base) if base else f"sqlite://{tmp_path}/m.sqlite3"
    settings = test_settings(database={"url": url})
    app = App(settings, schema="migrate", create_database=bool(base), drop_database=bool(base))
    async with app:
        assert await app.database.migrate() == []  # already applied at start
        from core.models import Job, Member

        assert await Member.all().count() == 0
        # Only the core's daily retention job is scheduled at start.
        assert await Job.exclude(kind="privacy:retention").count() == 0
