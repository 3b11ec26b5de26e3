"""The pytest plugin of Guyub's test kit (registered under ``pytest11`` as ``guyub``).

Fixtures:

* ``clock`` — a :class:`~core.FakeClock` at :data:`TEST_START`.
* ``make_app`` — ``async with make_app(plugins=[...], **settings) as app`` for custom Apps.
* ``app`` — an App with every installed plugin on a throw-away database.
* ``chat`` — a :class:`FakeChat` on ``app`` with one in-memory platform named ``fake``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from core._app import App
from core._clock import FakeClock
from core.testing._apps import TEST_START
from core.testing._apps import make_app as _make_app
from core.testing._fakechat import FakeChat


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(TEST_START)


@pytest.fixture
def make_app():  # type: ignore[no-untyped-def]
    return _make_app


@pytest_asyncio.fixture
async def app(clock: FakeClock) -> AsyncIterator[App]:
    async with _make_app(clock=clock) as running:
        yield running


@pytest_asyncio.fixture
async def chat(app: App) -> FakeChat:
    return FakeChat(app)
