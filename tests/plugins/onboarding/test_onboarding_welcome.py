"""Joining a group: the welcome, the "I'm human" gate, leaving, and platforms without deep links."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from core import Capability
from core.testing import ALL_CAPABILITIES, FakeChat, MemoryAdapter


class NoDeepLinks(MemoryAdapter):
    """A platform like Discord: no deep link into the private chat."""

    def dm_link(self, payload: str = "") -> str | None:
        return None


@pytest.fixture
async def gated(make_app: Any, clock: Any) -> AsyncIterator[FakeChat]:
    async with make_app(clock=clock, onboarding={"verify_timeout": 10}) as app:
        yield FakeChat(app)


async def test_welcome_in_english_for_an_english_speaker(chat: FakeChat) -> None:
    jane = chat.user("jane", language="en")
    group = chat.group("Alumni")
    await jane.joins(group)
    sent = chat.expect_sent(group, contains="Welcome, jane")
    assert "Beware of joki" in sent.text
    assert "I'm human" not in sent.full_text()


async def test_configured_rules_are_shown_escaped(make_app: Any, clock: Any) -> None:
    async with make_app(clock=clock, onboarding={"rules": "No <b>spam</b> & be kind"}) as app:
        chat = FakeChat(app)
        group = chat.group("G")
        await chat.user("amir").joins(group)
        sent = chat.expect_sent(group, contains="No <b>spam</b> & be kind")
        assert "&lt;b&gt;" in sent.markup


async def test_unverified_member_is_removed_after_the_timeout(gated: FakeChat) -> None:
    chat = gated
    amir = chat.user("amir")
    group = chat.group("Aceh")
    await amir.joins(group)
    chat.expect_sent(group, contains="Saya manusia")
    await chat.advance("9m")
    assert chat.adapter().moderation == []
    await chat.advance("2m")
    [removed] = chat.adapter().moderation
    assert (removed.action, removed.chat, removed.user) == ("kick", group, amir.ref)


async def test_pressing_im_human_keeps_the_member(gated: FakeChat) -> None:
    chat = gated
    amir, budi = chat.user("amir"), chat.user("budi")
    group = chat.group("Aceh")
    await amir.joins(group)
    await budi.presses("Saya manusia", group)
    chat.expect_sent(budi, contains="bukan untuk Anda")
    await amir.presses("Saya manusia", group)
    chat.expect_sent(group, contains="Terima kasih, amir")
    await chat.advance("1h")
    assert chat.adapter().moderation == []


async def test_leaving_cancels_the_gate(gated: FakeChat) -> None:
    chat = gated
    amir = chat.user("amir")
    group = chat.group("Aceh")
    await amir.joins(group)
    await amir.leaves(group)
    await chat.advance("1h")
    assert chat.adapter().moderation == []


async def test_gate_is_skipped_where_the_bot_cannot_remove(make_app: Any, clock: Any) -> None:
    weak = MemoryAdapter("weak", caps=ALL_CAPABILITIES - {Capability.KICK})
    async with make_app(clock=clock, onboarding={"verify_timeout": 10}) as app:
        chat = FakeChat(app, [weak])
        group = chat.group("G")
        await chat.user("amir").joins(group)
        sent = chat.expect_sent(group, contains="Selamat datang")
        assert "Saya manusia" not in sent.full_text()
        await chat.advance("1h")
        assert weak.moderation == []


async def test_gate_only_in_listed_groups(make_app: Any, clock: Any) -> None:
    settings = {"verify_timeout": 5, "verify_groups": ["fake:g-strict"]}
    async with make_app(clock=clock, onboarding=settings) as app:
        chat = FakeChat(app)
        await chat.user("amir").joins(chat.group("Relaxed"))
        chat.expect_not_sent(chat.group("Relaxed"), contains="Saya manusia")
        await chat.user("amir").joins(chat.group("Strict"))
        chat.expect_sent(chat.group("Strict"), contains="Saya manusia")


async def test_register_button_moves_the_flow_to_the_dm(make_app: Any, clock: Any) -> None:
    platform = NoDeepLinks("disc")
    async with make_app(clock=clock) as app:
        chat = FakeChat(app, [platform])
        amir = chat.user("amir")
        group = chat.group("Server")
        await amir.joins(group)
        await amir.presses("Daftar sekarang", group)
        chat.expect_sent(group, contains="pesan pribadi")
        chat.expect_sent(amir, contains="Persetujuan data")
        await amir.presses("Setuju")
        chat.expect_sent(amir, contains="Nama apa")


async def test_register_button_when_dms_are_closed(make_app: Any, clock: Any) -> None:
    platform = NoDeepLinks("disc", dm_requires_start=True)
    async with make_app(clock=clock) as app:
        chat = FakeChat(app, [platform])
        amir = chat.user("amir")
        group = chat.group("Server")
        await amir.joins(group)
        await amir.presses("Daftar sekarang", group)
        chat.expect_sent(group, contains="belum bisa mengirim pesan pribadi")
