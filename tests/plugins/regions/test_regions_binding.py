"""Security: a captain can't take over another region's group with /region_link.

The attack (issue #15): the captain of Aceh Utara typed ``/tautkan_wilayah Aceh Utara
https://t.me/+penipu`` in Bireuen's group; it was accepted, the group moved to Aceh Utara,
Bireuen's captain lost moderation there and ``/wilayah Aceh Utara`` advertised the group
with the attacker's link.
"""

from __future__ import annotations

from core import AuditEntry, Member, Role
from core.testing import FakeChat, FakeUser
from plugins.regions.models import RegionChat


async def _captain(
    chat: FakeChat, name: str, scope: str | None, *, admin: bool = False
) -> FakeUser:
    user = chat.user(name)
    await user.says("/help")
    account = await chat.app.identity.account_for(user.ref)
    assert account is not None
    member = await Member.get(id=account.member_id)
    if scope is not None:
        await chat.app.roles.grant(member.id, Role.CAPTAIN, scope)
    if admin:
        await chat.app.roles.grant(member.id, Role.ADMIN)
    return user


async def _bireuen_group(chat: FakeChat) -> tuple[FakeUser, FakeUser]:
    """Bireuen's group, bound by its captain, who administers it on the platform."""
    bireuen = await _captain(chat, "fauzan", "11.11")
    attacker = await _captain(chat, "teuku", "11.08")
    group = chat.group("Alumni Bireuen")
    chat.adapter().chat_admins = {group.id: {bireuen.ref.id}}
    await bireuen.says(group, "/tautkan_wilayah Bireuen https://t.me/+bireuen")
    chat.expect_sent(group, contains="grup wilayah Kabupaten Bireuen")
    return bireuen, attacker


async def test_other_regions_captain_cannot_rebind_a_bound_group(chat: FakeChat) -> None:
    _bireuen, attacker = await _bireuen_group(chat)
    group = chat.group("Alumni Bireuen")
    # Even if he is a group admin there, he doesn't manage Bireuen.
    assert chat.adapter().chat_admins is not None
    chat.adapter().chat_admins[group.id].add(attacker.ref.id)
    await attacker.says(group, "/tautkan_wilayah Aceh Utara https://t.me/+penipu")
    chat.expect_sent(group, contains="tidak mengurus wilayah 11.11")
    bound = await RegionChat.get(chat_id=group.id)
    assert bound.region_code == "11.11"
    assert bound.invite_link == "https://t.me/+bireuen"
    await attacker.says(group, "/lepas_wilayah")
    chat.expect_sent(group, contains="tidak mengurus wilayah 11.11")
    assert await RegionChat.filter(chat_id=group.id).count() == 1
    # The group is still Bireuen's: its captain's broadcasts reach it, Aceh Utara's card
    # doesn't advertise it with the attacker's link.
    assert await chat.app.regions.chats("11.11") == [group]
    assert await chat.app.regions.chats("11.08") == []
    await attacker.says("/wilayah Aceh Utara")
    assert "penipu" not in chat.last(attacker).markup


async def test_binder_must_administer_the_group_on_the_platform(chat: FakeChat) -> None:
    captain = await _captain(chat, "cut", "11")
    group = chat.group("Grup Orang Lain")
    chat.adapter().chat_admins = {group.id: {"someone_else"}}
    await captain.says(group, "/tautkan_wilayah Aceh Utara https://t.me/+penipu")
    chat.expect_sent(group, contains="hanya admin grup ini")
    assert await RegionChat.all().count() == 0
    # An admin of the PMO isn't an admin of every group either.
    pmo = await _captain(chat, "pmo", None, admin=True)
    await pmo.says(group, "/tautkan_wilayah Aceh Utara")
    chat.expect_sent(group, contains="hanya admin grup ini")
    assert await RegionChat.all().count() == 0


async def test_platform_that_cannot_tell_relies_on_region_rules(chat: FakeChat) -> None:
    captain = await _captain(chat, "cut", "11.08")
    group = chat.group("Aceh Utara")
    assert chat.adapter().chat_admins is None
    await captain.says(group, "/tautkan_wilayah Aceh Utara")
    chat.expect_sent(group, contains="grup wilayah Kabupaten Aceh Utara")


async def test_rebind_by_covering_captain_is_audited_and_old_captains_told(
    chat: FakeChat,
) -> None:
    bireuen, _ = await _bireuen_group(chat)
    group = chat.group("Alumni Bireuen")
    province = await _captain(chat, "cut", "11")
    assert chat.adapter().chat_admins is not None
    chat.adapter().chat_admins[group.id].add(province.ref.id)
    await bireuen.says("/start")  # Bireuen's captain can be told privately
    await province.says(group, "/tautkan_wilayah Aceh Utara")
    chat.expect_sent(group, contains="grup wilayah Kabupaten Aceh Utara")
    told = chat.expect_sent(bireuen, contains="memindahkan grup")
    assert "Alumni Bireuen" in told.text
    assert "Bireuen" in told.text
    assert "Aceh Utara" in told.text
    entry = await AuditEntry.filter(action="regions.link").order_by("-id").first()
    assert entry is not None
    assert entry.region_code == "11.08"
    assert entry.details["previous"] == "11.11"
    assert entry.target == group.key

    await province.says(group, "/lepas_wilayah")
    chat.expect_sent(group, contains="tidak lagi")
    unlinked = await AuditEntry.filter(action="regions.unlink").order_by("-id").first()
    assert unlinked is not None
    assert unlinked.region_code == "11.08"


async def test_unlink_needs_the_group_admin_too(chat: FakeChat) -> None:
    bireuen, _ = await _bireuen_group(chat)
    group = chat.group("Alumni Bireuen")
    province = await _captain(chat, "cut", "11")
    await province.says(group, "/lepas_wilayah")
    chat.expect_sent(group, contains="hanya admin grup ini")
    assert await RegionChat.filter(chat_id=group.id).count() == 1
    await bireuen.says(group, "/lepas_wilayah")
    chat.expect_sent(group, contains="tidak lagi")
    # The province captain covers Bireuen: he hears of the unlink.
    chat.expect_sent(province, contains="melepaskan grup")
