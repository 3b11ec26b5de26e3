"""The adapter against a loopback fake Bot API server, over PTB's real HTTP stack, in
long-polling mode: start-up, commands, joins, buttons, polls, DMs and rate limits."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from telegram_kit import (
    AMIR,
    GROUP,
    Probe,
    eventually,
    eventually_async,
    group_chat,
    running,
    text_message,
    user,
)

import core
from adapters.telegram import ALLOWED_UPDATES
from adapters.telegram.testing import BOT_ID, BOT_USERNAME, FakeBotApi
from core import (
    ChatKind,
    ChatRef,
    MemberJoined,
    MemberLeft,
    Message,
    MessageReceived,
    PollAnswered,
    UserRef,
)
from core.models import Account
from core.state import first_time, get_value
from core.state.models import SeenUpdate

NEEDED = {"chat_member", "my_chat_member", "callback_query", "poll_answer", "message"}


async def test_start_up_polls_for_every_update_kind(api: FakeBotApi, probe: Probe) -> None:
    async with running(api, probe) as (_, adapter):
        polled = await api.wait_for("getUpdates")
    assert api.called("getMe")
    assert set(ALLOWED_UPDATES) >= NEEDED
    assert set(polled.params["allowed_updates"]) == set(ALLOWED_UPDATES)
    assert adapter.me.username == BOT_USERNAME


async def test_failing_set_my_commands_does_not_stop_start_up_and_is_retried(
    api: FakeBotApi, probe: Probe, caplog: pytest.LogCaptureFixture
) -> None:
    api.fail("setMyCommands", status=500, times=1)
    caplog.set_level(logging.WARNING, logger="adapters.telegram")
    async with running(api, probe):
        api.push_update({"message": text_message("/ping")})
        await api.wait_for("sendMessage")
        # Twelve lists (4 scopes x default/id/en) once the retry went through.
        await api.wait_for("setMyCommands", count=12)
    failed = [c for c in api.calls if c.method == "setMyCommands" and c.status == 500]
    assert len(failed) == 1
    assert any(
        "setMyCommands" in r.getMessage() or "commands" in r.getMessage() for r in caplog.records
    )


async def test_unreachable_telegram_at_start_is_retried(api: FakeBotApi, probe: Probe) -> None:
    api.fail("getMe", status=502, description="Bad Gateway", times=2)
    async with running(api, probe):
        api.push_update({"message": text_message("/ping")})
        await api.wait_for("sendMessage")
    assert len([c for c in api.calls if c.method == "getMe"]) == 3


async def test_bot_added_without_admin_rights_is_reported(
    api: FakeBotApi, probe: Probe, caplog: pytest.LogCaptureFixture
) -> None:
    me = {"id": BOT_ID, "is_bot": True, "first_name": "Guyub", "username": BOT_USERNAME}
    caplog.set_level(logging.INFO, logger="adapters.telegram")
    async with running(api, probe):
        api.push_update(
            {
                "my_chat_member": {
                    "chat": group_chat(),
                    "from": user(),
                    "date": 1795000000,
                    "old_chat_member": {"status": "left", "user": me},
                    "new_chat_member": {"status": "member", "user": me},
                }
            }
        )
        await eventually(
            lambda: [r for r in caplog.records if "without admin rights" in r.getMessage()]
        )
    assert not probe.events


async def test_rate_limited_menu_does_not_hold_back_replies(api: FakeBotApi, probe: Probe) -> None:
    api.fail("setMyCommands", status=429, description="Too Many Requests", retry_after=60)
    async with running(api, probe):
        api.push_update({"message": text_message("/ping")})
        await api.wait_for("sendMessage")
    assert not api.called("setMyCommands")  # still waiting its 60 seconds


async def test_dm_only_command_in_a_group_offers_a_deep_link(api: FakeBotApi, probe: Probe) -> None:
    async with running(api, probe):
        api.push_update({"message": text_message("/secret")})
        sent = await api.wait_for("sendMessage")
    button = sent.params["reply_markup"]["inline_keyboard"][0][0]
    assert button["url"] == f"https://t.me/{BOT_USERNAME}?start=secret"


async def test_native_menus_per_scope_and_language(api: FakeBotApi, probe: Probe) -> None:
    async with running(api, probe):
        await api.wait_for("setMyCommands", count=12)
    menus = {
        (c.params["scope"]["type"], c.params.get("language_code")): {
            entry["command"]: entry["description"] for entry in c.params["commands"]
        }
        for c in api.called("setMyCommands")
    }
    assert menus[("default", "id")]["tes"] == "Cek bot"
    assert menus[("default", "en")]["ping"] == "Check the bot"
    assert "announce" not in menus[("default", "en")]
    assert "announce" in menus[("all_chat_administrators", "en")]
    assert "ping" in menus[("all_chat_administrators", "en")]
    assert ("default", None) in menus
    assert "tes" in menus[("all_group_chats", "id")]
    assert "ping" in menus[("all_private_chats", "en")]


async def test_command_in_a_group_is_answered(api: FakeBotApi, probe: Probe) -> None:
    async with running(api, probe):
        api.push_update({"message": text_message(f"/ping@{BOT_USERNAME}")})
        sent = await api.wait_for("sendMessage")
        account = await Account.get(platform="telegram", platform_user_id=str(AMIR))
    assert sent.params["chat_id"] == GROUP
    assert sent.params["text"] == "Pong, <b>Amir</b>!"
    assert sent.params["parse_mode"] == "HTML"
    assert account.language == "id"


async def test_command_for_another_bot_is_ignored(api: FakeBotApi, probe: Probe) -> None:
    async with running(api, probe):
        api.push_update({"message": text_message("/ping@OtherBot")})
        api.push_update({"message": text_message("halo semua", message_id=11)})
        await eventually(lambda: probe.seen(MessageReceived))
    assert not api.called("sendMessage")


async def test_command_in_a_forum_topic_is_answered_in_the_topic(
    api: FakeBotApi, probe: Probe
) -> None:
    async with running(api, probe):
        api.push_update(
            {
                "message": text_message(
                    "/ping",
                    chat=group_chat(is_forum=True),
                    message_thread_id=77,
                    is_topic_message=True,
                )
            }
        )
        sent = await api.wait_for("sendMessage")
    assert sent.params["message_thread_id"] == 77


async def test_names_with_markup_characters_appear_literally(api: FakeBotApi, probe: Probe) -> None:
    async with running(api, probe):
        api.push_update({"message": text_message("/ping", sender=user(first="<b>Amir</b> & co"))})
        api.push_update(
            {"message": text_message("/ping", sender=user(AMIR + 1, "*_[]()~"), message_id=11)}
        )
        await api.wait_for("sendMessage", count=2)
    texts = [c.params["text"] for c in api.called("sendMessage")]
    assert texts[0] == "Pong, <b>&lt;b&gt;Amir&lt;/b&gt; &amp; co</b>!"
    assert texts[1] == "Pong, <b>*_[]()~</b>!"


async def test_join_from_chat_member_and_service_message_counts_once(
    api: FakeBotApi, probe: Probe
) -> None:
    member_update = {
        "chat": group_chat(),
        "from": user(),
        "date": 1795000000,
        "old_chat_member": {"status": "left", "user": user()},
        "new_chat_member": {"status": "member", "user": user()},
    }
    service = {
        "message_id": 50,
        "from": user(),
        "chat": group_chat(),
        "date": 1795000001,
        "new_chat_members": [user()],
        "new_chat_member": user(),
        "new_chat_participant": user(),
    }
    async with running(api, probe):
        api.push_update({"chat_member": member_update})
        api.push_update({"message": service})
        await api.wait_for("sendMessage")
        left = dict(member_update, date=1795000100)
        left["old_chat_member"], left["new_chat_member"] = (
            member_update["new_chat_member"],
            member_update["old_chat_member"],
        )
        api.push_update({"chat_member": left})
        await eventually(lambda: probe.seen(MemberLeft))
    joined = probe.seen(MemberJoined)
    assert len(joined) == 1
    assert joined[0].chat == ChatRef("telegram", str(GROUP), ChatKind.GROUP)
    assert joined[0].user.ref == UserRef("telegram", str(AMIR))
    assert len(api.called("sendMessage")) == 1
    assert "Selamat datang, Amir" in api.called("sendMessage")[0].params["text"]


async def test_old_once_only_marks_are_forgotten(api: FakeBotApi, probe: Probe) -> None:
    async with running(api, probe) as (app, adapter):
        api.push_update({"message": text_message("/ping")})
        await api.wait_for("sendMessage")
        # polling confirms updates through getUpdates' offset: no once-only mark is written
        assert await SeenUpdate.filter(source="telegram").count() == 0
        assert await first_time("telegram", "webhook-delivery", app.clock.now())
        assert await SeenUpdate.filter(source="telegram").count() == 1
        assert await adapter.forget_seen() == 0  # seen just now
        app.clock.advance(timedelta(days=3))  # type: ignore[attr-defined]
        assert await adapter.forget_seen() == 1
        assert await SeenUpdate.filter(source="telegram").count() == 0


async def test_button_press_runs_the_action_with_a_short_key(api: FakeBotApi, probe: Probe) -> None:
    async with running(api, probe):
        api.push_update({"message": text_message("/press")})
        shown = await api.wait_for("sendMessage")
        button = shown.params["reply_markup"]["inline_keyboard"][0][0]
        assert len(button["callback_data"].encode()) <= 64  # the payload was 300 characters
        api.push_update(
            {
                "callback_query": {
                    "id": "4382",
                    "from": user(),
                    "chat_instance": "-42",
                    "data": button["callback_data"],
                    "message": {
                        "message_id": 1000,
                        "date": 1795000000,
                        "chat": group_chat(),
                        "from": {"id": BOT_ID, "is_bot": True, "first_name": "Guyub"},
                        "text": "Tekan",
                    },
                }
            }
        )
        answered = await api.wait_for("answerCallbackQuery")
        reply = await api.wait_for("sendMessage", count=2)
    assert str(answered.params["callback_query_id"]) == "4382"
    assert reply.params["text"] == "Ditekan oleh Amir: 300"


async def test_poll_is_sent_natively_and_votes_come_back(api: FakeBotApi, probe: Probe) -> None:
    async with running(api, probe) as (app, _):
        api.push_update({"message": text_message("/vote")})
        sent = await api.wait_for("sendPoll")
        assert sent.params["is_anonymous"] is False
        assert sent.params["allows_multiple_answers"] is True
        assert [o["text"] for o in sent.params["options"]] == ["Makan", "Modal"]
        # The adapter notes where the poll was shown once Telegram answered sendPoll.
        await eventually_async(lambda: get_value(f"telegram:poll:5{1:018d}"))
        # The fake server numbers polls from 1.
        api.push_update(
            {
                "poll_answer": {
                    "poll_id": f"5{1:018d}",
                    "user": user(),
                    "option_ids": [0, 1],
                    "option_persistent_ids": ["0", "1"],
                }
            }
        )
        await eventually(lambda: probe.seen(PollAnswered))
        # Ending the poll stops it on Telegram (the polls plugin does this when it closes).
        await app.end_poll(probe.poll_refs[0])
        stopped = await api.wait_for("stopPoll")
        assert stopped.params["chat_id"] == GROUP
        assert int(stopped.params["message_id"]) == int(probe.poll_refs[0].id)
    vote = probe.seen(PollAnswered)[0]
    assert vote.options == (0, 1)
    assert vote.chat == ChatRef("telegram", str(GROUP), ChatKind.GROUP)
    assert vote.poll_id == f"5{1:018d}"
    assert probe.poll_refs[0].poll_id == vote.poll_id


async def test_retry_after_holds_back_only_that_chat(api: FakeBotApi, probe: Probe) -> None:
    other = ChatRef("telegram", "-1009", ChatKind.GROUP)
    slow = ChatRef("telegram", str(GROUP), ChatKind.GROUP)
    api.fail(
        "sendMessage",
        status=429,
        description="Too Many Requests: retry after 1",
        retry_after=1,
        match=lambda p: p["chat_id"] == GROUP,
    )
    async with running(api, probe) as (app, _):
        first = asyncio.create_task(app.send(slow, Message.of("satu")))
        limited = await eventually(lambda: [c for c in api.calls if c.status == 429])
        await app.send(other, Message.of("dua"))
        await first
    ok = api.called("sendMessage")
    assert [c.params["chat_id"] for c in ok] == [-1009, GROUP]
    assert ok[1].at - limited[0].at >= 1.0


async def test_long_retry_after_raises_core_retry_after(api: FakeBotApi, probe: Probe) -> None:
    chat = ChatRef("telegram", str(GROUP), ChatKind.GROUP)
    api.fail("sendMessage", status=429, description="Too Many Requests", retry_after=60)
    async with running(api, probe) as (app, _):
        with pytest.raises(core.RetryAfter) as raised:
            await app.send(chat, Message.of("satu"))
        with pytest.raises(core.RetryAfter):
            await app.send(chat, Message.of("lagi"))  # still blocked: not even tried
    assert raised.value.seconds == 60
    assert len([c for c in api.calls if c.method == "sendMessage"]) == 1


async def test_dm_to_a_user_who_never_started_the_bot_is_unreachable(
    api: FakeBotApi, probe: Probe
) -> None:
    api.fail(
        "sendMessage",
        status=403,
        description="Forbidden: bot can't initiate conversation with a user",
    )
    async with running(api, probe) as (_, adapter):
        out = core.Outgoing(core.Markup("halo"))
        with pytest.raises(core.Unreachable) as raised:
            await adapter.send_dm(UserRef("telegram", str(AMIR)), out)
        link = adapter.dm_link("onboard")
    assert raised.value.permanent
    assert link == f"https://t.me/{BOT_USERNAME}?start=onboard"


async def test_private_chat_messages_are_dms(api: FakeBotApi, probe: Probe) -> None:
    private = {"id": AMIR, "type": "private", "first_name": "Amir"}
    async with running(api, probe):
        api.push_update({"message": text_message("/start onboard", chat=private)})
        api.push_update({"message": text_message("halo", chat=private, message_id=11)})
        await eventually(lambda: probe.seen(MessageReceived))
        account = await Account.get(platform="telegram", platform_user_id=str(AMIR))
    said = probe.seen(MessageReceived)[0]
    assert said.chat.kind is ChatKind.DM
    assert account.dm_open
