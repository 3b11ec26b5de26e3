"""Test harness: a Guyub App with the Discord adapter, its real discord.py client attached
to simcord's offline Discord (no network, no token)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import discord_sample_plugin as sample
import simcord

from adapters.discord import DiscordAdapter
from core import App, Settings
from core.testing import test_settings


@dataclass
class World:
    """An App, its Discord adapter and the simulated Discord around them."""

    app: App
    adapter: DiscordAdapter
    env: simcord.Env
    guild: simcord.GuildHandle
    channel: simcord.ChannelHandle

    async def member(
        self, name: str, roles: tuple[simcord.RoleHandle, ...] = ()
    ) -> simcord.MemberActor:
        """A user joins the guild; returns once the bot has handled the join."""
        actor = self.guild.add_member(self.env.create_user(name), roles=list(roles))
        await self.env.settle()
        return actor


#: The guild the harness creates; the settings list it in ``discord.guild_ids``.
GUILD_ID = 900000000000000001


def discord_settings(**overrides: Any) -> Settings:
    overrides["discord"] = {
        "token": "test-token",
        "guild_ids": [GUILD_ID],
        **overrides.get("discord", {}),
    }
    return test_settings(**overrides)


@asynccontextmanager
async def discord_world(
    make_app: Any, *, settings: Settings | None = None, defer_after: float | None = None
) -> AsyncIterator[World]:
    settings = settings or discord_settings()
    adapter = DiscordAdapter(settings, defer_after=defer_after)
    async with make_app(
        settings=settings, plugins=[sample], adapters=[adapter], discover_plugins=False
    ) as app:
        adapter.bind(app)
        await adapter.register_commands(app.visible_commands())
        async with simcord.run(adapter.client) as env:
            guild = env.create_guild(name="Alumni Aceh", id=GUILD_ID)
            channel = guild.create_text_channel("umum")
            await env.settle()
            yield World(app, adapter, env, guild, channel)
