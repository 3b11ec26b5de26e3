"""discord.py objects to platform-neutral core references."""

from __future__ import annotations

import discord

from core import ChatKind, ChatRef, MessageRef, Sender, UserRef

__all__ = ["PLATFORM", "chat_of", "message_ref", "sender_of", "user_ref"]

PLATFORM = "discord"

_THREADS = (
    discord.ChannelType.public_thread,
    discord.ChannelType.private_thread,
    discord.ChannelType.news_thread,
)


def user_ref(user_id: int) -> UserRef:
    return UserRef(PLATFORM, str(user_id))


def sender_of(user: discord.abc.User, locale: discord.Locale | str | None = None) -> Sender:
    """A Discord user as the core sees them; ``locale`` is the client's language (only
    interactions carry it)."""
    return Sender(
        ref=user_ref(user.id),
        display_name=user.display_name,
        username=user.name,
        language=str(locale) if locale else None,
        is_bot=user.bot,
    )


def chat_of(channel: object, *, guild_id: int | None = None) -> ChatRef:
    """A channel, thread or DM as a core chat. A thread is its parent channel plus
    ``thread``, so region mappings made for a channel cover its threads."""
    if isinstance(channel, discord.DMChannel):
        title = channel.recipient.display_name if channel.recipient else None
        return ChatRef(PLATFORM, str(channel.id), ChatKind.DM, title=title)
    if isinstance(channel, discord.Thread):
        parent = channel.parent
        return ChatRef(
            PLATFORM,
            str(channel.parent_id),
            ChatKind.GROUP,
            title=parent.name if parent is not None else channel.name,
            thread=str(channel.id),
        )
    channel_id = getattr(channel, "id", None)
    if channel_id is None:
        raise ValueError(f"not a channel: {channel!r}")
    name = getattr(channel, "name", None)
    kind = getattr(channel, "type", None)
    is_dm = kind in (discord.ChannelType.private, discord.ChannelType.group) or (
        kind is None and guild_id is None and getattr(channel, "guild", None) is None
    )
    if kind in _THREADS:
        parent_id = getattr(channel, "parent_id", None)
        if parent_id is not None:
            return ChatRef(PLATFORM, str(parent_id), ChatKind.GROUP, thread=str(channel_id))
    return ChatRef(
        PLATFORM,
        str(channel_id),
        ChatKind.DM if is_dm else ChatKind.GROUP,
        title=name if isinstance(name, str) else None,
    )


def message_ref(chat: ChatRef, message_id: int) -> MessageRef:
    return MessageRef(chat, str(message_id))
