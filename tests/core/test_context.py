"""Context: answering the member, and messaging someone else in *their* language."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from core import (
    Action,
    App,
    Button,
    ButtonPressed,
    Command,
    Context,
    Member,
    Param,
    ParamType,
    PluginInfo,
    Text,
    hookimpl,
)
from core._clock import FakeClock
from core.testing import TEST_START, FakeChat, MemoryAdapter, make_app


class _Poke:
    PLUGIN = PluginInfo(name="poke", version="1", description="test")

    @staticmethod
    async def poke(ctx: Context, member_id: int) -> None:
        target = await Member.get(id=member_id)
        await ctx.send_dm(
            target, Text("poke.poked", by=ctx.member.display_name if ctx.member else "")
        )
        await ctx.reply(Text("poke.done"))

    @staticmethod
    async def nudge(ctx: Context, member_id: int) -> None:
        target = await Member.get(id=member_id)
        await ctx.send_dm(target, ctx.t_for(target, "poke.poked", by="<b>x</b>"))

    @staticmethod
    async def board(ctx: Context) -> None:
        assert ctx.chat is not None
        await ctx.send(ctx.chat, Text("poke.board", n=0), buttons=[Button("+1", "poke:plus")])

    @staticmethod
    async def plus(ctx: Context, data: dict[str, object]) -> None:
        assert isinstance(ctx.event, ButtonPressed)
        await ctx.edit(ctx.event.message, Text("poke.board", n=1))

    @hookimpl
    def guyub_register_commands(self) -> list[Command]:
        param = (Param("member_id", ParamType.INT, alias="nomor"),)
        return [
            Command("poke", self.poke, "poke.cmd", alias="colek", params=param),
            Command("nudge", self.nudge, "poke.cmd", alias="senggol", params=param),
            Command("board", self.board, "poke.cmd", alias="papan"),
        ]

    @hookimpl
    def guyub_register_actions(self) -> list[Action]:
        return [Action("poke:plus", self.plus)]

    @hookimpl
    def guyub_register_texts(self) -> dict[str, dict[str, str]]:
        return {
            "id": {
                "poke.cmd": "Colek",
                "poke.poked": "{by} mencolek Anda. Balas dengan {cmd:poke}.",
                "poke.done": "Sudah dicolek.",
                "poke.board": "Papan colek: {n}",
            },
            "en": {
                "poke.cmd": "Poke",
                "poke.poked": "{by} poked you. Poke back with {cmd:poke}.",
                "poke.done": "Poked.",
                "poke.board": "Poke board: {n}",
            },
        }


@pytest_asyncio.fixture
async def setup() -> AsyncIterator[tuple[App, FakeChat]]:
    async with make_app(plugins=[_Poke()], clock=FakeClock(TEST_START)) as app:
        yield app, FakeChat(app, [MemoryAdapter("telegram"), MemoryAdapter("discord")])


async def _member_id(app: App, user) -> int:  # type: ignore[no-untyped-def]
    await user.says("/start")
    account = await app.identity.account_for(user.ref)
    assert account is not None
    return account.member_id


async def test_send_dm_translates_a_text_for_the_recipient(setup: tuple[App, FakeChat]) -> None:
    app, chat = setup
    amir = chat.user("amir", platform="telegram", language="id")
    budi = chat.user("budi", platform="telegram", language="en")
    await _member_id(app, amir)
    budi_id = await _member_id(app, budi)
    await amir.says(f"/colek {budi_id}")
    chat.expect_sent(amir, contains="Sudah dicolek")  # the sender's own language
    chat.expect_sent(budi, contains="amir poked you. Poke back with /poke.")


async def test_the_command_is_spelled_for_the_recipients_platform(
    setup: tuple[App, FakeChat],
) -> None:
    app, chat = setup
    amir = chat.user("amir", platform="telegram", language="en")
    budi = chat.user("budi", platform="discord", language="id")
    await _member_id(app, amir)
    budi_id = await _member_id(app, budi)
    await amir.says(f"/nudge {budi_id}")
    sent = chat.expect_sent(budi, contains="mencolek Anda")
    assert "Balas dengan /colek." in sent.text
    assert "<b>x</b>" in sent.text  # arguments are escaped as with ctx.t


async def test_t_for_uses_the_members_language(setup: tuple[App, FakeChat]) -> None:
    app, chat = setup
    budi = chat.user("budi", platform="telegram", language="en")
    member = await Member.get(id=await _member_id(app, budi))
    ctx = Context(app)
    assert "poked you" in ctx.t_for(member, "poke.poked", by="x")
    member.language = "id"
    assert "mencolek" in ctx.t_for(member, "poke.poked", by="x")


async def test_a_group_message_is_sent_and_edited_in_the_groups_language(
    setup: tuple[App, FakeChat],
) -> None:
    """A member reading English who presses a group message's button must not turn it
    into English for the whole group: ``Text`` in a group is the default language."""
    _, chat = setup
    aceh = chat.group("Aceh", platform="telegram")
    john = chat.user("john", platform="telegram", language="en")
    await john.says(aceh, "/board")
    assert chat.last(aceh).text == "Papan colek: 0"
    await john.presses("+1", aceh)
    assert chat.last(aceh).text == "Papan colek: 1"
