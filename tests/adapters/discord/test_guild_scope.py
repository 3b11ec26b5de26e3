"""The bot serves only its guilds: ``discord.guild_ids``, or by default the guilds a Guyub
admin is in. Elsewhere it answers one line, stores nothing, and leaves when added."""

from __future__ import annotations

import discord_sample_plugin as sample
from discord_harness import GUILD_ID, discord_settings, discord_world

from core import Account, Role, UserRef

OTHER_ID = 900000000000000777


async def accounts() -> int:
    return await Account.filter(platform="discord").count()


async def test_with_guild_ids_another_guild_is_ignored_and_left(make_app) -> None:
    async with discord_world(make_app) as world:
        other = world.env.create_guild(name="Server lain", id=OTHER_ID, preferred_locale="id")
        lobby = other.create_text_channel("lobi")
        await world.env.settle()
        # Added to a guild it does not serve: one polite line, then it leaves.
        said = [
            r.json["content"]
            for r in world.env.http_requests
            if r.method == "POST" and r.path == f"/channels/{lobby.id}/messages" and r.json
        ]
        assert len(said) == 1
        assert "hanya melayani server komunitas alumni" in said[0]
        left = [r.path for r in world.env.http_requests if r.method == "DELETE"]
        assert left == [f"/users/@me/guilds/{OTHER_ID}"]
        assert world.adapter.client.get_guild(OTHER_ID) is None
        assert world.adapter.client.get_guild(GUILD_ID) is not None


async def test_with_guild_ids_nothing_from_another_guild_is_stored(make_app) -> None:
    settings = discord_settings(discord={"leave_other_guilds": False})
    async with discord_world(make_app, settings=settings) as world:
        other = world.env.create_guild(name="Server lain", id=OTHER_ID)
        lobby = other.create_text_channel("lobi")
        await world.env.settle()
        assert world.adapter.client.get_guild(OTHER_ID) is not None  # stays, silent
        before = await accounts()
        stranger = other.add_member(world.env.create_user("stranger"))
        await world.env.settle()
        await stranger.send(lobby, "/greet Aceh")
        assert lobby.last_message is None or "Selamat datang" not in lobby.last_message.content
        assert await accounts() == before
        # The served guild works as before.
        await world.member("amir")
        assert world.channel.last_message.content.endswith("Selamat datang, amir!")


async def test_default_serves_only_guilds_an_admin_is_in(make_app) -> None:
    settings = discord_settings(discord={"guild_ids": [], "leave_other_guilds": False})
    async with discord_world(make_app, settings=settings) as world:
        app = world.app
        # No admin in the guild yet: a slash command gets one line, nothing is stored.
        alice = world.guild.add_member(world.env.create_user("alice"))
        await world.env.settle()
        assert world.channel.last_message is None  # no welcome
        before = await accounts()
        result = await alice.slash(world.channel, "greet", region="Aceh")
        assert result.ephemeral
        assert result.response is not None
        assert "does not serve this server" in result.response.content  # the client is en-US
        assert await accounts() == before
        assert await alice.autocomplete(world.channel, "greet", "region", "aceh") == []

        # The PMO admin joins: the guild is served from now on.
        pmo = world.env.create_user("pmo")
        account = await app.identity.ensure(UserRef("discord", str(pmo.id)), "pmo")
        await app.roles.grant(account.member_id, Role.ADMIN)
        world.guild.add_member(pmo)
        await world.env.settle()
        result = await alice.slash(world.channel, "greet", region="Aceh")
        assert result.response is not None
        assert result.response.content == "Hello **alice** from Aceh (x1)"  # en-US client
        await world.member("budi")
        assert world.channel.last_message.content.endswith("Selamat datang, budi!")
        assert sample.left == []

        # The last admin leaves the server: it is no longer served.
        world.guild.remove_member(pmo)
        await world.env.settle()
        result = await alice.slash(world.channel, "greet", region="Aceh")
        assert result.response is not None
        assert "does not serve this server" in result.response.content


async def test_welcome_in_the_configured_channel(make_app) -> None:
    async with discord_world(make_app) as world:
        lobby = world.guild.create_text_channel("selamat-datang")
        await world.env.settle()
        # discord.welcome_channel_ids = [<the channel's id>] in guyub.toml
        world.adapter.settings.welcome_channel_ids.append(lobby.id)
        amir = await world.member("amir")
        assert lobby.last_message is not None
        assert lobby.last_message.content == f"<@{amir.id}> Selamat datang, amir!"
        assert world.channel.last_message is None
