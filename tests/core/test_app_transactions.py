"""Each handler (command, flow step, button) runs in one database transaction: a handler
that raises after writing leaves nothing, so "nothing was changed" is true."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from tortoise.transactions import in_transaction

from core import (
    Action,
    App,
    AuditEntry,
    Button,
    Command,
    CommandInvoked,
    Context,
    Flow,
    PluginInfo,
    UsageError,
    hookimpl,
)
from core.testing import FakeChat, make_app, test_settings


class _HalfDone:
    PLUGIN = PluginInfo(name="halfdone", version="1")

    @staticmethod
    async def boom(ctx: Context) -> None:
        await ctx.audit("halfdone.write")
        raise RuntimeError("after the write")

    @staticmethod
    async def told(ctx: Context) -> None:
        await ctx.send_dm(ctx.member, "Kelas dibatalkan")  # out before the failure
        await ctx.audit("halfdone.write")
        raise RuntimeError("after a message went out")

    @staticmethod
    async def refuse(ctx: Context) -> None:
        await ctx.audit("halfdone.write")
        raise UsageError("halfdone.refused")

    @staticmethod
    async def ok(ctx: Context) -> None:
        await ctx.audit("halfdone.kept")
        await ctx.reply("ok", buttons=[Button("Tekan", "halfdone:press")])

    @staticmethod
    async def ask(ctx: Context) -> None:
        await ctx.start_flow("halfdone", "step")
        await ctx.reply("tulis sesuatu")

    @staticmethod
    async def step(ctx: Context, text: str) -> None:
        await ctx.audit("halfdone.write")
        await ctx.set_step("other")
        raise RuntimeError("in a flow")

    @staticmethod
    async def press(ctx: Context, data: dict[str, Any]) -> None:
        await ctx.audit("halfdone.write")
        raise RuntimeError("in a button")

    @hookimpl
    def guyub_register_commands(self) -> list[Command]:
        return [
            Command("boom", self.boom, "halfdone.cmd"),
            Command("refuse", self.refuse, "halfdone.cmd"),
            Command("told", self.told, "halfdone.cmd"),
            Command("ok", self.ok, "halfdone.cmd"),
            Command("ask", self.ask, "halfdone.cmd"),
        ]

    @hookimpl
    def guyub_register_flows(self) -> list[Flow]:
        return [Flow("halfdone", self.step)]

    @hookimpl
    def guyub_register_actions(self) -> list[Action]:
        return [Action("halfdone:press", self.press)]

    @hookimpl
    def guyub_register_texts(self) -> dict[str, dict[str, str]]:
        return {
            "id": {"halfdone.cmd": "Uji", "halfdone.refused": "Ditolak."},
            "en": {"halfdone.cmd": "Test", "halfdone.refused": "Refused."},
        }


@pytest_asyncio.fixture
async def app() -> AsyncIterator[App]:
    async with make_app(plugins=[_HalfDone()]) as running:
        yield running


async def _writes() -> int:
    return await AuditEntry.filter(action="halfdone.write").count()


async def test_a_command_that_raises_after_a_write_leaves_nothing(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    chat = FakeChat(app)
    amir = chat.user("amir")
    await amir.says("/boom")
    chat.expect_sent(amir, contains="Tidak ada yang diubah")
    assert await _writes() == 0
    assert "after the write" in caplog.text


async def test_a_handler_that_raises_after_a_message_went_out_says_so(app: App) -> None:
    """Writes are rolled back, a sent message is not: the apology must not claim that
    nothing changed."""
    chat = FakeChat(app)
    amir = chat.user("amir")
    await amir.says("/told")
    chat.expect_sent(amir, contains="Kelas dibatalkan")
    chat.expect_sent(amir, contains="Pesan yang sudah telanjur terkirim tidak bisa ditarik")
    chat.expect_not_sent(amir, contains="Tidak ada yang diubah")
    assert await _writes() == 0


async def test_a_usage_error_after_a_write_leaves_nothing(app: App) -> None:
    chat = FakeChat(app)
    amir = chat.user("amir")
    await amir.says("/refuse")
    chat.expect_sent(amir, contains="Ditolak.")
    assert await _writes() == 0


async def test_a_flow_step_and_a_button_that_raise_leave_nothing(app: App) -> None:
    chat = FakeChat(app)
    amir = chat.user("amir")
    await amir.says("/ask")
    await amir.says("jawaban")
    chat.expect_sent(amir, contains="Tidak ada yang diubah")
    assert await _writes() == 0
    member = await amir.member()
    conversation = await app.conversations.get(member.id, amir.dm.key)
    assert conversation is not None
    assert conversation.step == "step"  # the step change was rolled back too
    await app.conversations.finish(member.id, amir.dm.key)
    await amir.says("/ok")
    await amir.presses("Tekan")
    chat.expect_sent(amir, contains="Tidak ada yang diubah")
    assert await _writes() == 0
    assert await AuditEntry.filter(action="halfdone.kept").count() == 1  # success commits


async def test_help_is_answered_while_another_handler_holds_the_database(
    make_app: Any, tmp_path: Path
) -> None:
    """/help writes nothing (``atomic=False``): it runs outside a transaction, so it takes
    no database connection — on SQLite the process's only one, which a long handler may be
    holding — while its answer goes out."""
    settings = test_settings(database={"url": f"sqlite://{tmp_path}/guyub.sqlite3"})
    async with make_app(settings=settings) as app:
        chat = FakeChat(app)
        aceh, amir = chat.group("Aceh"), chat.user("amir")
        await amir.says(aceh, "/help")  # first sight: the account is created
        await amir.says(aceh, "/help")  # ... and read once into the cache
        await app.run_pending()
        holding, release = asyncio.Event(), asyncio.Event()

        async def long_handler() -> None:
            async with in_transaction():
                await AuditEntry.create(action="test.long", at=app.clock.now())
                holding.set()
                await release.wait()

        writer = asyncio.create_task(long_handler())
        await holding.wait()
        try:
            event = CommandInvoked(user=amir.sender, chat=aceh, name="help", at=chat.now())
            answered = asyncio.create_task(app.dispatch(event, chat.adapter()))
            for _ in range(1_000):  # nothing on this path waits for I/O: a few loop turns
                if answered.done():
                    break
                await asyncio.sleep(0)
            assert answered.done()
        finally:
            release.set()
            await writer
        await answered
        assert len([m for m in chat.sent_to(aceh) if "Perintah Guyub" in m.text]) == 3
