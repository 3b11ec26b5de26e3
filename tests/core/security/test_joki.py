"""Security: secrets typed by members are never stored, never echoed, and in groups the bot
warns against joki (issue #15).

The attacks: a 6-digit OTP typed at the name step ("kode OTP 482913") was stored and shown
in /profil, digests and /anggota; a NIK typed at the region step was echoed back ("Wilayah
“1108…” tidak ditemukan"), in a group to everyone; a NIK or OTP posted in a group got no
reaction.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from tortoise import Tortoise, fields

import core.testing
from core import App, AuditEntry, Capability, FakeClock, Member, Role
from core.testing import ALL_CAPABILITIES, TEST_START, FakeChat, FakeUser, MemoryAdapter

NIK = "1108010101900001"
OTP = "kode OTP 482913"


@pytest_asyncio.fixture
async def everything() -> AsyncIterator[App]:
    """The whole bot (onboarding, regions, captains...)."""
    async with core.testing.make_app(
        clock=FakeClock(TEST_START), limits={"commands_per_minute": 0}
    ) as app:
        yield app


def _nowhere(chat: FakeChat, *secrets: str) -> None:
    for sent in chat.sent:
        for secret in secrets:
            assert secret not in sent.full_text(), sent.full_text()


async def _stored_anywhere(app: App, secret: str) -> list[str]:
    """Every text column of every table holding ``secret``."""
    found = []
    for model in _models():
        for name, field in model._meta.fields_map.items():
            if isinstance(field, fields.CharField | fields.TextField | fields.JSONField):
                for value in await model.all().values_list(name, flat=True):
                    if value is not None and secret in str(value):
                        found.append(f"{model._meta.db_table}.{name}")
    return found


def _models() -> list[Any]:
    return [m for app in Tortoise.apps.values() for m in app.values()]


async def _register_until(chat: FakeChat, user: FakeUser, step: str) -> None:
    await user.says("/start")
    await user.presses("Setuju")
    chat.expect_sent(user, contains="Nama apa")
    if step == "name":
        return
    await user.says("Amir Hamzah")
    chat.expect_sent(user, contains="kabupaten/kota mana")


async def test_otp_at_the_name_step_is_not_stored_nor_shown(everything: App) -> None:
    chat = FakeChat(everything)
    amir = chat.user("amir")
    await _register_until(chat, amir, "name")
    await amir.says(OTP)
    told = chat.expect_sent(amir, contains="tidak disimpan")
    assert "kode OTP/PIN" in told.text
    # Still at the name step: the next answer is the name.
    await amir.says("Amir Hamzah")
    chat.expect_sent(amir, contains="kabupaten/kota mana")
    _nowhere(chat, "482913")
    assert await _stored_anywhere(everything, "482913") == []


async def test_nik_at_the_region_step_is_never_echoed(everything: App) -> None:
    chat = FakeChat(everything)
    amir = chat.user("amir")
    await _register_until(chat, amir, "region")
    await amir.says(NIK)
    chat.expect_sent(amir, contains="NIK dan tidak disimpan")
    chat.expect_not_sent(amir, contains="tidak ditemukan")
    _nowhere(chat, NIK, "1108010101")
    assert await _stored_anywhere(everything, NIK) == []


async def test_nik_in_a_group_is_deleted_warned_once_and_counted(everything: App) -> None:
    chat = FakeChat(everything)
    group = chat.group("Alumni Aceh Utara")
    cut = chat.user("cut")
    await cut.says("/help")
    account = await everything.identity.account_for(cut.ref)
    assert account is not None
    captain = await Member.get(id=account.member_id)
    await everything.roles.grant(captain.id, Role.CAPTAIN, "11")
    victim = chat.user("siti")
    await victim.says("/help")
    await Member.filter(display_name="siti").update(region_code="11.08")

    await victim.says(group, f"ini NIK saya {NIK}, tolong bantu cairkan")
    warning = chat.expect_sent(group, contains="Awas joki")
    assert "telah dihapus" in warning.text
    assert [ref.chat for ref in chat.adapter().deleted] == [group]
    await chat.user("budi").says(group, OTP)
    # One warning per wave (cool-down), the second message deleted too.
    assert len([s for s in chat.sent_to(group) if "Awas joki" in s.text]) == 1
    assert len(chat.adapter().deleted) == 2
    _nowhere(chat, NIK, "482913")
    assert await _stored_anywhere(everything, NIK) == []

    entries = await AuditEntry.filter(action="safety.secret").order_by("id")
    assert [(e.region_code, e.details["kind"]) for e in entries] == [
        ("11.08", "nik"),
        (None, "otp"),
    ]
    stats = await everything.plugins.collect_stats(["11"], everything)
    assert stats["privacy"]["secrets_caught"] == 1
    assert stats["privacy"]["secrets_nik"] == 1


async def test_where_the_bot_cannot_delete_it_still_warns(everything: App) -> None:
    platform = MemoryAdapter("tg", caps=ALL_CAPABILITIES - {Capability.DELETE_MESSAGES})
    chat = FakeChat(everything, [platform])
    group = chat.group("Alumni")
    await chat.user("amir").says(group, "OTP saya 4829 13")
    warning = chat.expect_sent(group, contains="Awas joki")
    assert "tidak disimpan oleh bot" in warning.text
    assert platform.deleted == []


async def test_deleting_is_configurable(make_app: Any, clock: FakeClock) -> None:
    async with make_app(clock=clock, safety={"delete_secret_messages": False}) as app:
        chat = FakeChat(app)
        group = chat.group("Alumni")
        await chat.user("amir").says(group, "password: Rahasia123")
        chat.expect_sent(group, contains="Awas joki")
        assert chat.adapter().deleted == []
