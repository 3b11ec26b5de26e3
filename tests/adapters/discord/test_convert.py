"""discord.py objects built from real gateway payloads, as core references."""

from __future__ import annotations

import discord

from adapters.discord import DiscordAdapter, create
from adapters.discord._convert import chat_of, sender_of
from core import ChatKind, ChatRef, UserRef
from core.testing import test_settings as settings_for_tests

GUILD_ID = "1300000000000000000"
CHANNEL_ID = "1300000000000000001"
THREAD_ID = "1300000000000000002"

_USER = {
    "id": "1234567890123456789",
    "username": "amir",
    "global_name": "**Amir**",
    "avatar": None,
    "discriminator": "0",
}

# GUILD_CREATE as Discord sends it, trimmed to the fields discord.py reads.
_GUILD = {
    "id": GUILD_ID,
    "name": "Alumni Aceh",
    "owner_id": _USER["id"],
    "roles": [{"id": GUILD_ID, "name": "@everyone", "permissions": "0", "position": 0}],
    "emojis": [],
    "features": [],
    "member_count": 1,
    "members": [{"user": _USER, "roles": [], "joined_at": "2026-11-20T03:00:00+00:00", "flags": 0}],
    "channels": [{"id": CHANNEL_ID, "type": 0, "name": "umum", "position": 0}],
    "threads": [
        {
            "id": THREAD_ID,
            "type": 11,
            "name": "temu-alumni",
            "parent_id": CHANNEL_ID,
            "owner_id": _USER["id"],
            "message_count": 1,
            "member_count": 1,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": 1440,
                "archive_timestamp": "2026-11-20T03:00:00+00:00",
                "locked": False,
            },
        }
    ],
    "system_channel_id": CHANNEL_ID,
}


def _state() -> tuple[DiscordAdapter, discord.Guild]:
    adapter = create(settings_for_tests(discord={"token": "t"}))
    assert adapter is not None
    state = adapter.client._connection
    guild = state._add_guild_from_data(_GUILD)  # type: ignore[arg-type]
    return adapter, guild


async def test_channel_thread_and_dm_payloads() -> None:
    adapter, guild = _state()
    channel = guild.get_channel(int(CHANNEL_ID))
    assert chat_of(channel) == ChatRef("discord", CHANNEL_ID, ChatKind.GROUP)
    thread = guild.get_thread(int(THREAD_ID))
    assert chat_of(thread) == ChatRef("discord", CHANNEL_ID, ChatKind.GROUP, thread=THREAD_ID)
    dm = discord.DMChannel(
        me=adapter.client.user,  # type: ignore[arg-type]
        state=adapter.client._connection,
        data={"id": "1300000000000000009", "type": 1, "recipients": [_USER]},  # type: ignore[typeddict-item]
    )
    assert chat_of(dm).kind is ChatKind.DM


async def test_message_create_in_a_thread() -> None:
    adapter, guild = _state()
    thread = guild.get_thread(int(THREAD_ID))
    payload = {
        "id": "1300000000000000100",
        "channel_id": THREAD_ID,
        "guild_id": GUILD_ID,
        "author": _USER,
        "member": {"roles": [], "joined_at": "2026-11-20T03:00:00+00:00", "flags": 0},
        "content": "kapan temu alumni?",
        "timestamp": "2026-11-23T03:00:00+00:00",
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "type": 0,
    }
    message = discord.Message(state=adapter.client._connection, channel=thread, data=payload)  # type: ignore[arg-type]
    chat = chat_of(message.channel)
    assert chat.key == f"discord:{CHANNEL_ID}/{THREAD_ID}"
    sender = sender_of(message.author)
    assert sender.ref == UserRef("discord", _USER["id"])
    assert sender.display_name == "**Amir**"
    assert sender.username == "amir"
    assert adapter.welcome_chat(guild) == ChatRef("discord", CHANNEL_ID)


async def test_interaction_locale_becomes_the_language() -> None:
    adapter, _ = _state()
    user = adapter.client._connection.store_user(_USER)  # type: ignore[arg-type]
    assert sender_of(user, discord.Locale.indonesian).language == "id"
    assert sender_of(user, discord.Locale.american_english).language == "en-US"
