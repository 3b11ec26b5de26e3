"""The lean path for plain group chatter: where the core would only mark the sender active,
the adapter does that itself (no event, no statement); where a flow runs, messages still reach
it, also when the flow started after the chat was known to be quiet."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram_kit import AMIR, GROUP, fast_adapter, telegram_settings, text_message, user

from adapters.telegram import TelegramAdapter
from adapters.telegram.testing import FakeBotApi
from core import App, Command, Context, Flow, PluginInfo, hookimpl
from core.testing import make_app
from tests.core.sql_trace import statements


class Echo:
    """A flow that runs in groups: /echo starts it, then it repeats what it hears."""

    PLUGIN = PluginInfo("echo")

    @staticmethod
    async def begin(ctx: Context) -> None:
        await ctx.start_flow("echo", "one")
        await ctx.reply("siap")

    @staticmethod
    async def step(ctx: Context, text: str) -> None:
        await ctx.reply(f"echo {text}")

    @hookimpl
    def guyub_register_commands(self) -> list[Command]:
        return [Command("echo", self.begin, "echo.cmd")]

    @hookimpl
    def guyub_register_flows(self) -> list[Flow]:
        return [Flow("echo", self.step, groups=True)]

    @hookimpl
    def guyub_register_texts(self) -> dict[str, dict[str, str]]:
        return {"id": {"echo.cmd": "Gema"}, "en": {"echo.cmd": "Echo"}}


@pytest.fixture
async def bot(api: FakeBotApi, tmp_path: Path) -> AsyncIterator[tuple[App, TelegramAdapter]]:
    settings = telegram_settings(api)
    settings.database.url = f"sqlite://{tmp_path}/guyub.sqlite3"
    adapter = fast_adapter(settings)
    async with make_app(
        plugins=[Echo()], discover_plugins=False, adapters=[adapter], settings=settings
    ) as app:
        await adapter.start(app)
        try:
            yield app, adapter
        finally:
            await adapter.stop()


async def _process(adapter: TelegramAdapter, update_id: int, message: dict[str, Any]) -> None:
    update = Update.de_json({"update_id": update_id, "message": message}, adapter.application.bot)
    await adapter.application.process_update(update)


async def test_quiet_chatter_costs_no_statement(bot: tuple[App, TelegramAdapter]) -> None:
    app, adapter = bot
    await _process(adapter, 1, text_message("halo semua", message_id=1))  # learns: no flow
    await app.run_pending()
    with statements() as sent:
        await _process(adapter, 2, text_message("apa kabar", message_id=2))
    assert sent == []
    assert app.activity.pending == 1
    await app.run_pending()
    assert app.activity.pending == 0


async def test_a_flow_started_later_still_hears_the_group(
    bot: tuple[App, TelegramAdapter], api: FakeBotApi
) -> None:
    _, adapter = bot
    await _process(adapter, 1, text_message("halo", message_id=1))
    await _process(adapter, 2, text_message("/echo", message_id=2))
    await api.wait_for("sendMessage")
    await _process(adapter, 3, text_message("langkah satu", message_id=3))
    sent = await api.wait_for("sendMessage", lambda p: "echo" in str(p.get("text")))
    assert sent.params["text"] == "echo langkah satu"
    assert str(sent.params["chat_id"]) == str(GROUP)
    # Another member's chatter there takes the full path (the chat has a flow) and reaches
    # nothing; the member in the flow is still heard.
    await _process(adapter, 4, text_message("halo", message_id=4, sender=user(AMIR + 1, "Budi")))
    await _process(adapter, 5, text_message("langkah dua", message_id=5))
    await api.wait_for("sendMessage", lambda p: "echo" in str(p.get("text")), count=2)
    echoes = [c.params["text"] for c in api.called("sendMessage") if "echo" in c.params["text"]]
    assert echoes == ["echo langkah satu", "echo langkah dua"]
