"""Button payloads can't be forged to act for another member: the platform only sees a
random key, the data stays on the server, and ``only_for`` ties a button to one member."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest

from core import (
    Action,
    Button,
    ButtonPressed,
    Command,
    Context,
    Member,
    MessageRef,
    Param,
    PluginInfo,
    hookimpl,
)
from core.models import ButtonKey
from core.privacy.models import ConsentRecord
from core.testing import FakeChat


async def test_another_member_cannot_press_my_button(chat: FakeChat) -> None:
    amir, mallory = chat.user("amir"), chat.user("mallory")
    await amir.says("/consent")  # the consent buttons are for amir only
    await mallory.says("/help")
    await mallory.presses("✅ Setuju", amir.dm)
    chat.expect_sent(amir.dm, contains="bukan untuk Anda")
    amir_id = (await Member.get(display_name="amir")).id
    mallory_id = (await Member.get(display_name="mallory")).id
    assert not await ConsentRecord.filter(status="given").exists()
    # Pressing from his own chat with the same key changes nothing either.
    prompt = chat.latest_with_button(amir.dm, "✅ Setuju")
    assert prompt is not None
    key = prompt.buttons[0][0].key
    assert key is not None
    event = ButtonPressed(
        user=mallory.sender,
        chat=mallory.dm,
        key=key,
        message=MessageRef(mallory.dm, "1"),
        at=chat.now(),
    )
    await chat.emit(event)
    chat.expect_sent(mallory, contains="bukan untuk Anda")
    assert not await ConsentRecord.filter(
        member_id__in=[amir_id, mallory_id], status="given"
    ).exists()


async def test_guessed_and_malformed_keys_do_nothing(chat: FakeChat) -> None:
    amir = chat.user("amir")
    await amir.says("/consent")
    before = await ConsentRecord.all().count()
    for key in (
        secrets.token_urlsafe(9)[:12],
        "",
        "x" * 17,
        "' OR 1=1 --",
        "privacy:consent",
        '{"answer":"yes"}',
    ):
        event = ButtonPressed(
            user=amir.sender,
            chat=amir.dm,
            key=key,
            message=MessageRef(amir.dm, "1"),
            at=chat.now(),
        )
        await chat.emit(event)
        chat.expect_sent(amir, contains="sudah tidak berlaku")
    assert await ConsentRecord.all().count() == before


async def test_adapters_see_only_labels_and_random_keys(chat: FakeChat) -> None:
    amir = chat.user("amir")
    await amir.says("/forgetme")
    sent = chat.last(amir)
    keys = [b.key for row in sent.buttons for b in row]
    assert len(set(keys)) == 2
    for key in keys:
        assert key is not None
        assert len(key) == 12
        stored = await ButtonKey.get(key=key)
        assert stored.only_for == (await Member.get(display_name="amir")).id
        assert "yes" not in key
        assert "forget" not in key


class Tapper:
    """Sends buttons without a member of their own (static) and says what a press carried."""

    PLUGIN = PluginInfo("tapper")

    @staticmethod
    async def show(ctx: Context, what: str = "small") -> None:
        data: dict[str, Any] = {"event": 12, "answer": "yes"}
        if what == "long":
            data["note"] = "x" * 80
        if what == "name":
            data["name"] = "Siti Rahma"
        await ctx.reply("Pilih", buttons=[Button("Ya", "tapper:tap", data)])

    @staticmethod
    async def tap(ctx: Context, data: dict[str, Any]) -> None:
        await ctx.reply(f"tapped {data['event']} {data['answer']}")

    @hookimpl
    def guyub_register_commands(self) -> list[Command]:
        return [Command("show", self.show, "tapper.cmd", params=(Param("what", required=False),))]

    @hookimpl
    def guyub_register_actions(self) -> list[Action]:
        return [Action("tapper:tap", self.tap)]

    @hookimpl
    def guyub_register_texts(self) -> dict[str, dict[str, str]]:
        return {"id": {"tapper.cmd": "Tombol"}, "en": {"tapper.cmd": "Buttons"}}


@pytest.fixture
async def tapper(make_app: Any) -> AsyncIterator[FakeChat]:
    async with make_app(plugins=[Tapper()], discover_plugins=False) as app:
        yield FakeChat(app)


async def test_static_buttons_are_signed_not_stored(tapper: FakeChat) -> None:
    chat = tapper
    amir = chat.user("amir")
    await amir.says("/show")
    key = chat.last(amir).buttons[0][0].key
    assert key is not None
    assert len(key.encode()) <= 64
    assert not await ButtonKey.exists()  # nothing written to render it
    await amir.presses("Ya")
    chat.expect_sent(amir, contains="tapped 12 yes")
    await amir.presses("Ya")  # pressed again: the same as a stored key
    chat.expect_sent(amir, contains="tapped 12 yes")


async def test_an_altered_static_key_is_refused(tapper: FakeChat) -> None:
    chat = tapper
    amir = chat.user("amir")
    await amir.says("/show")
    key = chat.last(amir).buttons[0][0].key
    assert key is not None
    for forged in (
        key.replace('"event":12', '"event":13'),
        key.replace("yes", "no"),
        key[:1] + "A" * 12 + key[13:],
        "~" + key[13:],
        key + " ",
    ):
        await chat.emit(
            ButtonPressed(
                user=amir.sender, chat=amir.dm, key=forged, message=MessageRef(amir.dm, "1")
            )
        )
        chat.expect_not_sent(amir, contains="tapped")
        chat.expect_sent(amir, contains="tidak berlaku")


async def test_long_or_personal_payloads_stay_on_the_server(tapper: FakeChat) -> None:
    chat = tapper
    amir = chat.user("amir")
    await amir.says("/show long")
    await amir.says("/show name")
    assert await ButtonKey.all().count() == 2
    for sent in chat.sent_to(amir)[-2:]:
        key = sent.buttons[0][0].key
        assert key is not None
        assert not key.startswith("~")
        assert "Siti" not in key
