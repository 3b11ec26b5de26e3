"""Command sync compares with what Discord has: commands deleted in Discord come back,
an unchanged set is not written again, guilds dropped from ``guild_ids`` are emptied."""

from __future__ import annotations

import pytest
from discord_harness import GUILD_ID, discord_settings, discord_world

from adapters.discord import DiscordAdapter
from core import SettingsError, load_settings


def puts(world) -> list[str]:  # type: ignore[no-untyped-def]
    return [r.path for r in world.env.http_requests if r.method == "PUT"]


async def test_commands_deleted_in_discord_are_sent_again(make_app) -> None:
    async with discord_world(make_app) as world:
        app_id = world.adapter.client.application_id
        guild_path = f"/applications/{app_id}/guilds/{GUILD_ID}/commands"
        dm_path = f"/applications/{app_id}/commands"  # the DM commands are global
        assert puts(world) == [dm_path, guild_path]
        # Unchanged: a restart reads what Discord has and writes nothing.
        again = DiscordAdapter(world.app.settings, defer_after=None)
        again.bind(world.app)
        await world.env.restart_bot(again.client)
        assert puts(world) == [dm_path, guild_path]
        # Someone deletes the commands in Discord (or another deployment overwrote them).
        world.env.backend.register_commands(GUILD_ID, [])
        assert (
            world.guild.add_member(world.env.create_user("x")).available_commands(world.channel)
            == ()
        )
        third = DiscordAdapter(world.app.settings, defer_after=None)
        third.bind(world.app)
        await world.env.restart_bot(third.client)
        assert puts(world) == [dm_path, guild_path, guild_path]
        alice = await world.member("alice")
        assert "greet" in alice.available_commands(world.channel)


async def test_a_guild_dropped_from_guild_ids_is_emptied(make_app) -> None:
    async with discord_world(make_app) as world:
        app_id = world.adapter.client.application_id
        moved = DiscordAdapter(
            discord_settings(discord={"guild_ids": [], "leave_other_guilds": False}),
            defer_after=None,
        )
        moved.bind(world.app)
        await world.env.restart_bot(moved.client)
        written = [(r.path, r.json) for r in world.env.http_requests if r.method == "PUT"][1:]
        assert (f"/applications/{app_id}/guilds/{GUILD_ID}/commands", []) in written
        assert any(path == f"/applications/{app_id}/commands" for path, _ in written)


def test_shard_ids_without_shard_count_is_a_clear_configuration_error(
    monkeypatch, tmp_path
) -> None:
    monkeypatch.chdir(tmp_path)  # no guyub.toml of the developer's
    with pytest.raises(SettingsError, match=r"needs discord\.shard_count"):
        load_settings(discord={"token": "t", "shard_ids": [0, 1]})
    with pytest.raises(SettingsError, match="shards 0 to 3"):
        load_settings(discord={"token": "t", "shard_ids": [4], "shard_count": 4})
