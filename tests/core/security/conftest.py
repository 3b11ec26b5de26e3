"""Fixtures of the security tests: Apps with the core's plugins only, unless a test asks
for ``core.testing.make_app`` itself (the fuzzing through the App loads everything)."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

import core.testing
from core import App, FakeClock


@pytest.fixture
def make_app() -> Any:
    """Apps with the core's plugins and the test's own only: these tests check the core's
    exact answers, which installed plugins (a /start deep link, say) may change."""
    return functools.partial(core.testing.make_app, discover_plugins=False)


@pytest_asyncio.fixture
async def app(make_app: Any, clock: FakeClock) -> AsyncIterator[App]:
    async with make_app(clock=clock) as running:
        yield running
