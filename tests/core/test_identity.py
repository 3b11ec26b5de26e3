"""Identity on the hot path: after first sight, a plain group message and /help cost no
database statement (the dispatch cache); activity is written behind, in batches."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from core import App, FakeClock, UserRef
from core.models import Account, Member
from core.testing import TEST_START, FakeChat, test_settings
from tests.core.sql_trace import statements


@pytest.fixture
async def on_file(make_app: Any, tmp_path: Path) -> Any:
    settings = test_settings(database={"url": f"sqlite://{tmp_path}/guyub.sqlite3"})
    async with make_app(settings=settings, clock=FakeClock(TEST_START)) as app:
        yield FakeChat(app)


async def test_group_chatter_and_help_send_no_statement(on_file: FakeChat) -> None:
    chat = on_file
    aceh = chat.group("Aceh")
    amir = chat.user("amir")
    await amir.says(aceh, "/help")  # first sight: the account is created
    await amir.says(aceh, "/help")  # ... and read once into the cache
    await amir.says(aceh, "halo")
    await chat.app.run_pending()
    with statements() as sent:
        await chat.app.dispatch(_said(chat, amir, "apa kabar semua"), chat.adapter())
        await chat.app.dispatch(_help(chat, amir), chat.adapter())
    assert sent == []
    chat.expect_sent(aceh, contains="Perintah Guyub")


async def test_activity_is_written_in_two_statements_per_batch(app: App) -> None:
    chat = FakeChat(app)
    people = [chat.user(f"alumni{i}") for i in range(700)]
    for person in people:
        await app.identity.ensure(person.ref)
    later = TEST_START + timedelta(hours=1)
    for person in people:
        app.activity.seen(person.ref, later)
    app.activity.seen(UserRef("fake", "never-seen"), later)  # unknown users are skipped
    with statements() as sent:
        assert await app.activity.run_due() == 701
    assert len(sent) == 4  # two batches (500 + 201), two statements each
    assert await Account.filter(last_seen_at=later).count() == 700
    assert await Member.filter(last_active_at=later).count() == 700


async def test_an_older_sighting_never_moves_activity_back(app: App) -> None:
    chat = FakeChat(app)
    amir = chat.user("amir")
    await app.identity.ensure(amir.ref)
    app.activity.seen(amir.ref, TEST_START + timedelta(hours=2))
    await app.activity.run_due()
    app.activity.seen(amir.ref, TEST_START + timedelta(hours=1))
    await app.activity.run_due()
    account = await Account.get(platform_user_id="amir")
    assert account.last_seen_at == TEST_START + timedelta(hours=2)


def _said(chat: FakeChat, user: Any, text: str) -> Any:
    from core import MessageReceived

    return MessageReceived(user=user.sender, chat=chat.group("Aceh"), text=text, at=chat.now())


def _help(chat: FakeChat, user: Any) -> Any:
    from core import CommandInvoked

    return CommandInvoked(user=user.sender, chat=chat.group("Aceh"), name="help", at=chat.now())


async def test_a_newcomers_updates_side_by_side_share_one_lookup(on_file: FakeChat) -> None:
    """Updates of one new user handled side by side create one account and member (the
    others wait for the first lookup), and each gets a copy of its own to change."""
    import asyncio

    chat = on_file
    budi = chat.user("budi")
    found = await asyncio.gather(*(chat.app.identity.resolve(budi.sender) for _ in range(5)))
    assert await Account.filter(platform_user_id="budi").count() == 1
    assert len({a.member_id for a in found}) == 1
    assert len({id(a) for a in found}) == 5
    assert len({id(a.member) for a in found}) == 5
    # ... and a burst of commands from another newcomer, through dispatch.
    cici = chat.user("cici")
    await asyncio.gather(*(chat.app.dispatch(_help(chat, cici), chat.adapter()) for _ in range(4)))
    assert await Account.filter(platform_user_id="cici").count() == 1
