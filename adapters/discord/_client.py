"""The discord.py clients Guyub runs: one process, or some shards of many.

Their event methods only hand over to the adapter; they hold no logic of their own.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord

if TYPE_CHECKING:
    from adapters.discord._adapter import DiscordAdapter

__all__ = ["GuyubClient", "GuyubShardedClient", "build_intents"]

log = logging.getLogger(__name__)


def build_intents(message_content: bool = False) -> discord.Intents:
    """The gateway intents Guyub needs; ``members`` is privileged (Developer Portal)."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.members = True
    intents.guild_messages = True
    intents.dm_messages = True
    intents.polls = True
    intents.guild_scheduled_events = True
    intents.message_content = message_content
    return intents


class _ClientMixin:
    """Routes the client's events to the adapter."""

    adapter: DiscordAdapter
    #: Guilds known when the client first became ready; a guild that becomes available
    #: later without having been one of them is a guild the bot was just added to.
    known_guilds: set[int] | None = None

    async def setup_hook(self) -> None:
        await self.adapter.sync_commands()

    async def on_ready(self) -> None:
        client: Any = self
        log.info("Discord: logged in as %s in %d guilds", client.user, len(client.guilds))
        if self.known_guilds is None:
            self.known_guilds = {g.id for g in client.guilds}
        await self.adapter.check_guilds()

    async def on_guild_join(self, guild: discord.Guild) -> None:
        if self.known_guilds is not None:
            self.known_guilds.add(guild.id)
        await self.adapter.on_guild_join(guild)

    async def on_guild_available(self, guild: discord.Guild) -> None:
        if self.known_guilds is None or guild.id in self.known_guilds:
            return
        await self.on_guild_join(guild)

    async def on_message(self, message: discord.Message) -> None:
        await self.adapter.on_message(message)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        await self.adapter.on_interaction(interaction)

    async def on_member_join(self, member: discord.Member) -> None:
        await self.adapter.on_member_join(member)

    async def on_member_update(self, before: discord.Member, after: discord.Member) -> None:
        await self.adapter.on_member_update(before, after)

    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        await self.adapter.on_member_remove(payload)

    async def on_scheduled_event_user_add(
        self, event: discord.ScheduledEvent, user: discord.User
    ) -> None:
        await self.adapter.on_event_interest(event, user, interested=True)

    async def on_scheduled_event_user_remove(
        self, event: discord.ScheduledEvent, user: discord.User
    ) -> None:
        await self.adapter.on_event_interest(event, user, interested=False)

    async def on_scheduled_event_update(
        self, before: discord.ScheduledEvent, after: discord.ScheduledEvent
    ) -> None:
        if after.status is discord.EventStatus.cancelled and before.status is not after.status:
            await self.adapter.on_event_cancelled(after)

    async def on_scheduled_event_delete(self, event: discord.ScheduledEvent) -> None:
        await self.adapter.on_event_cancelled(event)

    async def on_raw_poll_vote_add(self, payload: discord.RawPollVoteActionEvent) -> None:
        await self.adapter.on_poll_vote(payload, added=True)

    async def on_raw_poll_vote_remove(self, payload: discord.RawPollVoteActionEvent) -> None:
        await self.adapter.on_poll_vote(payload, added=False)


class GuyubClient(_ClientMixin, discord.Client):
    """One-process client."""

    def __init__(self, adapter: DiscordAdapter, **options: Any) -> None:
        super().__init__(**options)
        self.adapter = adapter


class GuyubShardedClient(_ClientMixin, discord.AutoShardedClient):
    """Sharded client: ``shard_ids`` of ``shard_count`` run in this process."""

    def __init__(self, adapter: DiscordAdapter, **options: Any) -> None:
        super().__init__(**options)
        self.adapter = adapter
