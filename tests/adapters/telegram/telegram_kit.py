"""Helpers for the Telegram adapter tests: a small plugin with a command, a button and a poll,
an App running the adapter against the fake Bot API server, and Bot API JSON builders."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from adapters.telegram import Caller, TelegramAdapter
from adapters.telegram.testing import TOKEN, FakeBotApi
from core import (
    Action,
    App,
    Button,
    Command,
    Context,
    Event,
    MemberJoined,
    MemberLeft,
    Message,
    MessageReceived,
    MessageRef,
    PluginInfo,
    PollAnswered,
    PollSpec,
    Role,
    Settings,
    Where,
    hookimpl,
)
from core.testing import make_app, test_settings

T = TypeVar("T")

GROUP = -1001234567890
AMIR = 5550001


class Probe:
    """A plugin that answers a few commands and records every event it sees."""

    PLUGIN = PluginInfo(name="probe", version="1.0", description="test probe")

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.poll_refs: list[MessageRef] = []

    @hookimpl
    def guyub_register_commands(self) -> list[Command]:
        return [
            Command("ping", self.ping, "probe.cmd.ping", alias="tes"),
            Command("press", self.press, "probe.cmd.press"),
            Command("vote", self.vote, "probe.cmd.vote"),
            Command("announce", self.ping, "probe.cmd.announce", role=Role.CAPTAIN),
            Command("secret", self.ping, "probe.cmd.secret", where=Where.DM),
        ]

    @hookimpl
    def guyub_register_actions(self) -> list[Action]:
        return [Action("probe:pressed", self.pressed)]

    @hookimpl
    def guyub_register_texts(self) -> dict[str, dict[str, str]]:
        texts = {
            "probe.cmd.ping": "Cek bot",
            "probe.cmd.press": "Tombol",
            "probe.cmd.vote": "Jajak",
            "probe.cmd.announce": "Umumkan",
            "probe.cmd.secret": "Rahasia",
            "probe.pong": "Pong, <b>{name}</b>!",
            "probe.welcome": "Selamat datang, {name}",
            "probe.pressed": "Ditekan oleh {name}: {n}",
        }
        english = {**texts, "probe.cmd.ping": "Check the bot", "probe.pong": "Pong, <b>{name}</b>!"}
        return {"id": texts, "en": english}

    async def ping(self, ctx: Context) -> None:
        assert ctx.event is not None
        await ctx.reply(ctx.t("probe.pong", name=ctx.event.user.display_name))

    async def press(self, ctx: Context) -> None:
        await ctx.reply("Tekan", buttons=[Button("Tekan", "probe:pressed", {"n": "x" * 300})])

    async def pressed(self, ctx: Context, data: dict[str, Any]) -> None:
        assert ctx.event is not None
        await ctx.reply(ctx.t("probe.pressed", name=ctx.event.user.display_name, n=len(data["n"])))

    async def vote(self, ctx: Context) -> None:
        assert ctx.chat is not None
        poll = PollSpec("Dipakai untuk?", ("Makan", "Modal"), True)
        self.poll_refs.append(await ctx.send(ctx.chat, Message(poll=poll)))

    @hookimpl
    async def guyub_on_member_joined(self, ctx: Context, event: MemberJoined) -> None:
        self.events.append(event)
        await ctx.reply(ctx.t("probe.welcome", name=event.user.display_name))

    @hookimpl
    async def guyub_on_member_left(self, ctx: Context, event: MemberLeft) -> None:
        self.events.append(event)

    @hookimpl
    async def guyub_on_message(self, ctx: Context, event: MessageReceived) -> None:
        self.events.append(event)

    @hookimpl
    async def guyub_on_poll_answered(self, ctx: Context, event: PollAnswered) -> None:
        self.events.append(event)

    def seen(self, kind: type[Event]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


def telegram_settings(api: FakeBotApi, **telegram: Any) -> Settings:
    return test_settings(telegram={"token": TOKEN, "api_base_url": api.root, **telegram})


def fast_adapter(settings: Settings) -> TelegramAdapter:
    """An adapter whose retries and pauses are short, so tests don't wait for real minutes."""
    return TelegramAdapter(
        settings,
        caller=Caller(backoff=0.01, max_backoff=0.05, max_wait=5.0),
        retry_delay=0.05,
        poll_timeout=1,
    )


@asynccontextmanager
async def running(
    api: FakeBotApi, probe: Probe, **telegram: Any
) -> AsyncIterator[tuple[App, TelegramAdapter]]:
    """An App with the probe plugin and a Telegram adapter, running (``app.run``)."""
    settings = telegram_settings(api, **telegram)
    adapter = fast_adapter(settings)
    async with make_app(
        plugins=[probe], discover_plugins=False, adapters=[adapter], settings=settings
    ) as app:
        task = asyncio.create_task(app.run(install_signal_handlers=False))
        try:
            if telegram.get("mode") == "webhook":
                await api.wait_for("setWebhook")
            else:
                await api.wait_for("getUpdates")
            yield app, adapter
        finally:
            app.request_stop()
            await stopped(task)


async def stopped(task: asyncio.Task[None], within: float = 90.0) -> None:
    """Wait for the App's run task to end. A stop that never ends fails the test after
    ``within`` seconds, printing where every task of the loop waits, instead of hanging the
    whole run."""
    try:
        async with asyncio.timeout(within):
            await task
    except TimeoutError:
        for other in asyncio.all_tasks():
            other.print_stack(file=sys.stderr)
        raise


# Bot API JSON, as Telegram sends it.


def user(user_id: int = AMIR, first: str = "Amir", **extra: Any) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": first, "language_code": "id", **extra}


def group_chat(chat_id: int = GROUP, **extra: Any) -> dict[str, Any]:
    return {"id": chat_id, "title": "Alumni Aceh", "type": "supergroup", **extra}


def text_message(
    text: str,
    *,
    chat: dict[str, Any] | None = None,
    sender: dict[str, Any] | None = None,
    message_id: int = 10,
    **extra: Any,
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": message_id,
        "from": sender or user(),
        "chat": chat or group_chat(),
        "date": 1795000000,
        "text": text,
        **extra,
    }
    if text.startswith("/"):
        length = len(text.split()[0])
        message["entities"] = [{"offset": 0, "length": length, "type": "bot_command"}]
    return message


async def eventually(found: Callable[[], T | None], within: float = 10.0) -> T:
    """Wait until ``found()`` returns something truthy (a bound, not a timing assertion)."""
    async with asyncio.timeout(within):
        while True:
            result = found()
            if result:
                return result
            await asyncio.sleep(0.01)


async def eventually_async(found: Callable[[], Awaitable[T | None]], within: float = 10.0) -> T:
    async with asyncio.timeout(within):
        while True:
            result = await found()
            if result:
                return result
            await asyncio.sleep(0.01)
