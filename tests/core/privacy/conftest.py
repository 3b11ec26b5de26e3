"""Fixtures of the privacy tests: an App with the sign-up plugin on two platforms."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from privacy_helpers import EventsPlugin

from core import FakeClock
from core.testing import FakeChat, MemoryAdapter


@pytest_asyncio.fixture
async def signups() -> EventsPlugin:
    return EventsPlugin()


@pytest_asyncio.fixture
async def two(make_app: Any, clock: FakeClock, signups: EventsPlugin) -> AsyncIterator[FakeChat]:
    """A FakeChat with a ``telegram`` and a ``discord`` platform."""
    async with make_app(clock=clock, plugins=[signups]) as app:
        yield FakeChat(app, [MemoryAdapter("telegram"), MemoryAdapter("discord")])
