"""The polls plugin through the real Discord adapter (discord.py on simcord's offline
Discord): ``/poll new`` as a slash command, a native Discord poll whose votes reach the
plugin by its poll id, and button votes answered privately (ephemeral)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import discord
import simcord

from adapters.discord import DiscordAdapter
from core import App, Member, Role, UserRef
from core.testing import test_settings
from plugins import polls
from plugins.polls.models import Ballot, Poll, Post
from plugins.polls.tally import By, tally

GUILD_ID = 900000000000000001


@dataclass
class World:
    app: App
    env: simcord.Env
    guild: simcord.GuildHandle
    channel: simcord.ChannelHandle


@asynccontextmanager
async def discord_world(make_app, regions) -> AsyncIterator[World]:  # type: ignore[no-untyped-def]
    settings = test_settings(discord={"token": "test-token", "guild_ids": [GUILD_ID]})
    adapter = DiscordAdapter(settings)
    async with make_app(
        settings=settings, plugins=[polls, regions], adapters=[adapter], discover_plugins=False
    ) as app:
        adapter.bind(app)
        await adapter.register_commands(app.visible_commands())
        async with simcord.run(adapter.client) as env:
            guild = env.create_guild(name="Alumni Aceh", id=GUILD_ID)
            channel = guild.create_text_channel("umum")
            await env.settle()
            yield World(app, env, guild, channel)


async def member_in(world: World, name: str, region: str) -> simcord.MemberActor:
    actor = world.guild.add_member(world.env.create_user(name))
    await world.env.settle()
    account = await world.app.identity.ensure(UserRef("discord", str(actor.id)), name)
    await Member.filter(id=account.member_id).update(region_code=region)
    return actor


async def test_discord_slash_poll_native_votes_and_buttons(make_app, regions) -> None:
    async with discord_world(make_app, regions) as world:
        kapten = world.guild.create_role(
            "Kapten", permissions=discord.Permissions(manage_messages=True)
        )
        ani = world.guild.add_member(world.env.create_user("ani"), roles=[kapten])
        await world.env.settle()
        account = await world.app.identity.ensure(UserRef("discord", str(ani.id)), "ani")
        await world.app.roles.grant(account.member_id, Role.ADMIN)

        # A public poll is a native Discord poll.
        result = await ani.slash(
            world.channel,
            "poll new",
            spec="Cara belajar? | Video | Modul | Mentor --public --multi",
        )
        assert result.acknowledged
        native = world.channel.last_message
        assert native is not None
        assert native.poll is not None
        assert [a.text for a in native.poll.answers] == ["Video", "Modul", "Mentor"]
        post = await Post.get(poll_id=1)
        assert post.native_poll_id == str(native.id)

        budi = await member_in(world, "budi", "11.08")
        await budi.vote(native, answer=1)
        await budi.vote(native, answer=3)
        [ballot] = await Ballot.filter(poll_id=1)
        assert ballot.choices == 0b101
        await budi.remove_vote(native, answer=1)
        assert (await Ballot.get(poll_id=1)).choices == 0b100

        # An anonymous poll uses buttons; the confirmation is shown only to the voter.
        await ani.slash(world.channel, "poll new", spec="Hadir? | Ya | Tidak")
        buttons = world.channel.last_message
        assert buttons is not None
        clicked = await budi.click(buttons, label="Ya")
        assert clicked.ephemeral
        assert clicked.response is not None
        assert "Ya" in (clicked.response.content or "")
        assert (await tally(2, 2, By.OVERALL, 1)).overall.counts == (1, 0)
        assert await Poll.filter(anonymous=True).count() == 1

        # Closing ends the native poll on Discord too: no more votes there.
        await ani.slash(world.channel, "poll close", poll=1)
        expired = [r.path for r in world.env.http_requests if r.path.endswith("/expire")]
        assert expired == [f"/channels/{world.channel.id}/polls/{native.id}/expire"]
        assert (await Poll.get(id=1)).closed_at is not None
