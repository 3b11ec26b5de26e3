"""Platform-neutral references and the events adapters feed into the core.

Every event is frozen. Adapters build them from platform updates; plugins read them from
``ctx.event``. Nothing here knows a platform SDK.

Building an event is the adapter boundary: every platform string in it (text, arguments,
names, titles, form answers) is cleaned there once (:mod:`core._text`: no lone surrogates,
NUL or control characters), whichever adapter built it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from core._text import clean_line, clean_platform_text

__all__ = [
    "ButtonPressed",
    "ChatKind",
    "ChatRef",
    "CommandInvoked",
    "Event",
    "MemberJoined",
    "MemberLeft",
    "MessageReceived",
    "MessageRef",
    "PollAnswered",
    "ScheduledEventInterest",
    "Sender",
    "UserRef",
]


@dataclass(frozen=True, slots=True)
class UserRef:
    """A user on one platform: ``telegram:12345``."""

    platform: str
    id: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.id}"

    @classmethod
    def parse(cls, text: str) -> UserRef:
        """Parse ``platform:id`` (as written in config ``admins``)."""
        platform, sep, user_id = text.strip().partition(":")
        if not sep or not platform or not user_id:
            raise ValueError(f"expected PLATFORM:USER_ID, got {text!r}")
        return cls(platform.lower(), user_id)


class ChatKind(StrEnum):
    """Where a message was said."""

    GROUP = "group"
    DM = "dm"


@dataclass(frozen=True, slots=True)
class ChatRef:
    """A chat on one platform. ``thread`` names a forum topic or thread inside it."""

    platform: str
    id: str
    kind: ChatKind = ChatKind.GROUP
    title: str | None = field(default=None, compare=False)
    thread: str | None = None

    def __post_init__(self) -> None:
        if self.title is not None:
            object.__setattr__(self, "title", clean_line(self.title))

    @property
    def key(self) -> str:
        """A stable string naming this chat, for storing in the database."""
        base = f"{self.platform}:{self.id}"
        return f"{base}/{self.thread}" if self.thread else base

    @property
    def is_dm(self) -> bool:
        return self.kind is ChatKind.DM


@dataclass(frozen=True, slots=True)
class MessageRef:
    """A message the bot or a user sent, so it can be edited or replied to.

    ``poll_id`` is the platform's id of the native poll the message carries (Telegram's
    ``poll.id``, Discord's message id), so votes arriving as :class:`PollAnswered` can be
    matched to it; None for messages without a native poll.
    """

    chat: ChatRef
    id: str
    poll_id: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Sender:
    """Who did something, as the platform described them at that moment."""

    ref: UserRef
    display_name: str
    username: str | None = None
    language: str | None = None
    is_bot: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "display_name", clean_line(self.display_name))
        if self.username is not None:
            object.__setattr__(self, "username", clean_line(self.username))


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Something that happened on a platform."""

    user: Sender
    chat: ChatRef
    at: datetime | None = None

    @property
    def platform(self) -> str:
        return self.chat.platform


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageReceived(Event):
    """A plain (non-command) message."""

    text: str
    message: MessageRef | None = None
    reply_to: MessageRef | None = None
    reply_to_user: Sender | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", clean_platform_text(self.text))


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandInvoked(Event):
    """A command. ``args`` is the raw text after the name; platforms with typed options
    (Discord) pass them already split in ``options``."""

    name: str
    args: str = ""
    options: dict[str, Any] | None = None
    message: MessageRef | None = None
    reply_to: MessageRef | None = None
    reply_to_user: Sender | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", clean_line(self.name))
        object.__setattr__(self, "args", clean_platform_text(self.args))
        if self.options is not None:
            object.__setattr__(
                self,
                "options",
                {
                    k: clean_platform_text(v) if isinstance(v, str) else v
                    for k, v in self.options.items()
                },
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberJoined(Event):
    """A user joined a group."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberLeft(Event):
    """A user left (or was removed from) a group."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ButtonPressed(Event):
    """A button was pressed. ``key`` is the short server-side key the adapter received.
    A submitted form (a Discord modal) is a press too, with its answers in ``form``."""

    key: str
    message: MessageRef | None = None
    form: dict[str, str] | None = None

    def __post_init__(self) -> None:
        if self.form is not None:
            object.__setattr__(
                self, "form", {k: clean_platform_text(v) for k, v in self.form.items()}
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class PollAnswered(Event):
    """A vote on a native poll (``poll_id`` is the platform's id). Empty ``options`` is a
    retracted vote. Options are 0-based indexes."""

    poll_id: str
    options: tuple[int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduledEventInterest(Event):
    """A member marked an event in the platform's calendar as interesting (Discord's
    "Interested"), or took it back. ``event_id`` is the id ``create_scheduled_event``
    returned; ``chat`` is the community's welcome chat."""

    event_id: str
    interested: bool
