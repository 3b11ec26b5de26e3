"""Apps for tests: an in-memory SQLite database, or a fresh PostgreSQL database per App when
``GUYUB_TEST_POSTGRES_URL`` is set."""

from __future__ import annotations

import os
import tomllib
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from core._adapter import Adapter
from core._app import App
from core._clock import Clock, FakeClock
from core._db import throwaway_url
from core._messages import FORM_TEXT_LIMIT
from core._plugins import PluginError
from core._settings import DEFAULT_CONFIG, PluginSettings, Settings

__all__ = ["TEST_START", "Restarts", "make_app", "test_database_url", "test_settings"]

#: Tests start on Monday 23 November 2026, 10:00 WIB (03:00 UTC), the day of temu alumni.
TEST_START = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def test_database_url() -> str:
    """``sqlite://:memory:``, or a new database on the server in GUYUB_TEST_POSTGRES_URL."""
    base = os.environ.get("GUYUB_TEST_POSTGRES_URL")
    return throwaway_url(base) if base else "sqlite://:memory:"


def test_settings(**overrides: Any) -> Settings:
    """Settings from the shipped defaults and ``overrides`` only (no local guyub.toml, no
    environment), on a throw-away database unless ``database={"url": ...}`` is given."""
    data: dict[str, Any] = {}
    if DEFAULT_CONFIG.is_file():
        data = tomllib.loads(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    if "url" not in overrides.get("database", {}):
        data.setdefault("database", {})["url"] = test_database_url()
    return Settings.model_validate(data)


test_settings.__test__ = False  # type: ignore[attr-defined]
test_database_url.__test__ = False  # type: ignore[attr-defined]


@asynccontextmanager
async def make_app(
    *,
    plugins: Sequence[object] = (),
    discover_plugins: bool = True,
    plugin_settings: Mapping[str, Any] | None = None,
    adapters: Sequence[Adapter] = (),
    clock: Clock | None = None,
    settings: Settings | None = None,
    create_database: bool | None = None,
    drop_database: bool | None = None,
    **overrides: Any,
) -> AsyncIterator[App]:
    """An App on a throw-away database with a fake clock, closed (and dropped) after.

    ``plugins`` are plugin objects (modules) to load besides the installed ones (all of
    them with ``discover_plugins=False``); one that cannot load (a missing ``requires``)
    raises :class:`core.PluginError`. ``plugin_settings`` is the ``[plugins]`` table
    (``{"disabled": ["polls"]}``); any other keyword is a settings table, such as
    ``events={"default_reminders": "1d"}`` or ``language="en"``.

    Several Apps in one test can share a PostgreSQL database (a restart): create it with the
    first (``create_database=True, drop_database=False``) and drop it with the last.
    """
    if isinstance(plugins, Mapping | str):
        raise TypeError(
            "plugins= takes plugin objects (modules); the [plugins] settings table is "
            "plugin_settings={'disabled': [...]}"
        )
    if plugin_settings is not None:
        stray = sorted(set(plugin_settings) - set(PluginSettings.model_fields))
        if stray:
            keys = ", ".join(PluginSettings.model_fields)
            raise TypeError(
                f"plugin_settings= is the [plugins] table ({keys}), not {', '.join(stray)}; "
                f"a plugin's own settings table is the keyword named after it: "
                f"make_app({stray[0]}={{...}})"
            )
        if settings is not None:
            raise TypeError("pass plugin_settings inside settings, or settings= alone")
        overrides["plugins"] = dict(plugin_settings)
    settings = settings or test_settings(**overrides)
    url = settings.database.url
    server = not url.startswith("sqlite")
    app = App(
        settings,
        adapters=adapters,
        clock=clock or FakeClock(TEST_START),
        plugins=plugins,
        discover_plugins=discover_plugins,
        schema="create",
        create_database=server if create_database is None else create_database and server,
        drop_database=server if drop_database is None else drop_database and server,
    )
    async with app:
        _refuse_long_form_texts(app)
        yield app


def _refuse_long_form_texts(app: App) -> None:
    """A form title or step label a form would cut is a warning in production; in the
    tests of the plugin that has it (passed in ``plugins=``) it fails, so its author sees
    it before a member does."""
    named = {p.info.name for p in app.plugins.loaded if p.source == "app" and p.enabled}
    found = [(plugin, long) for plugin, long in app.long_form_texts if plugin in named]
    if found:
        raise PluginError(
            "form texts longer than a form shows "
            f"({FORM_TEXT_LIMIT} characters; Discord cuts them): "
            + "; ".join(
                f"plugin {plugin!r}, text {long.key!r} in {long.language!r} "
                f"({len(long.text)} characters: {long.text!r})"
                for plugin, long in found
            )
        )


class Restarts:
    """One bot stopped and started again on the same database, as an operator's restart::

        lives = Restarts(settings, clock=clock, discover_plugins=False)
        async with lives.app(plugin) as app:
            await app.scheduler.schedule(...)
        clock.advance(timedelta(hours=5))  # the bot was down meanwhile
        async with lives.app(plugin, last=True) as app:
            await app.run_pending()

    ``settings`` must name a database that outlives one App: a SQLite file or a server
    database. The first App creates it; the one opened with ``last=True`` drops it (a file
    goes with its folder). Keywords given here apply to every App, those given to
    :meth:`app` to that App only (as for :func:`make_app`).
    """

    def __init__(self, settings: Settings, *, clock: Clock | None = None, **options: Any) -> None:
        self.settings = settings
        self.clock = clock or FakeClock(TEST_START)
        self._options = options
        self._started = False

    @asynccontextmanager
    async def app(self, *plugins: object, last: bool = False, **options: Any) -> AsyncIterator[App]:
        first, self._started = not self._started, True
        async with make_app(
            plugins=plugins,
            clock=self.clock,
            settings=self.settings,
            create_database=first,
            drop_database=last,
            **{**self._options, **options},
        ) as app:
            yield app
