"""Discord through discord.py 2.7: slash commands, buttons, native polls, member joins and
guild scheduled events.

Found by the core through the ``guyub.adapters`` entry point. ``create(settings)`` builds the
adapter (and its client, without connecting) when ``discord.token`` is set.
"""

from __future__ import annotations

from adapters.discord._adapter import DiscordAdapter
from adapters.discord._client import GuyubClient, GuyubShardedClient, build_intents
from adapters.discord._commands import CommandSet, build_command_set, read_invocation
from adapters.discord._outgoing import BUTTON_PREFIX
from adapters.discord._render import NO_PINGS, escape_text, split_text, to_markdown
from core import Settings

__all__ = [
    "BUTTON_PREFIX",
    "NO_PINGS",
    "CommandSet",
    "DiscordAdapter",
    "GuyubClient",
    "GuyubShardedClient",
    "build_command_set",
    "build_intents",
    "create",
    "escape_text",
    "read_invocation",
    "split_text",
    "to_markdown",
]


def create(settings: Settings) -> DiscordAdapter | None:
    """The Discord adapter, or None when ``discord.token`` (GUYUB_DISCORD__TOKEN) is unset."""
    if settings.discord.token is None or not settings.discord.token.get_secret_value():
        return None
    return DiscordAdapter(settings)
