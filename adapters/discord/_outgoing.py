"""A core ``Outgoing`` message as discord.py keyword arguments."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import discord

from adapters.discord._render import NO_PINGS, split_text, to_markdown
from core import DeliveryError, Form, NotSupported, Outgoing, RenderedButton
from core._messages import fit

__all__ = [
    "BUTTON_PREFIX",
    "FORM_PREFIX",
    "MENU_PREFIX",
    "build_files",
    "build_modal",
    "build_poll",
    "build_view",
    "disabled_view",
    "form_answers",
    "message_pieces",
]

#: Buttons we send carry ``custom_id = BUTTON_PREFIX + key``; the payload stays server-side.
BUTTON_PREFIX = "g:"
#: Forms (modals) carry ``custom_id = FORM_PREFIX + key`` the same way.
FORM_PREFIX = "f:"
#: The options form of a message context-menu command:
#: ``MENU_PREFIX + "command:author id:message id"``.
MENU_PREFIX = "m:"
#: How long discord.py keeps an unanswered modal in memory (its submission is handled
#: by custom_id either way, also after a restart).
MODAL_TIMEOUT = 15 * 60.0
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


def disabled_view(message: discord.Message) -> discord.ui.View | None:
    """The message's buttons and menus, disabled (links stay usable); None if it has none
    to disable."""
    if not message.components:
        return None
    view = discord.ui.View.from_message(message, timeout=None)
    changed = False
    for item in view.children:
        if isinstance(item, discord.ui.Button) and item.url:
            continue
        if isinstance(item, (discord.ui.Button, discord.ui.Select)) and not item.disabled:
            item.disabled = True
            changed = True
    view.stop()  # kept out of discord.py's view store, as every view we send
    return view if changed else None


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


def build_modal(form: Form, key: str, *, custom_id: str | None = None) -> discord.ui.Modal:
    """A form as a Discord modal: at most five text fields (Discord's limit)."""
    if not 1 <= len(form.fields) <= 5:
        raise NotSupported("forms with more than 5 fields")
    modal = discord.ui.Modal(
        title=fit(form.title) or "…",
        timeout=MODAL_TIMEOUT,
        custom_id=(custom_id or f"{FORM_PREFIX}{key}")[:100],
    )
    for field in form.fields:
        modal.add_item(
            discord.ui.TextInput(
                label=fit(field.label) or field.name,
                custom_id=field.name[:100],
                style=discord.TextStyle.paragraph if field.long else discord.TextStyle.short,
                required=field.required,
                placeholder=field.placeholder[:100] or None,
                max_length=max(1, min(field.max_length, 4000)),
            )
        )
    return modal


def form_answers(components: Sequence[Any]) -> dict[str, str]:
    """The text answers of a modal submission, by field name, whatever the layout (action
    rows or labels) wraps them in."""
    answers: dict[str, str] = {}
    stack = list(components)
    while stack:
        item = stack.pop()
        if not isinstance(item, dict):
            continue
        if "custom_id" in item and isinstance(item.get("value"), str):
            answers[str(item["custom_id"])] = item["value"]
        stack.extend(item.get("components") or [])
        if isinstance(item.get("component"), dict):
            stack.append(item["component"])
    return answers
