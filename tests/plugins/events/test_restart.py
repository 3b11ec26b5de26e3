"""Reminders survive restarts: the App is closed and a new one opened on the same database
(a SQLite file, or the same PostgreSQL database), with a clock set where the test wants."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import core.testing as kit
import plugins.events
from core import App, Delivery, DeliveryStatus, FakeClock, UserRef
from core.testing import TEST_START, FakeChat, MemoryAdapter

from .conftest import RegionsForTests
from .helpers import captain, create

START = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # tomorrow 19:00 WIB
ONE_HOUR_BEFORE = START - timedelta(hours=1)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    if os.environ.get("GUYUB_TEST_POSTGRES_URL"):
        return kit.test_database_url()
    return f"sqlite://{tmp_path / 'guyub.sqlite3'}"


@asynccontextmanager
async def running(
    url: str, at: datetime, *, first: bool = False, last: bool = False
) -> AsyncIterator[tuple[App, FakeChat]]:
    """One life of the bot: a fresh process-like App on the shared database."""
    regions = RegionsForTests()
    app = App(
        kit.test_settings(database={"url": url}),
        clock=FakeClock(at),
        plugins=[plugins.events, regions],
        discover_plugins=False,
        schema="migrate",
        create_database=first and url.startswith("postgres"),
        drop_database=last and url.startswith("postgres"),
    )
    chat = FakeChat(app, [MemoryAdapter("telegram")])
    regions.bind("11.08", chat.group("Aceh Utara", platform="telegram"))
    async with app:
        yield app, chat


async def first_life(url: str) -> None:
    async with running(url, TEST_START, first=True) as (_, chat):
        kapten = await captain(chat, "kapten", "11.08")
        await create(chat, kapten, "Aceh Utara", "besok jam 19.00")
        amir = chat.user("amir", platform="telegram")
        await amir.says("/start")
        await amir.presses("Hadir", chat.group("Aceh Utara", platform="telegram"))


def reminders_to(chat: FakeChat, name: str) -> list[str]:
    amir = chat.user(name, platform="telegram")
    return [s.text for s in chat.sent_to(amir) if "Pengingat" in s.text]


async def test_restart_before_reminder_sends_it_once_at_the_right_minute(database_url: str) -> None:
    await first_life(database_url)
    # Back up a while before the 1-hour reminder (the 1-day one fell due while down,
    # before the event: it is sent on start, once, saying the real time left).
    async with running(database_url, ONE_HOUR_BEFORE - timedelta(minutes=30)) as (app, chat):
        await app.run_pending()
        late = reminders_to(chat, "amir")
        assert len(late) == 1
        assert "dimulai 90 menit lagi" in late[0]
        await chat.advance(timedelta(minutes=29))
        assert not [t for t in reminders_to(chat, "amir") if "1 jam" in t]
        await chat.advance(timedelta(minutes=1))
        assert app.clock.now() == ONE_HOUR_BEFORE
        assert len([t for t in reminders_to(chat, "amir") if "1 jam" in t]) == 1
    # Another restart after it went out: nothing is sent again.
    async with running(database_url, ONE_HOUR_BEFORE + timedelta(minutes=5), last=True) as (
        app,
        chat,
    ):
        await app.run_pending()
        await chat.advance(timedelta(hours=2))
        assert reminders_to(chat, "amir") == []
        assert await Delivery.filter(status=DeliveryStatus.SENT).count() == 2


async def test_restart_after_the_event_started_sends_no_late_reminder(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    await first_life(database_url)
    caplog.set_level(logging.WARNING, logger="plugins.events")
    async with running(database_url, START + timedelta(minutes=10), last=True) as (app, chat):
        await app.run_pending()
        assert reminders_to(chat, "amir") == []
        assert chat.sent_to(chat.group("Aceh Utara", platform="telegram")) == []
    assert "dropped" in caplog.text


class DyingAdapter(MemoryAdapter):
    """A platform whose process dies (the task is cancelled) at the second DM."""

    async def send_dm(self, user, message):  # type: ignore[no-untyped-def]
        if getattr(self, "dms", 0) >= 1:
            raise asyncio.CancelledError  # the bot is killed in the middle of the fan-out
        self.dms = getattr(self, "dms", 0) + 1
        return await super().send_dm(user, message)


async def test_killed_mid_fan_out_sends_nobody_twice_and_reports_the_unknown(
    database_url: str,
) -> None:
    async with running(database_url, TEST_START, first=True) as (_, chat):
        kapten = await captain(chat, "kapten", "11.08")
        await create(chat, kapten, "Aceh Utara", "besok jam 19.00", reminders="1h")
        for name in ("amir", "budi"):
            user = chat.user(name, platform="telegram")
            await user.says("/start")
            await user.presses("Hadir", chat.group("Aceh Utara", platform="telegram"))
    regions = RegionsForTests()
    app = App(
        kit.test_settings(database={"url": database_url}),
        clock=FakeClock(ONE_HOUR_BEFORE - timedelta(minutes=1)),
        plugins=[plugins.events, regions],
        discover_plugins=False,
    )
    dying = FakeChat(app, [DyingAdapter("telegram")])
    async with app:
        with pytest.raises(asyncio.CancelledError):
            await dying.advance("1m")
        first = [s.to_user for s in dying.sent if "Pengingat" in s.text and s.to_user]
        posted = [s for s in dying.sent if "Pengingat" in s.text and s.to_user is None]
    assert first == [UserRef("telegram", "amir")]  # one DM went out before the process died
    assert len(posted) == 1  # the job itself only enqueued the DMs and posted in the group
    # The next process starts after the dead worker's lease ran out: budi's DM was in the
    # middle of its send when the process died, so nobody knows whether it arrived. It is
    # recorded as unknown and never sent again; nothing else is sent twice.
    async with running(database_url, ONE_HOUR_BEFORE + timedelta(minutes=6), last=True) as (
        app,
        chat,
    ):
        await app.run_pending()
        second = [s for s in chat.sent if "Pengingat" in s.text]
        statuses = dict(await Delivery.all().values_list("target", "status"))
    assert second == []
    assert statuses == {"amir": DeliveryStatus.SENT, "budi": DeliveryStatus.UNKNOWN}
