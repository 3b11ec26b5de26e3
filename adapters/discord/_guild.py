"""Guild administration: moderation (kick, ban, timeout) and guild scheduled events.

Discord's answer to a missing permission (403) becomes :class:`NotSupported`, so a plugin can
tell the captain what the bot may not do.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import discord

from core import ChatRef, DeliveryError, NotSupported, ScheduledEvent, UserRef

__all__ = [
    "MAX_TIMEOUT",
    "ban",
    "cancel_event",
    "create_event",
    "is_channel_admin",
    "kick",
    "set_role",
    "timeout",
    "update_event",
]

#: Discord's longest member timeout.
MAX_TIMEOUT = timedelta(days=28)
#: How long an event without an end lasts (Discord needs an end for events at a place).
DEFAULT_LENGTH = timedelta(hours=2)


async def guild_of(client: discord.Client, chat: ChatRef) -> discord.Guild:
    """The guild a chat (channel or thread parent) belongs to."""
    if chat.is_dm:
        raise NotSupported("guild action in a DM")
    channel = client.get_channel(int(chat.id))
    if channel is None:
        try:
            channel = await client.fetch_channel(int(chat.id))
        except discord.HTTPException as exc:
            raise DeliveryError(f"unknown channel {chat.key}", permanent=True) from exc
    guild = getattr(channel, "guild", None)
    if not isinstance(guild, discord.Guild):
        raise NotSupported(f"no guild for {chat.key}")
    return guild


async def is_channel_admin(client: discord.Client, chat: ChatRef, user: UserRef) -> bool:
    """Whether ``user`` administers the channel ``chat`` (or its whole server): the server's
    owner, *Administrator* or *Manage Server*, or *Manage Channels* on that channel, the
    right Discord asks to rename or delete it. Telegram's "group administrator" is this."""
    guild = await guild_of(client, chat)
    try:
        member = guild.get_member(int(user.id)) or await guild.fetch_member(int(user.id))
    except discord.NotFound:
        return False  # not (or no longer) in the server
    except discord.HTTPException as exc:
        raise DeliveryError(f"could not read member {user} of {chat.key}: {exc.text}") from exc
    if member.id == guild.owner_id:
        return True
    server = member.guild_permissions
    if server.administrator or server.manage_guild:
        return True
    channel = guild.get_channel(int(chat.id))
    if channel is None:
        return False
    return channel.permissions_for(member).manage_channels


async def kick(client: discord.Client, chat: ChatRef, user: UserRef) -> None:
    guild = await guild_of(client, chat)
    try:
        await guild.kick(discord.Object(int(user.id)))
    except discord.Forbidden as exc:
        raise NotSupported("kick") from exc


async def ban(client: discord.Client, chat: ChatRef, user: UserRef) -> None:
    guild = await guild_of(client, chat)
    try:
        await guild.ban(discord.Object(int(user.id)), delete_message_seconds=0)
    except discord.Forbidden as exc:
        raise NotSupported("ban") from exc


async def timeout(
    client: discord.Client,
    chat: ChatRef,
    user: UserRef,
    until: datetime | None,
    *,
    indefinitely: bool = False,
) -> None:
    """Time a member out until ``until`` (at most 28 days), for 28 days when
    ``indefinitely``, or lift the timeout when ``until`` is None."""
    guild = await guild_of(client, chat)
    latest = discord.utils.utcnow() + MAX_TIMEOUT - timedelta(minutes=1)
    if indefinitely:
        until = latest
    elif until is not None:
        until = min(until, latest)
    try:
        member = guild.get_member(int(user.id)) or await guild.fetch_member(int(user.id))
        await member.timeout(until)
    except discord.Forbidden as exc:
        raise NotSupported("mute") from exc
    except discord.NotFound as exc:
        raise DeliveryError(f"{user} is not in the guild", permanent=True) from exc


async def set_role(
    client: discord.Client, chat: ChatRef, user: UserRef, role: str, *, give: bool
) -> None:
    """Give or take a server role (the bot's own role must sit above it)."""
    guild = await guild_of(client, chat)
    if not role.isdigit():
        raise DeliveryError(f"not a role id: {role!r}", permanent=True)
    try:
        member = guild.get_member(int(user.id)) or await guild.fetch_member(int(user.id))
        if give:
            await member.add_roles(discord.Object(int(role)), reason="Guyub: member's region")
        else:
            await member.remove_roles(discord.Object(int(role)), reason="Guyub: member's region")
    except discord.Forbidden as exc:
        raise NotSupported("roles (needs Manage Roles, above the region roles)") from exc
    except discord.NotFound as exc:
        raise DeliveryError(f"{user} or role {role} is not in the guild", permanent=True) from exc


async def create_event(client: discord.Client, chat: ChatRef, event: ScheduledEvent) -> str:
    """An external event (a place or a link) in the guild's Events list; returns its id."""
    guild = await guild_of(client, chat)
    try:
        created = await guild.create_scheduled_event(
            name=event.title[:100],
            start_time=event.start,
            end_time=event.end or event.start + DEFAULT_LENGTH,
            entity_type=discord.EntityType.external,
            privacy_level=discord.PrivacyLevel.guild_only,
            location=(event.location or "-")[:100],
            description=event.description[:1000],
        )
    except discord.Forbidden as exc:
        raise NotSupported("scheduled_events (needs Manage Events)") from exc
    return str(created.id)


async def _find_event(
    client: discord.Client, chat: ChatRef, event_id: str
) -> discord.ScheduledEvent:
    guild = await guild_of(client, chat)
    found = guild.get_scheduled_event(int(event_id))
    if found is None:
        try:
            found = await guild.fetch_scheduled_event(int(event_id))
        except discord.NotFound as exc:
            raise DeliveryError(f"scheduled event {event_id} is gone", permanent=True) from exc
    return found


async def update_event(
    client: discord.Client, chat: ChatRef, event_id: str, event: ScheduledEvent
) -> None:
    found = await _find_event(client, chat, event_id)
    try:
        await found.edit(
            name=event.title[:100],
            start_time=event.start,
            end_time=event.end or event.start + DEFAULT_LENGTH,
            entity_type=discord.EntityType.external,
            location=(event.location or "-")[:100],
            description=event.description[:1000],
        )
    except discord.Forbidden as exc:
        raise NotSupported("scheduled_events (needs Manage Events)") from exc


async def cancel_event(client: discord.Client, chat: ChatRef, event_id: str) -> None:
    """Cancel a scheduled event, or end one that already started; a deleted one is fine."""
    try:
        found = await _find_event(client, chat, event_id)
    except DeliveryError:
        return
    try:
        if found.status is discord.EventStatus.scheduled:
            await found.cancel()
        elif found.status is discord.EventStatus.active:
            await found.end()
    except discord.Forbidden as exc:
        raise NotSupported("scheduled_events (needs Manage Events)") from exc
