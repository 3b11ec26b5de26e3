"""A core ``Outgoing`` message as discord.py keyword arguments."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import discord

from adapters.discord._render import NO_PINGS, split_text, to_markdown
from core import DeliveryError, NotSupported, Outgoing, RenderedButton

__all__ = ["BUTTON_PREFIX", "build_files", "build_poll", "build_view", "message_pieces"]

#: Buttons we send carry ``custom_id = BUTTON_PREFIX + key``; the payload stays server-side.
BUTTON_PREFIX = "g:"
#: Discord's longest poll.
POLL_DURATION = timedelta(days=32)


def build_view(rows: Sequence[Sequence[RenderedButton]]) -> discord.ui.View | None:
    """Button rows as a view; presses come back through ``on_interaction``."""
    if not rows:
        return None
    view = discord.ui.View(timeout=None)
    for number, row in enumerate(rows[:5]):
        for button in row[:5]:
            label = button.label[:80] or "…"
            if button.url:
                view.add_item(discord.ui.Button(label=label, url=button.url, row=number))
            else:
                view.add_item(
                    discord.ui.Button(
                        label=label,
                        custom_id=f"{BUTTON_PREFIX}{button.key}"[:100],
                        style=discord.ButtonStyle.primary,
                        row=number,
                    )
                )
    # A stopped view is not kept in discord.py's view store: presses are routed by
    # custom_id in on_interaction, for every message ever sent, with no memory growth.
    view.stop()
    return view


def build_poll(message: Outgoing) -> discord.Poll | None:
    """The message's poll as a native Discord poll (32 days, the longest Discord allows:
    the core closes polls itself)."""
    spec = message.poll
    if spec is None:
        return None
    if spec.anonymous:
        # Discord shows every voter; sending it anyway would break the promise.
        raise NotSupported("anonymous native polls")
    if not 1 <= len(spec.options) <= 10:
        raise NotSupported("native polls with more than 10 options")
    poll = discord.Poll(spec.question[:300], POLL_DURATION, multiple=spec.multiple)
    for option in spec.options:
        poll.add_answer(text=option[:55])
    return poll


def build_files(message: Outgoing) -> list[discord.File]:
    return [
        discord.File(io.BytesIO(a.data), filename=a.filename, description=a.caption[:1024] or None)
        for a in message.attachments[:10]
    ]


def message_pieces(message: Outgoing) -> list[dict[str, Any]]:
    """The messages to post: text split at 2,000 characters; buttons, poll and files
    ride on the last one."""
    text = to_markdown(message.text)
    if not text and message.attachments:
        text = to_markdown("\n".join(a.caption for a in message.attachments if a.caption))
    chunks = split_text(text)
    extras: dict[str, Any] = {}
    view = build_view(message.buttons)
    if view is not None:
        extras["view"] = view
    poll = build_poll(message)
    if poll is not None:
        extras["poll"] = poll
    files = build_files(message)
    if files:
        extras["files"] = files
    if not chunks:
        if not extras:
            raise DeliveryError("empty message", permanent=True)
        chunks = ["\u200b"] if view is not None and len(extras) == 1 else [""]
    pieces: list[dict[str, Any]] = [{"content": chunk or None} for chunk in chunks]
    pieces[-1].update(extras)
    for piece in pieces:
        piece["allowed_mentions"] = NO_PINGS
        if message.silent:
            piece["silent"] = True
    return pieces
