"""Building the adapter offline, intents, sharding, and a clear word when Discord refuses
the privileged members intent."""

from __future__ import annotations

import logging

import discord
import pytest

from adapters.discord import DiscordAdapter, GuyubShardedClient, create
from core import Capability
from core.cli import configured_adapters
from core.testing import test_settings as settings_for_tests


def test_no_token_no_adapter() -> None:
    assert create(settings_for_tests()) is None


def test_built_without_connecting() -> None:
    adapter = create(settings_for_tests(discord={"token": "t"}))
    assert isinstance(adapter, DiscordAdapter)
    assert adapter.client.is_closed() is False
    assert adapter.client.ws is None  # no gateway connection was made
    assert adapter.client.user is None
    intents = adapter.client.intents
    assert intents.members
    assert intents.guilds
    assert intents.guild_messages
    assert intents.dm_messages
    assert intents.guild_polls
    assert intents.dm_polls
    assert intents.guild_scheduled_events
    assert not intents.message_content  # privileged: only when a plugin needs plain text
    assert adapter.supports(Capability.NATIVE_POLLS)
    assert adapter.supports(Capability.SCHEDULED_EVENTS)
    assert adapter.supports(Capability.MODALS)


def test_message_content_only_when_asked() -> None:
    adapter = create(settings_for_tests(discord={"token": "t", "message_content": True}))
    assert adapter is not None
    assert adapter.client.intents.message_content


def test_shards_split_across_processes() -> None:
    adapter = create(
        settings_for_tests(discord={"token": "t", "shard_count": 4, "shard_ids": [2, 3]})
    )
    assert adapter is not None
    assert isinstance(adapter.client, GuyubShardedClient)
    assert adapter.client.shard_count == 4
    assert adapter.client.shard_ids == [2, 3]


def test_found_through_the_entry_point() -> None:
    adapters = configured_adapters(settings_for_tests(discord={"token": "t"}))
    assert [a.platform for a in adapters] == ["discord"]


async def test_refused_members_intent_is_explained(
    make_app, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for_tests(discord={"token": "t"})
    adapter = DiscordAdapter(settings)

    async def refused(token: str, *, reconnect: bool = True) -> None:
        # What discord.py raises when the gateway closes with 4014 (disallowed intents).
        raise discord.PrivilegedIntentsRequired(shard_id=None)

    adapter.client.start = refused  # type: ignore[method-assign]
    async with make_app(settings=settings, adapters=[adapter]) as app:
        with caplog.at_level(logging.ERROR, logger="adapters.discord"):
            await adapter.run(app)  # returns: the other platforms keep running
    message = "\n".join(r.getMessage() for r in caplog.records)
    assert "SERVER MEMBERS INTENT" in message
    assert "Developer Portal" in message or "developers/applications" in message
