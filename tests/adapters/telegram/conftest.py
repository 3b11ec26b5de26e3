"""Fixtures for the Telegram adapter tests (helpers live in telegram_kit)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from telegram_kit import Probe

from adapters.telegram.testing import FakeBotApi


@pytest_asyncio.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as server:
        yield server


@pytest.fixture
def probe() -> Probe:
    return Probe()
