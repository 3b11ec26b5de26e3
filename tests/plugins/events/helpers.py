"""Shared steps for the events tests."""

from __future__ import annotations

from datetime import UTC, datetime

from core import Account, Member, Role
from core.testing import FakeChat, FakeUser
from plugins.events._service import schedule_reminders
from plugins.events.models import Event

from .conftest import RegionsForTests


async def member_of(chat: FakeChat, user: FakeUser) -> Member:
    account = await chat.app.identity.account_for(user.ref)
    if account is None:
        await user.says("/start")
        account = await chat.app.identity.account_for(user.ref)
    assert account is not None
    return await Member.get(id=account.member_id)


async def captain(chat: FakeChat, name: str, scope: str, platform: str = "telegram") -> FakeUser:
    user = chat.user(name, platform=platform)
    member = await member_of(chat, user)
    await chat.app.roles.grant(member.id, Role.CAPTAIN, scope)
    return user


async def link(chat: FakeChat, keep: FakeUser, other: FakeUser) -> Member:
    """What account linking does: the other account moves to the kept member, plugins
    merge their rows, the other member is deleted."""
    kept = await member_of(chat, keep)
    merged = await member_of(chat, other)
    await Account.filter(member_id=merged.id).update(member_id=kept.id)
    await chat.app.plugins.members_merged(chat.app, kept, merged)
    await merged.delete()
    return kept


async def create(
    chat: FakeChat,
    user: FakeUser,
    region: str,
    when: str,
    title: str = "Temu alumni",
    capacity: str | None = None,
    reminders: str | None = None,
) -> Event:
    """Create an event through the flow, answering every step."""
    await user.says("/acara_baru")
    await user.says(title)
    await user.says(region)
    await user.says(when)
    chat.expect_sent(user, contains="Maksud Anda")
    await user.presses("Ya, benar")
    await user.says("Aula kantor bupati")
    if capacity is None:
        await user.presses("Tanpa batas")
    else:
        await user.says(capacity)
    await user.presses("Lewati")
    if reminders is None:
        await user.presses("Bawaan")
    else:
        await user.says(reminders)
    await user.presses("Sekali saja")
    await user.presses("Simpan")
    chat.expect_sent(user, contains="tersimpan")
    event = await Event.filter(title=title).order_by("-id").first()
    assert event is not None
    return event


async def quick_event(
    regions: RegionsForTests, chat: FakeChat, code: str, start: datetime, **fields: object
) -> Event:
    """An event stored directly (for tests about what happens after creation)."""
    event = await Event.create(
        title=fields.pop("title", "Temu alumni"),
        region_code=code,
        starts_at=start.astimezone(UTC),
        tz="Asia/Jakarta",
        reminder_minutes=fields.pop("reminder_minutes", [1440, 60]),
        **fields,
    )
    await schedule_reminders(chat.app, event)
    return event
