"""Security: refusals name the role needed and the command as typed, where it was typed
(issue #15: a non-captain typing /siaran in a group was sent to the private chat, only to
be refused there; an admin-only command told a captain "only for captains or admins")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core import Command, Context, Member, PluginInfo, Role, Where, hookimpl
from core.testing import FakeChat


class Desk:
    PLUGIN = PluginInfo(name="desk")

    @hookimpl
    def guyub_register_commands(self) -> Sequence[Command]:
        return [
            Command(
                "broadcast",
                self.ok,
                "core.cmd.help",
                alias="siaran",
                role=Role.CAPTAIN,
                where=Where.DM,
            ),
            Command("audit", self.ok, "core.cmd.help", alias="jejak", role=Role.ADMIN),
        ]

    async def ok(self, ctx: Context) -> None:
        await ctx.reply("ok")


async def _person(chat: FakeChat, name: str, role: Role | None = None, scope: str = "") -> Any:
    user = chat.user(name)
    await user.says("/help")
    if role is not None:
        member = await Member.get(display_name=name)
        await chat.app.roles.grant(member.id, role, scope)
    return user


async def test_refused_where_typed_naming_role_and_alias(make_app: Any, clock: Any) -> None:
    async with make_app(clock=clock, plugins=[Desk()]) as app:
        chat = FakeChat(app)
        group = chat.group("Alumni")
        budi = await _person(chat, "budi")
        await budi.says(group, "/siaran")
        refused = chat.expect_sent(group, contains="/siaran hanya untuk kapten atau admin")
        assert "chat pribadi" not in refused.text
        cut = await _person(chat, "cut", Role.CAPTAIN, "11")
        await cut.says("/jejak")
        chat.expect_sent(cut, contains="/jejak hanya untuk admin PMO")
        await cut.says(group, "/siaran")
        chat.expect_sent(group, contains="chat pribadi")  # allowed, but in private
        await cut.says("/broadcast")
        chat.expect_sent(cut, contains="ok")
