"""Core messages to Bot API calls: long texts, files, edits, deletes and moderation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from telegram_kit import GROUP, Probe, running

from adapters.telegram.testing import FakeBotApi
from core import (
    Attachment,
    AttachmentKind,
    Button,
    ChatKind,
    ChatRef,
    DeliveryError,
    Markup,
    Message,
    MessageRef,
    NotSupported,
    PollSpec,
    Unreachable,
    UserRef,
    escape,
)

CHAT = ChatRef("telegram", str(GROUP), ChatKind.GROUP)
AMIR = UserRef("telegram", "5550001")


async def test_long_text_is_split_and_buttons_go_on_the_last_part(
    api: FakeBotApi, probe: Probe
) -> None:
    text = escape(("baris panjang " * 7 + "\n") * 100)  # about 10,000 characters
    async with running(api, probe) as (app, _):
        ref = await app.send(CHAT, Message.of(text, buttons=[Button("OK", "probe:pressed")]))
    parts = api.called("sendMessage")
    assert len(parts) == 3
    assert all(len(p.params["text"]) <= 4096 for p in parts)
    assert ["reply_markup" in p.params for p in parts] == [False, False, True]
    assert ref.id == str(parts[-1].result["message_id"])


async def test_reply_silent_and_topic(api: FakeBotApi, probe: Probe) -> None:
    topic = ChatRef("telegram", str(GROUP), ChatKind.GROUP, thread="77")
    async with running(api, probe) as (app, adapter):
        out = await app.render(Message.of("halo", silent=True))
        await adapter.send(topic, out, reply_to=MessageRef(topic, "5"))
    sent = api.called("sendMessage")[0].params
    assert sent["message_thread_id"] == 77
    assert sent["disable_notification"] is True
    assert sent["reply_parameters"]["message_id"] == 5


async def test_photo_and_document_with_literal_captions(api: FakeBotApi, probe: Probe) -> None:
    chart = Attachment(AttachmentKind.IMAGE, "chart.png", b"\x89PNG...", caption="<b>Amir</b> & co")
    export = Attachment(AttachmentKind.FILE, "rsvp.csv", b"name\nAmir\n", mime_type="text/csv")
    async with running(api, probe) as (app, _):
        await app.send(CHAT, Message.of("Hasil", attachments=[chart, export]))
    assert api.called("sendMessage")[0].params["text"] == "Hasil"
    photo = api.called("sendPhoto")[0].params
    assert photo["photo"]["filename"] == "chart.png"
    assert photo["caption"] == "<b>Amir</b> & co"
    assert "parse_mode" not in photo
    document = api.called("sendDocument")[0].params
    assert document["document"] == {"filename": "rsvp.csv", "size": 10}


async def test_edit_text_and_ignore_not_modified(api: FakeBotApi, probe: Probe) -> None:
    async with running(api, probe) as (app, _):
        ref = await app.send(CHAT, Message.of("Hasil: 1 suara"))
        await app.edit(ref, Message(Markup("Hasil: <b>2</b> suara")))
        api.fail("editMessageText", status=400, description="Bad Request: message is not modified")
        await app.edit(ref, Message(Markup("Hasil: <b>2</b> suara")))
    edit = api.called("editMessageText")[0].params
    assert edit["message_id"] == int(ref.id)
    assert edit["text"] == "Hasil: <b>2</b> suara"
    assert edit["parse_mode"] == "HTML"


async def test_edit_of_a_photo_edits_its_caption(api: FakeBotApi, probe: Probe) -> None:
    async with running(api, probe) as (app, _):
        api.fail(
            "editMessageText",
            status=400,
            description="Bad Request: there is no text in the message to edit",
        )
        await app.edit(MessageRef(CHAT, "9"), Message(Markup("<i>baru</i>")))
    assert api.called("editMessageCaption")[0].params["caption"] == "<i>baru</i>"


async def test_delete(api: FakeBotApi, probe: Probe) -> None:
    async with running(api, probe) as (_, adapter):
        await adapter.delete(MessageRef(CHAT, "9"))
        api.fail(
            "deleteMessage", status=400, description="Bad Request: message to delete not found"
        )
        await adapter.delete(MessageRef(CHAT, "9"))
    assert api.called("deleteMessage")[0].params["message_id"] == 9


async def test_kick_ban_mute_unmute(api: FakeBotApi, probe: Probe) -> None:
    async with running(api, probe) as (app, adapter):
        await adapter.kick(CHAT, AMIR)
        await adapter.ban(CHAT, AMIR)
        until = app.clock.now() + timedelta(hours=1)
        await adapter.mute(CHAT, AMIR, until)
        await adapter.unmute(CHAT, AMIR)
    bans = api.called("banChatMember")
    assert [b.params["user_id"] for b in bans] == [5550001, 5550001]
    assert api.called("unbanChatMember")[0].params["only_if_banned"] is True
    mute, unmute = api.called("restrictChatMember")
    assert mute.params["permissions"]["can_send_messages"] is False
    assert mute.params["until_date"] == int(until.timestamp())
    assert unmute.params["permissions"]["can_send_messages"] is True


async def test_moderation_without_rights_is_not_supported(api: FakeBotApi, probe: Probe) -> None:
    api.fail("banChatMember", status=400, description="Bad Request: not enough rights")
    async with running(api, probe) as (_, adapter):
        with pytest.raises(NotSupported):
            await adapter.ban(CHAT, AMIR)


async def test_group_that_removed_the_bot_is_a_permanent_failure(
    api: FakeBotApi, probe: Probe
) -> None:
    api.fail("sendMessage", status=403, description="Forbidden: bot was kicked from the group")
    async with running(api, probe) as (app, _):
        with pytest.raises(DeliveryError) as raised:
            await app.send(CHAT, Message.of("halo"))
    assert raised.value.permanent
    assert not isinstance(raised.value, Unreachable)


async def test_group_upgraded_to_supergroup_is_followed(api: FakeBotApi, probe: Probe) -> None:
    old = ChatRef("telegram", "-4001", ChatKind.GROUP)
    api.fail(
        "sendMessage",
        status=400,
        description="Bad Request: group chat was upgraded to a supergroup chat",
        parameters={"migrate_to_chat_id": -1004001},
        match=lambda p: p["chat_id"] == -4001,
    )
    async with running(api, probe) as (app, _):
        ref = await app.send(old, Message.of("halo"))
    assert ref.chat.id == "-1004001"
    assert api.called("sendMessage")[0].params["chat_id"] == -1004001


async def test_poll_with_too_many_options_is_not_supported(api: FakeBotApi, probe: Probe) -> None:
    poll = PollSpec("Pilih", tuple(str(i) for i in range(13)))
    async with running(api, probe) as (app, _):
        with pytest.raises(NotSupported):
            await app.send(CHAT, Message(poll=poll))
    assert not api.called("sendPoll")


async def test_is_chat_admin_asks_get_chat_member(api: FakeBotApi, probe: Probe) -> None:
    api.chat_admins = {GROUP: {5550001}}
    async with running(api, probe) as (_, adapter):
        assert await adapter.is_chat_admin(CHAT, AMIR) is True
        assert await adapter.is_chat_admin(CHAT, UserRef("telegram", "5550002")) is False
        api.fail("getChatMember", status=400, description="Bad Request: chat not found")
        with pytest.raises(DeliveryError):
            await adapter.is_chat_admin(CHAT, AMIR)
    asked = api.called("getChatMember")
    assert [(c.params["chat_id"], c.params["user_id"]) for c in asked] == [
        (GROUP, 5550001),
        (GROUP, 5550002),
    ]


async def test_spent_buttons_lose_their_keyboard(api: FakeBotApi, probe: Probe) -> None:
    """A finished flow's question: Telegram can't grey buttons out, so the keyboard goes;
    a message already without one ("not modified") is no error."""
    async with running(api, probe) as (app, adapter):
        ref = await app.send(CHAT, Message.of("Pilih", buttons=[Button("Ya", "probe:pressed")]))
        await adapter.close_buttons(ref)
        api.fail(
            "editMessageReplyMarkup",
            status=400,
            description="Bad Request: message is not modified",
        )
        await adapter.close_buttons(ref)
    edits = api.called("editMessageReplyMarkup")  # the refused one is not logged
    assert [(e.params["chat_id"], e.params["message_id"]) for e in edits] == [(GROUP, int(ref.id))]
    assert not edits[0].params.get("reply_markup")
