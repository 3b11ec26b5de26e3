"""A small real plugin for the privacy tests: members register a profile and sign up for
events (one sign-up per member and event), and it implements every member-data hook."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from tortoise import fields
from tortoise.models import Model

from core import (
    App,
    Command,
    Context,
    Member,
    ModelModule,
    Param,
    ParamType,
    PluginInfo,
    hookimpl,
)
from core.testing import FakeChat, FakeUser


class Signup(Model):
    """One member signed up for one event."""

    id = fields.IntField(primary_key=True)
    event = fields.CharField(max_length=32)
    member_id = fields.IntField()
    name = fields.CharField(max_length=128)

    class Meta:
        table = "test_signup"
        unique_together = (("event", "member_id"),)


class EventsPlugin:
    """Registers profiles and event sign-ups; merges and forgets them."""

    PLUGIN = PluginInfo(name="signups", version="1")

    def __init__(self) -> None:
        self.merged: list[tuple[int, int]] = []
        self.seen_messages: list[str] = []

    @hookimpl
    def guyub_register_models(self) -> Sequence[ModelModule]:
        return [ModelModule(app="signups", models=(__name__,))]

    @hookimpl
    def guyub_register_commands(self) -> Sequence[Command]:
        return [
            Command(
                "testregister",
                self.register,
                "core.cmd.help",
                params=(Param("region"), Param("name", ParamType.TEXT)),
            ),
            Command("testsignup", self.signup, "core.cmd.help", params=(Param("event"),)),
            Command("testcount", self.count, "core.cmd.help", params=(Param("event"),)),
        ]

    async def register(self, ctx: Context, region: str, name: str) -> None:
        assert ctx.member is not None
        await Member.filter(id=ctx.member.id).update(
            display_name=name, region_code=region, registered_at=ctx.now()
        )
        await ctx.reply(f"registered {name}")

    async def signup(self, ctx: Context, event: str) -> None:
        assert ctx.member is not None
        await Signup.get_or_create(
            event=event, member_id=ctx.member.id, defaults={"name": ctx.member.display_name}
        )
        await ctx.reply(f"signed up for {event}")

    async def count(self, ctx: Context, event: str) -> None:
        total = await Signup.filter(event=event).count()
        await ctx.reply(f"{event}: {total} signed up")

    @hookimpl
    async def guyub_on_message(self, ctx: Context, event: Any) -> None:
        self.seen_messages.append(event.text)

    @hookimpl
    async def guyub_on_members_merged(self, app: App, kept: Member, merged: Member) -> None:
        self.merged.append((kept.id, merged.id))
        have = set(await Signup.filter(member_id=kept.id).values_list("event", flat=True))
        for row in await Signup.filter(member_id=merged.id):
            if row.event in have:
                await row.delete()
            else:
                row.member_id = kept.id
                await row.save()

    @hookimpl
    async def guyub_export_member(self, member: Member) -> dict[str, Any]:
        rows = await Signup.filter(member_id=member.id).order_by("event")
        return {"signups": [{"event": r.event, "name": r.name} for r in rows]}

    @hookimpl
    async def guyub_forget_member(self, member: Member) -> None:
        await Signup.filter(member_id=member.id).delete()


def link_code(chat: FakeChat, user: FakeUser) -> str:
    """The code in the latest /link answer to ``user``."""
    for sent in reversed(chat.sent_to(user)):
        found = re.search(r"/(?:link|tautkan) ([A-Z0-9]{6})", sent.text)
        if found:
            return found.group(1)
    raise AssertionError("no link code was sent")


async def agree(chat: FakeChat, user: FakeUser) -> None:
    """Give consent with /persetujuan (in the user's DM)."""
    await user.says("/persetujuan")
    await user.presses("✅ Setuju")
