"""The whole Guyub (every built-in plugin) on the Discord adapter, its real discord.py
client attached to simcord's offline Discord: the everyday flows of members, captains and
admins, without the message-content intent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import discord
import simcord

from adapters.discord import DiscordAdapter
from core import App, Member, Role, Settings, UserRef
from core.testing import test_settings

GUILD_ID = 900000000000000001
#: What a server admin gives the captains' Discord role (the captain commands' default).
CAPTAIN_PERMISSIONS = discord.Permissions(manage_messages=True)
#: What a server admin gives whoever runs a region's channels (binding one to a region
#: needs it, as a Telegram group needs its admin).
CHANNEL_PERMISSIONS = discord.Permissions(manage_channels=True)
#: What a server admin gives the PMO's role (the admin commands' default).
ADMIN_PERMISSIONS = discord.Permissions(manage_guild=True, manage_messages=True)


@dataclass
class Guyub:
    app: App
    adapter: DiscordAdapter
    env: simcord.Env
    guild: simcord.GuildHandle
    channel: simcord.ChannelHandle
    captains_role: simcord.RoleHandle
    admins_role: simcord.RoleHandle
    channels_role: simcord.RoleHandle

    async def joins(
        self,
        name: str,
        *,
        captain: bool = False,
        admin: bool = False,
        manages_channels: bool = False,
    ) -> simcord.MemberActor:
        roles = [self.captains_role] if captain else []
        if admin:
            roles.append(self.admins_role)
        if manages_channels:
            roles.append(self.channels_role)
        actor = self.guild.add_member(self.env.create_user(name), roles=roles)
        await self.env.settle()
        return actor

    async def member_of(self, actor: simcord.MemberActor) -> Member:
        account = await self.app.identity.ensure(UserRef("discord", str(actor.id)), actor.name)
        return await Member.get(id=account.member_id)

    async def make_captain(self, actor: simcord.MemberActor, region: str) -> Member:
        member = await self.member_of(actor)
        await self.app.roles.grant(member.id, Role.CAPTAIN, region)
        return member

    async def make_admin(self, actor: simcord.MemberActor) -> Member:
        member = await self.member_of(actor)
        await self.app.roles.grant(member.id, Role.ADMIN)
        return member

    async def registered(self, actor: simcord.MemberActor, region: str) -> Member:
        member = await self.member_of(actor)
        member.region_code = region
        member.registered_at = self.app.clock.now()
        await member.save()
        return member


def guyub_settings(**overrides: Any) -> Settings:
    discord_overrides = overrides.pop("discord", {})
    return test_settings(
        discord={"token": "test-token", "guild_ids": [GUILD_ID], **discord_overrides},
        **overrides,
    )


@asynccontextmanager
async def guyub_on_discord(
    make_app: Any, *, settings: Settings | None = None, defer_after: float | None = None
) -> AsyncIterator[Guyub]:
    settings = settings or guyub_settings()
    adapter = DiscordAdapter(settings, defer_after=defer_after)
    async with make_app(settings=settings, adapters=[adapter]) as app:
        adapter.bind(app)
        await adapter.register_commands(app.visible_commands())
        async with simcord.run(adapter.client) as env:
            guild = env.create_guild(name="Alumni Aceh", id=GUILD_ID, preferred_locale="id")
            channel = guild.create_text_channel("umum")
            captains = guild.create_role("Kapten", permissions=CAPTAIN_PERMISSIONS)
            admins = guild.create_role("PMO", permissions=ADMIN_PERMISSIONS)
            managers = guild.create_role("Pengurus kanal", permissions=CHANNEL_PERMISSIONS)
            await env.settle()
            yield Guyub(app, adapter, env, guild, channel, captains, admins, managers)
