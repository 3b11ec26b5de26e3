"""Telegram updates to core events, on Bot API JSON as Telegram sends it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from telegram import Update

from adapters.telegram._convert import BotIdentity, update_events
from core import (
    ButtonPressed,
    ChatKind,
    ChatRef,
    CommandInvoked,
    Event,
    MemberJoined,
    MemberLeft,
    MessageReceived,
    MessageRef,
    PollAnswered,
    UserRef,
)

ME = BotIdentity(777000111, "GuyubBot")
GROUP = {"id": -1001234567890, "title": "Alumni Aceh", "type": "supergroup"}
FORUM = {"id": -1009876543210, "title": "Alumni Jatim", "type": "supergroup", "is_forum": True}
AMIR = {
    "id": 5550001,
    "is_bot": False,
    "first_name": "Amir",
    "last_name": "Hasan",
    "username": "amirh",
    "language_code": "id",
}
SITI = {"id": 5550002, "is_bot": False, "first_name": "Siti", "language_code": "en"}
A_BOT = {"id": 999, "is_bot": True, "first_name": "Spam", "username": "spam_bot"}
DATE = 1795000000


def events(data: dict[str, Any]) -> list[Event]:
    return update_events(Update.de_json({"update_id": 1, **data}, None), ME)


def only(data: dict[str, Any]) -> Event:
    found = events(data)
    assert len(found) == 1, found
    return found[0]


def test_command_with_bot_name_and_entities() -> None:
    event = only(
        {
            "message": {
                "message_id": 42,
                "from": AMIR,
                "chat": GROUP,
                "date": DATE,
                "text": "/event@GuyubBot rsvp 12",
                "entities": [{"offset": 0, "length": 15, "type": "bot_command"}],
            }
        }
    )
    assert isinstance(event, CommandInvoked)
    assert (event.name, event.args) == ("event", "rsvp 12")
    assert event.chat == ChatRef("telegram", "-1001234567890", ChatKind.GROUP)
    assert event.chat.title == "Alumni Aceh"
    assert event.user.ref == UserRef("telegram", "5550001")
    assert event.user.display_name == "Amir Hasan"
    assert event.user.username == "amirh"
    assert event.user.language == "id"
    assert event.message == MessageRef(event.chat, "42")
    assert event.at == datetime.fromtimestamp(DATE, UTC)


def test_command_for_another_bot_is_not_ours() -> None:
    assert (
        events(
            {
                "message": {
                    "message_id": 43,
                    "from": AMIR,
                    "chat": GROUP,
                    "date": DATE,
                    "text": "/warn@MissRose_bot",
                    "entities": [{"offset": 0, "length": 18, "type": "bot_command"}],
                }
            }
        )
        == []
    )


def test_slash_text_without_a_command_entity_is_a_message() -> None:
    event = only(
        {
            "message": {
                "message_id": 45,
                "from": AMIR,
                "chat": GROUP,
                "date": DATE,
                "text": "/home/amir/cv.pdf sudah saya kirim",
            }
        }
    )
    assert isinstance(event, MessageReceived)


def test_plain_message_with_formatting_entities_keeps_its_text() -> None:
    event = only(
        {
            "message": {
                "message_id": 44,
                "from": SITI,
                "chat": GROUP,
                "date": DATE,
                "text": "Info pelatihan di https://prakerja.go.id besok",
                "entities": [
                    {"offset": 0, "length": 4, "type": "bold"},
                    {"offset": 18, "length": 21, "type": "url"},
                ],
            }
        }
    )
    assert isinstance(event, MessageReceived)
    assert event.text == "Info pelatihan di https://prakerja.go.id besok"
    assert event.reply_to is None


def test_deep_link_start_in_private_chat_is_a_dm_command() -> None:
    event = only(
        {
            "message": {
                "message_id": 1,
                "from": AMIR,
                "chat": {"id": 5550001, "first_name": "Amir", "type": "private"},
                "date": DATE,
                "text": "/start onboard",
                "entities": [{"offset": 0, "length": 6, "type": "bot_command"}],
            }
        }
    )
    assert isinstance(event, CommandInvoked)
    assert (event.name, event.args) == ("start", "onboard")
    assert event.chat.kind is ChatKind.DM
    assert event.chat.id == "5550001"


def test_forum_topic_message_carries_the_topic_and_no_fake_reply() -> None:
    event = only(
        {
            "message": {
                "message_id": 310,
                "message_thread_id": 300,
                "is_topic_message": True,
                "from": AMIR,
                "chat": FORUM,
                "date": DATE,
                "text": "Halo dari topik",
                "reply_to_message": {
                    "message_id": 300,
                    "message_thread_id": 300,
                    "from": SITI,
                    "chat": FORUM,
                    "date": DATE - 100,
                    "forum_topic_created": {"name": "Lowongan", "icon_color": 7322096},
                    "is_topic_message": True,
                },
            }
        }
    )
    assert isinstance(event, MessageReceived)
    assert event.chat.thread == "300"
    assert event.chat.key == "telegram:-1009876543210/300"
    assert event.reply_to is None


def test_reply_in_an_ordinary_supergroup_is_a_reply_not_a_topic() -> None:
    event = only(
        {
            "message": {
                "message_id": 51,
                "message_thread_id": 50,
                "from": AMIR,
                "chat": GROUP,
                "date": DATE,
                "text": "/warn spam",
                "entities": [{"offset": 0, "length": 5, "type": "bot_command"}],
                "reply_to_message": {
                    "message_id": 50,
                    "from": SITI,
                    "chat": GROUP,
                    "date": DATE - 5,
                    "text": "beli followers murah",
                },
            }
        }
    )
    assert isinstance(event, CommandInvoked)
    assert event.chat.thread is None
    assert event.reply_to == MessageRef(event.chat, "50")
    assert event.reply_to_user is not None
    assert event.reply_to_user.ref == UserRef("telegram", "5550002")


def test_photo_caption_is_the_text() -> None:
    event = only(
        {
            "message": {
                "message_id": 60,
                "from": AMIR,
                "chat": GROUP,
                "date": DATE,
                "photo": [{"file_id": "A", "file_unique_id": "a", "width": 90, "height": 90}],
                "caption": "Foto temu alumni",
            }
        }
    )
    assert isinstance(event, MessageReceived)
    assert event.text == "Foto temu alumni"


def test_sticker_channel_post_anonymous_admin_and_edits_are_ignored() -> None:
    sticker = {
        "message_id": 61,
        "from": AMIR,
        "chat": GROUP,
        "date": DATE,
        "sticker": {
            "file_id": "S",
            "file_unique_id": "s",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        },
    }
    anonymous = {
        "message_id": 62,
        "from": {
            "id": 1087968824,
            "is_bot": True,
            "first_name": "Group",
            "username": "GroupAnonymousBot",
        },
        "sender_chat": GROUP,
        "chat": GROUP,
        "date": DATE,
        "text": "Pengumuman admin",
    }
    channel = {
        "message_id": 5,
        "sender_chat": {"id": -100555, "title": "Kanal", "type": "channel"},
        "chat": {"id": -100555, "title": "Kanal", "type": "channel"},
        "date": DATE,
        "text": "berita",
    }
    edited = dict(sticker, text="diubah", edit_date=DATE + 5)
    del edited["sticker"]
    assert events({"message": sticker}) == []
    assert events({"message": anonymous}) == []
    assert events({"channel_post": channel}) == []
    assert events({"edited_message": edited}) == []


def test_new_chat_members_service_message_skips_bots() -> None:
    found = events(
        {
            "message": {
                "message_id": 70,
                "from": AMIR,
                "chat": GROUP,
                "date": DATE,
                "new_chat_members": [AMIR, A_BOT, SITI],
                "new_chat_member": AMIR,
                "new_chat_participant": AMIR,
            }
        }
    )
    assert [type(e) for e in found] == [MemberJoined, MemberJoined]
    assert [e.user.ref.id for e in found] == ["5550001", "5550002"]


def test_left_chat_member_service_message() -> None:
    event = only(
        {
            "message": {
                "message_id": 71,
                "from": SITI,
                "chat": GROUP,
                "date": DATE,
                "left_chat_member": SITI,
                "left_chat_participant": SITI,
            }
        }
    )
    assert isinstance(event, MemberLeft)
    assert event.user.ref.id == "5550002"


def _member_update(
    old: dict[str, Any], new: dict[str, Any], who: dict[str, Any] = AMIR
) -> dict[str, Any]:
    return {
        "chat_member": {
            "chat": GROUP,
            "from": who,
            "date": DATE,
            "old_chat_member": {"user": who, **old},
            "new_chat_member": {"user": who, **new},
        }
    }


RESTRICTED = {
    "status": "restricted",
    "until_date": 0,
    "can_send_messages": False,
    "can_send_audios": False,
    "can_send_documents": False,
    "can_send_photos": False,
    "can_send_videos": False,
    "can_send_video_notes": False,
    "can_send_voice_notes": False,
    "can_send_polls": False,
    "can_send_other_messages": False,
    "can_add_web_page_previews": False,
    "can_change_info": False,
    "can_invite_users": False,
    "can_pin_messages": False,
    "can_manage_topics": False,
    "can_edit_tag": False,
    "can_react_to_messages": False,
}


def test_chat_member_join_and_leave() -> None:
    joined = only(_member_update({"status": "left"}, {"status": "member"}))
    assert isinstance(joined, MemberJoined)
    assert joined.chat == ChatRef("telegram", "-1001234567890")
    kicked = only(_member_update({"status": "member"}, {"status": "kicked", "until_date": 0}))
    assert isinstance(kicked, MemberLeft)


def test_restricted_members_count_as_present() -> None:
    muted_in_group = dict(RESTRICTED, is_member=True)
    assert events(_member_update({"status": "member"}, muted_in_group)) == []
    left_while_restricted = dict(RESTRICTED, is_member=False)
    assert isinstance(only(_member_update(muted_in_group, left_while_restricted)), MemberLeft)


def test_promotion_is_not_a_join() -> None:
    admin = {
        "status": "administrator",
        "can_be_edited": False,
        "is_anonymous": False,
        "can_manage_chat": True,
        "can_delete_messages": True,
        "can_manage_video_chats": True,
        "can_restrict_members": True,
        "can_promote_members": False,
        "can_change_info": True,
        "can_invite_users": True,
        "can_post_stories": False,
        "can_edit_stories": False,
        "can_delete_stories": False,
    }
    assert events(_member_update({"status": "member"}, admin)) == []


def test_the_bots_own_membership_is_not_a_member_event() -> None:
    me = {"id": ME.id, "is_bot": True, "first_name": "Guyub", "username": "GuyubBot"}
    update = _member_update({"status": "left"}, {"status": "member"}, who=me)
    assert events({"my_chat_member": update["chat_member"]}) == []
    assert events(update) == []


def test_callback_query_becomes_a_button_press() -> None:
    event = only(
        {
            "callback_query": {
                "id": "1234567890123456789",
                "from": SITI,
                "chat_instance": "-5551234",
                "data": "b:Xy12_abc",
                "message": {
                    "message_id": 80,
                    "message_thread_id": 300,
                    "is_topic_message": True,
                    "from": {"id": ME.id, "is_bot": True, "first_name": "Guyub"},
                    "chat": FORUM,
                    "date": DATE,
                    "text": "Pilih bahasa",
                    "reply_markup": {
                        "inline_keyboard": [[{"text": "English", "callback_data": "b:Xy12_abc"}]]
                    },
                },
            }
        }
    )
    assert isinstance(event, ButtonPressed)
    assert event.key == "b:Xy12_abc"
    assert event.chat.thread == "300"
    assert event.message == MessageRef(event.chat, "80")
    assert event.user.language == "en"


def test_callback_on_an_old_inaccessible_message_still_counts() -> None:
    event = only(
        {
            "callback_query": {
                "id": "77",
                "from": SITI,
                "chat_instance": "-5551234",
                "data": "k1",
                "message": {"message_id": 3, "chat": GROUP, "date": 0},
            }
        }
    )
    assert isinstance(event, ButtonPressed)
    assert event.chat.id == "-1001234567890"


def test_poll_answer_and_retraction() -> None:
    vote = only(
        {
            "poll_answer": {
                "poll_id": "5431023019274846210",
                "user": AMIR,
                "option_ids": [0, 2],
                "option_persistent_ids": ["a", "c"],
            }
        }
    )
    assert isinstance(vote, PollAnswered)
    assert vote.poll_id == "5431023019274846210"
    assert vote.options == (0, 2)
    retracted = only(
        {
            "poll_answer": {
                "poll_id": "5431023019274846210",
                "user": AMIR,
                "option_ids": [],
                "option_persistent_ids": [],
            }
        }
    )
    assert isinstance(retracted, PollAnswered)
    assert retracted.options == ()


def test_poll_answer_by_a_chat_is_ignored() -> None:
    assert (
        events(
            {
                "poll_answer": {
                    "poll_id": "1",
                    "voter_chat": GROUP,
                    "option_ids": [1],
                    "option_persistent_ids": ["b"],
                }
            }
        )
        == []
    )
