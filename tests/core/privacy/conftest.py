"""Fixtures of the privacy tests: Apps with the core's plugins and the sign-up test plugin;
``everything`` also loads every installed plugin (the forget walk and /mydata tests)."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

import core.testing
from core import App, FakeClock
from core.testing import FakeChat, MemoryAdapter
from tests.core.privacy.privacy_helpers import EventsPlugin


@pytest_asyncio.fixture
async def signups() -> EventsPlugin:
    return EventsPlugin()


@pytest_asyncio.fixture
async def two(make_app: Any, clock: FakeClock, signups: EventsPlugin) -> AsyncIterator[FakeChat]:
    """A FakeChat with a ``telegram`` and a ``discord`` platform."""
    async with make_app(clock=clock, plugins=[signups]) as app:
        yield FakeChat(app, [MemoryAdapter("telegram"), MemoryAdapter("discord")])


@pytest_asyncio.fixture
async def everything(clock: FakeClock, signups: EventsPlugin) -> AsyncIterator[FakeChat]:
    """Like ``two``, with every installed plugin loaded too (their tables are walked)."""
    async with core.testing.make_app(clock=clock, plugins=[signups]) as app:
        yield FakeChat(app, [MemoryAdapter("telegram"), MemoryAdapter("discord")])


@pytest.fixture
def make_app() -> Any:
    """Apps with the core's plugins and the test's own only: these tests check the core's
    exact answers, which installed plugins (a /start deep link, say) may change."""
    return functools.partial(core.testing.make_app, discover_plugins=False)


@pytest_asyncio.fixture
async def app(make_app: Any, clock: FakeClock) -> AsyncIterator[App]:
    async with make_app(clock=clock) as running:
        yield running
