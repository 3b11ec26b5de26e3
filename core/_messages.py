"""Neutral outgoing messages: what plugins send, whatever the platform."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from core._markup import Markup, escape

__all__ = [
    "FORM_TEXT_LIMIT",
    "Attachment",
    "AttachmentKind",
    "Button",
    "Form",
    "FormField",
    "Message",
    "PollSpec",
    "RenderedButton",
    "as_message",
    "fit",
]

#: The most characters a form title or field label shows (Discord modals; the tightest limit
#: of the platforms with forms).
FORM_TEXT_LIMIT = 45


@dataclass(frozen=True, slots=True)
class Button:
    """A button. Pressing it runs the registered action ``action`` with ``data``.

    ``data`` reaches the action as it was given. Small plain data (ids, flags, short codes:
    ``{"id": 1}``) travels in the button's key, signed, so the platform sees it but cannot
    forge it; anything else (a name, a text) stays on the server, which gives the adapter a
    short random key. ``only_for`` ties the button to one member id, so nobody else can
    press it for them.
    A ``url`` button opens a link instead and runs nothing.
    """

    label: str
    action: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)
    url: str | None = None
    only_for: int | None = None


@dataclass(frozen=True, slots=True)
class RenderedButton:
    """A button as an adapter sees it: a label and either a short key or a URL."""

    label: str
    key: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class PollSpec:
    """A poll to show natively where the platform has polls."""

    question: str
    options: tuple[str, ...]
    multiple: bool = False
    anonymous: bool = False


@dataclass(frozen=True, slots=True)
class FormField:
    """One text field of a :class:`Form`. ``label`` and ``placeholder`` are shown as given
    (translate them with ``ctx.t`` first)."""

    name: str
    label: str
    long: bool = False
    required: bool = True
    placeholder: str = ""
    max_length: int = 400


def fit(text: str, limit: int = FORM_TEXT_LIMIT) -> str:
    """``text`` in at most ``limit`` characters: a longer one is cut at the last word
    boundary (mid-word only when the last word alone is over half the room) and ends with
    "…", so a reader sees it was cut."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    if not text[limit - 1].isspace():
        space = head.rfind(" ")
        if space > limit // 2:
            head = head[:space]
    return head.rstrip(" ,.;:-–—") + "…"


@dataclass(frozen=True, slots=True)
class Form:
    """Several answers asked at once, where the platform has forms (capability
    ``modals``: Discord modals). Submitting runs the registered action ``action`` with
    ``data`` plus ``{"form": {field name: text}}``. Shown only in answer to a button press
    or a command, as the platform requires; ``ctx.show_form`` says whether it was shown."""

    title: str
    fields: tuple[FormField, ...]
    action: str
    data: Mapping[str, Any] = field(default_factory=dict)


class AttachmentKind(StrEnum):
    IMAGE = "image"
    FILE = "file"


@dataclass(frozen=True, slots=True)
class Attachment:
    """An image or a file, sent with the message."""

    kind: AttachmentKind
    filename: str
    data: bytes
    caption: str = ""
    mime_type: str = "application/octet-stream"


_EMPTY = Markup("")


@dataclass(frozen=True, slots=True)
class Message:
    """A message to send: markup text, button rows, an optional poll and attachments."""

    text: Markup = _EMPTY
    buttons: tuple[tuple[Button, ...], ...] = ()
    poll: PollSpec | None = None
    attachments: tuple[Attachment, ...] = ()
    silent: bool = False

    @classmethod
    def of(
        cls,
        text: str = "",
        *,
        buttons: Iterable[Iterable[Button]] | Sequence[Button] = (),
        poll: PollSpec | None = None,
        attachments: Iterable[Attachment] = (),
        silent: bool = False,
    ) -> Message:
        """Build a message; plain ``str`` text is escaped, ``Markup`` kept. ``buttons`` is a
        list of rows, or a flat list of buttons shown one row each."""
        rows: list[tuple[Button, ...]] = []
        for row in buttons:
            if isinstance(row, Button):
                rows.append((row,))
            else:
                rows.append(tuple(row))
        return cls(escape(text), tuple(rows), poll, tuple(attachments), silent)


def as_message(value: Message | str) -> Message:
    """Accept a message or a text."""
    return value if isinstance(value, Message) else Message.of(value)
