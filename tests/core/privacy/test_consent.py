"""Consent records: asked once per version, recorded with version, time and channel;
declining or withdrawing stops all processing except export and deletion."""

from __future__ import annotations

from typing import Any

import pytest

import core.testing
from core import FakeClock, Member
from core.privacy import ConsentStatus
from core.privacy.models import ConsentRecord
from core.testing import TEST_START, FakeChat, MemoryAdapter
from tests.core.privacy.privacy_helpers import EventsPlugin, Signup, agree


async def test_consent_is_given_and_recorded_with_version_time_channel(chat: FakeChat) -> None:
    amir = chat.user("amir")
    aceh = chat.group("Aceh")
    await amir.says(aceh, "/help")
    chat.expect_sent(aceh, contains="Perintah Guyub")
    chat.expect_not_sent(amir, contains="UU PDP")  # never asked: no question out of the blue
    await amir.says("/persetujuan")
    shown = chat.expect_sent(amir, contains="NIK")
    assert "Anda belum menjawab" in shown.text
    assert shown.button_labels() == ["✅ Setuju", "Tidak setuju"]
    await amir.presses("✅ Setuju")
    chat.expect_sent(amir, contains="persetujuan Anda tercatat")
    await clock_forward(chat)
    await amir.says("/consent")
    shown = chat.expect_sent(amir, contains="Anda menyetujui versi 1 pada Senin, 23 Nov 2026 ")
    assert "2026-11-23" not in shown.text  # humanised like every other date, never ISO
    assert shown.button_labels() == ["Tarik persetujuan"]
    rows = await ConsentRecord.all().order_by("id")
    assert [(r.status, r.version, r.channel) for r in rows] == [("given", 1, "fake")]
    assert rows[0].at == TEST_START


async def clock_forward(chat: FakeChat) -> None:
    await chat.advance("1h")


async def test_group_chatter_is_not_asked(chat: FakeChat) -> None:
    amir = chat.user("amir")
    await agree(chat, amir)
    chat.app.privacy.settings.consent_version = 2
    await amir.says(chat.group("Aceh"), "halo semua")
    chat.expect_nothing()


async def test_new_version_asks_again(chat: FakeChat) -> None:
    amir = chat.user("amir")
    await agree(chat, amir)
    await amir.says("/help")
    chat.expect_not_sent(amir, contains="UU PDP")
    # The operator changes the text and raises the version ([privacy] consent_version).
    chat.app.privacy.settings.consent_version = 2
    await amir.says(chat.group("Aceh"), "halo")
    chat.expect_nothing()  # group chatter is not an interaction with the bot
    await amir.says("/help")
    chat.expect_sent(amir, contains="diperbarui")
    chat.expect_sent(amir, contains="versi 2")
    chat.expect_sent(amir, contains="Perintah Guyub")  # and the command still runs
    await amir.says("/help")
    chat.expect_not_sent(amir, contains="diperbarui")  # asked once
    await amir.presses("✅ Setuju")
    latest = await chat.app.privacy.consent_of((await Member.get()).id)
    assert latest is not None
    assert (latest.status, latest.version) == ("given", 2)
    statuses = await ConsentRecord.all().order_by("id").values_list("status", "version")
    assert statuses == [("given", 1), ("asked", 2), ("given", 2)]


async def test_stale_consent_button_asks_the_current_version(chat: FakeChat) -> None:
    amir = chat.user("amir")
    await amir.says("/consent")
    chat.app.privacy.settings.consent_version = 7
    await amir.presses("✅ Setuju")
    chat.expect_sent(amir, contains="versi 7")
    assert not await ConsentRecord.filter(status="given").exists()


async def test_withdrawn_consent_stops_processing(make_app: Any, clock: FakeClock) -> None:
    signups = EventsPlugin()
    async with make_app(clock=clock, plugins=[signups]) as app:
        chat = FakeChat(app)
        amir = chat.user("amir")
        aceh = chat.group("Aceh")
        await amir.says("/testsignup temu")
        await agree(chat, amir)
        await amir.says("/consent")
        await amir.presses("Tarik persetujuan")
        chat.expect_sent(amir, contains="Persetujuan ditarik")
        await amir.says("/testsignup webinar")
        chat.expect_sent(amir, contains="tidak memproses data Anda")
        chat.expect_not_sent(amir, contains="signed up")
        await amir.says(aceh, "halo")
        chat.expect_nothing()
        assert "halo" not in signups.seen_messages
        assert await Signup.filter(event="webinar").count() == 0
        # Export and deletion still work, and /help.
        await amir.says("/help")
        chat.expect_sent(amir, contains="Perintah Guyub")
        await amir.says("/dataku")
        chat.expect_sent(amir, contains="JSON")
        await amir.says("/consent")
        chat.expect_sent(amir, contains="menarik persetujuan")
        await amir.presses("✅ Setuju")
        await amir.says("/testsignup webinar")
        chat.expect_sent(amir, contains="signed up for webinar")


async def test_declining_stops_processing(chat: FakeChat) -> None:
    amir = chat.user("amir")
    await amir.says("/persetujuan")
    await amir.presses("Tidak setuju")
    chat.expect_sent(amir, contains="Persetujuan ditarik")
    await amir.says("/language en")
    chat.expect_sent(amir, contains="Language changed")
    await amir.says("/start")
    chat.expect_sent(amir, contains="does not process your data")
    member = await Member.get()
    assert not await chat.app.privacy.may_process(member.id)


async def test_consent_required_blocks_until_agreed(make_app: Any, clock: FakeClock) -> None:
    async with make_app(clock=clock, privacy={"consent_required": True}) as app:
        chat = FakeChat(app)
        amir = chat.user("amir")
        await amir.says("/start")
        chat.expect_sent(amir, contains="UU PDP")
        chat.expect_not_sent(amir, contains="Halo")
        member = await Member.get()
        assert not await app.privacy.may_process(member.id)
        await agree(chat, amir)
        await amir.says("/start")
        chat.expect_sent(amir, contains="Halo")
        assert await app.privacy.may_process(member.id)
        statuses = await ConsentRecord.all().order_by("id").values_list("status", flat=True)
        assert statuses == [ConsentStatus.ASKED, ConsentStatus.GIVEN]


async def test_consent_text_is_never_posted_in_a_group(make_app: Any, clock: FakeClock) -> None:
    telegram = MemoryAdapter("telegram", dm_requires_start=True)
    async with make_app(clock=clock) as app:
        chat = FakeChat(app, [telegram])
        amir = chat.user("amir", platform="telegram")
        aceh = chat.group("Aceh", platform="telegram")
        member = (await app.identity.ensure(amir.ref, "amir")).member_id
        await app.privacy.record_consent(member, "given", "telegram")
        app.privacy.settings.consent_version = 2
        await amir.says(aceh, "/help")
        chat.expect_sent(aceh, contains="Perintah Guyub")
        chat.expect_not_sent(aceh, contains="UU PDP")
        assert await ConsentRecord.filter(status="asked").count() == 0  # not delivered
        await amir.says("/start")  # he opens the private chat: asked there
        chat.expect_sent(amir, contains="diperbarui")
        assert await ConsentRecord.filter(status="asked").count() == 1


async def test_required_consent_in_a_group_points_to_the_private_chat(
    make_app: Any, clock: FakeClock
) -> None:
    telegram = MemoryAdapter("telegram", dm_requires_start=True)
    async with make_app(clock=clock, privacy={"consent_required": True}) as app:
        chat = FakeChat(app, [telegram])
        amir = chat.user("amir", platform="telegram")
        aceh = chat.group("Aceh", platform="telegram")
        await amir.says(aceh, "/help")
        sent = chat.expect_sent(aceh, contains="chat pribadi dengan bot")
        assert sent.button_labels() == ["Buka chat pribadi"]
        chat.expect_not_sent(aceh, contains="Perintah Guyub")


async def test_registration_consent_is_recorded_once_in_the_core(clock: FakeClock) -> None:
    """With every installed plugin: a registration flow that asks for consent itself
    records it through ``app.privacy.record_consent``; nobody is asked twice."""
    async with core.testing.make_app(clock=clock) as app:
        if "onboarding" not in app.plugins.names():
            pytest.skip("the onboarding plugin is not installed")
        chat = FakeChat(app)
        amir = chat.user("amir")
        await amir.says("/start")
        chat.expect_not_sent(amir, contains="UU PDP")
        await amir.presses("✅ Setuju")
        await amir.says("/help")
        chat.expect_not_sent(amir, contains="UU PDP")
        member = await Member.get(display_name="amir")
        latest = await app.privacy.consent_of(member.id)
        assert latest is not None
        assert latest.status == "given"
        assert await app.privacy.may_process(member.id)
