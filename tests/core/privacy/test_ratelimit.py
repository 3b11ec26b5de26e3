"""Command counts in memory with a budget shared across workers: no database write per
command below half the limit, one statement per flush, the refusal decided on the shared
total, and nothing counted lost when the App stops."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from core import App, FakeClock
from core.privacy._ratelimit import CommandBudget
from core.privacy.models import RateCounter
from core.testing import TEST_START, FakeChat, test_settings
from tests.core.sql_trace import statements


async def test_commands_below_half_the_limit_stay_in_memory(app: App) -> None:
    budget = CommandBudget(app.database.dialect)
    with statements() as sent:
        counts = [await budget.hit(7, TEST_START, 20) for _ in range(10)]
    assert counts == list(range(1, 11))
    assert sent == []
    assert not await RateCounter.exists()
    with statements() as sent:
        assert await budget.flush() == 10
    assert len(sent) == 1  # one statement, however many members
    row = await RateCounter.get(bucket="cmd:7")
    assert row.count == 10


async def test_one_statement_flushes_many_members(app: App) -> None:
    budget = CommandBudget(app.database.dialect)
    for member_id in range(1, 301):
        await budget.hit(member_id, TEST_START, 20)
        await budget.hit(member_id, TEST_START, 20)
    with statements() as sent:
        assert await budget.flush() == 600
    assert len(sent) == 1
    assert await RateCounter.filter(count=2).count() == 300


async def test_three_workers_share_one_budget(app: App) -> None:
    """A member sends one command a second to each of three workers; each worker flushes
    every second. The member gets the limit, give or take 10%."""
    workers = [CommandBudget(app.database.dialect) for _ in range(3)]
    limit, allowed, now = 20, 0, TEST_START
    for _ in range(15):
        for worker in workers:
            if await worker.hit(5, now, limit) <= limit:
                allowed += 1
        for worker in workers:
            await worker.flush()
        now += timedelta(seconds=1)
    assert limit <= allowed <= limit * 1.1
    row = await RateCounter.get(bucket="cmd:5")
    assert row.count == 45  # every command counted once


async def test_a_new_window_starts_from_zero(app: App) -> None:
    budget = CommandBudget(app.database.dialect)
    for _ in range(25):
        await budget.hit(3, TEST_START, 20)
    assert await budget.hit(3, TEST_START, 20) == 26
    assert await budget.hit(3, TEST_START + timedelta(minutes=1), 20) == 1
    await budget.flush()
    rows = await RateCounter.filter(bucket="cmd:3").order_by("window_start")
    assert [r.count for r in rows] == [26, 1]


async def test_counts_are_written_when_the_app_stops(make_app: Any, tmp_path: Path) -> None:
    settings = test_settings(database={"url": f"sqlite://{tmp_path}/guyub.sqlite3"})
    async with make_app(settings=settings, clock=FakeClock(TEST_START)) as app:
        chat = FakeChat(app)
        amir = chat.user("amir")
        for _ in range(3):
            await app.dispatch(_help(chat, amir), chat.adapter())  # no run_pending: no flush
        assert app.privacy.budget.pending == 3
        assert app.activity.pending == 1
    async with make_app(settings=settings, clock=FakeClock(TEST_START)):
        assert [r.count for r in await RateCounter.all()] == [3]
        from core.models import Account, Member

        account = await Account.get(platform_user_id="amir")
        assert account.last_seen_at == TEST_START
        assert (await Member.get(id=account.member_id)).last_active_at == TEST_START


def _help(chat: FakeChat, user: Any) -> Any:
    from core import CommandInvoked

    return CommandInvoked(user=user.sender, chat=chat.group("Aceh"), name="help", at=chat.now())


async def test_a_window_ending_writes_nothing_on_the_command_path(app: App) -> None:
    """The first command of a new window does not wait for the old window's counts to be
    written: they go with the next flush, in the same one statement."""
    budget = CommandBudget(app.database.dialect)
    for _ in range(3):
        await budget.hit(4, TEST_START, 20)
    await budget.hit(5, TEST_START, 20)
    later = TEST_START + timedelta(minutes=1)
    with statements() as sent:
        assert await budget.hit(4, later, 20) == 1
        assert await budget.hit(4, later, 20) == 2
    assert sent == []
    assert budget.pending == 6
    with statements() as sent:
        assert await budget.flush() == 6
    assert len(sent) == 1
    rows = await RateCounter.filter(bucket="cmd:4").order_by("window_start")
    assert [(r.window_start, r.count) for r in rows] == [(TEST_START, 3), (later, 2)]
    assert (await RateCounter.get(bucket="cmd:5")).count == 1
    assert budget.pending == 0
