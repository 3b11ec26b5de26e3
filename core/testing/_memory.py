"""An in-memory chat platform: the adapter behind FakeChat and the console."""

from __future__ import annotations

import asyncio
import fnmatch
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from core._adapter import (
    Adapter,
    Capability,
    NotSupported,
    Outgoing,
    RateLimits,
    ScheduledEvent,
    Unreachable,
)
from core._app import App
from core._command_names import CommandStyle
from core._events import ChatKind, ChatRef, MessageRef, UserRef
from core._markup import Markup, to_plain
from core._messages import Attachment, Form, RenderedButton

__all__ = ["ALL_CAPABILITIES", "MemoryAdapter", "Moderation", "Sent"]

ALL_CAPABILITIES = frozenset(Capability) - {Capability.MODALS}


@dataclass
class Sent:
    """A message the bot sent (or edited) on the in-memory platform."""

    ref: MessageRef
    markup: Markup
    buttons: tuple[tuple[RenderedButton, ...], ...] = ()
    poll_id: str | None = None
    poll_question: str = ""
    poll_options: tuple[str, ...] = ()
    poll_multiple: bool = False
    poll_closed: bool = False
    attachments: tuple[Attachment, ...] = ()
    to_user: UserRef | None = None
    edits: int = 0
    #: Buttons a finished flow removed (a stale client may still press them).
    spent: tuple[tuple[RenderedButton, ...], ...] = ()

    @property
    def chat(self) -> ChatRef:
        return self.ref.chat

    @property
    def text(self) -> str:
        """The text as a member reads it (markup removed, entities decoded)."""
        return to_plain(self.markup)

    def button_labels(self) -> list[str]:
        return [b.label for row in self.buttons for b in row]

    def find_button(self, label_or_number: str, *, spent: bool = False) -> RenderedButton | None:
        """The button with that label (or 1-based number); with ``spent``, among the
        buttons a finished flow removed."""
        flat = [b for row in (self.spent if spent else self.buttons) for b in row]
        wanted = label_or_number.strip()
        if wanted.isdigit() and 1 <= int(wanted) <= len(flat):
            return flat[int(wanted) - 1]
        for button in flat:
            if button.label.strip().casefold() == wanted.casefold():
                return button
        for button in flat:
            if wanted.casefold() in button.label.casefold():
                return button
        return None

    def attachment(self, filename: str = "*") -> Attachment:
        """The attached file whose name matches ``filename`` (a glob: ``"*.csv"``); its
        ``data`` holds the bytes, :meth:`attachment_text` the decoded text."""
        for attachment in self.attachments:
            if fnmatch.fnmatchcase(attachment.filename, filename):
                return attachment
        names = ", ".join(a.filename for a in self.attachments) or "none"
        raise AssertionError(f"no attachment matching {filename!r} (attached: {names})")

    def attachment_text(self, filename: str = "*", encoding: str = "utf-8-sig") -> str:
        """The contents of the attached file matching ``filename``, as text."""
        return self.attachment(filename).data.decode(encoding)

    def full_text(self) -> str:
        """Text, buttons, poll and attachments, as the console prints them."""
        lines = [self.text] if self.text else []
        if self.poll_id:
            lines.append(f"📊 {self.poll_question}")
            lines.extend(f"  {i}. {opt}" for i, opt in enumerate(self.poll_options, 1))
        for attachment in self.attachments:
            label = attachment.caption or attachment.filename
            lines.append(f"  <{attachment.kind.value}: {label}>")
        for row in self.buttons:
            lines.append("  " + " ".join(_shown(b) for b in row))
        return "\n".join(lines)


def _shown(button: RenderedButton) -> str:
    """``[Label]``, or ``[Label ↗ https://…]`` for a link."""
    return f"[{button.label} ↗ {button.url}]" if button.url else f"[{button.label}]"


@dataclass(frozen=True)
class Moderation:
    """A kick, ban, mute or unmute the bot performed."""

    action: str
    chat: ChatRef
    user: UserRef
    until: datetime | None = None


@dataclass
class MemoryAdapter(Adapter):
    """A platform that lives in memory. ``dm_requires_start`` models Telegram, where the
    bot can't DM a user who never started it."""

    name: str = "fake"
    caps: frozenset[Capability] = ALL_CAPABILITIES
    dm_requires_start: bool = False
    #: How commands are spelled; by default grouped for a platform named "discord" (as on
    #: Discord), flat otherwise (as on Telegram).
    style: CommandStyle | None = None
    limits: RateLimits = field(default_factory=lambda: RateLimits(1e9, 1e9, 1e9, 1e9))
    sent: list[Sent] = field(default_factory=list)
    moderation: list[Moderation] = field(default_factory=list)
    #: Messages the bot deleted (its own or members').
    deleted: list[MessageRef] = field(default_factory=list)
    started: set[str] = field(default_factory=set)
    blocked: set[str] = field(default_factory=set)
    on_send: list[Callable[[Sent, bool], None]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _polls: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _by_ref: dict[MessageRef, Sent] = field(default_factory=dict)
    #: Forms shown (with the key their submission carries), latest last; only on a platform
    #: created with ``Capability.MODALS`` in ``caps``.
    forms: list[tuple[Form, str]] = field(default_factory=list)
    #: Who administers each group on the platform (chat id → user ids); None models a
    #: platform that can't tell (``is_chat_admin`` raises NotSupported).
    chat_admins: dict[str, set[str]] | None = None
    #: Messages whose buttons a finished flow spent (removed).
    closed: list[MessageRef] = field(default_factory=list)
    #: Calendar events by id, with their chat and whether they were cancelled.
    scheduled: dict[str, tuple[ChatRef, ScheduledEvent, bool]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.platform = self.name
        self.capabilities = self.caps
        if self.style is None:
            self.style = CommandStyle.GROUPED if self.name == "discord" else CommandStyle.FLAT
        self.command_style = self.style

    def __hash__(self) -> int:
        return id(self)

    async def run(self, app: App) -> None:
        await asyncio.Event().wait()

    def dm_chat(self, user: UserRef) -> ChatRef:
        return ChatRef(self.platform, f"dm-{user.id}", ChatKind.DM, title=user.id)

    async def send(
        self, chat: ChatRef, message: Outgoing, *, reply_to: MessageRef | None = None
    ) -> MessageRef:
        return self._record(chat, message, None)

    async def send_dm(self, user: UserRef, message: Outgoing) -> MessageRef:
        if user.id in self.blocked or (self.dm_requires_start and user.id not in self.started):
            raise Unreachable(f"{user} has not started the bot")
        return self._record(self.dm_chat(user), message, user)

    async def edit(self, ref: MessageRef, message: Outgoing) -> None:
        record = self._by_ref.get(ref)
        if record is None:
            raise NotSupported("edit of an unknown message")
        record.markup = message.text
        record.buttons = message.buttons
        record.edits += 1
        for listener in self.on_send:
            listener(record, True)

    async def close_buttons(self, ref: MessageRef) -> None:
        """Spent buttons go, as Telegram removes an inline keyboard (``closed`` lists them)."""
        if Capability.EDIT_MESSAGES not in self.capabilities:
            raise NotSupported("edit_messages")
        record = self._by_ref.get(ref)
        if record is None:
            raise NotSupported("edit of an unknown message")
        # Not reported as a new message: the text stays, only the buttons go.
        self.closed.append(ref)
        record.spent = record.spent or record.buttons
        record.buttons = ()

    async def end_poll(self, ref: MessageRef) -> None:
        record = self._by_ref.get(ref)
        if record is None or record.poll_id is None:
            raise NotSupported("end_poll of a message without a poll")
        record.poll_closed = True
        record.edits += 1
        for listener in self.on_send:
            listener(record, True)

    async def delete(self, ref: MessageRef) -> None:
        if Capability.DELETE_MESSAGES not in self.capabilities:
            raise NotSupported("delete_messages")
        self.deleted.append(ref)
        self._by_ref.pop(ref, None)

    async def kick(self, chat: ChatRef, user: UserRef) -> None:
        self._moderate("kick", chat, user, None, Capability.KICK)

    async def ban(self, chat: ChatRef, user: UserRef) -> None:
        self._moderate("ban", chat, user, None, Capability.BAN)

    async def mute(self, chat: ChatRef, user: UserRef, until: datetime | None) -> None:
        self._moderate("mute", chat, user, until, Capability.MUTE)

    async def unmute(self, chat: ChatRef, user: UserRef) -> None:
        self._moderate("unmute", chat, user, None, Capability.MUTE)

    async def is_chat_admin(self, chat: ChatRef, user: UserRef) -> bool:
        if self.chat_admins is None:
            raise NotSupported("chat_admins")
        return user.id in self.chat_admins.get(chat.id, set())

    def _moderate(
        self,
        action: str,
        chat: ChatRef,
        user: UserRef,
        until: datetime | None,
        capability: Capability,
    ) -> None:
        if capability not in self.capabilities:
            raise NotSupported(capability.value)
        self.moderation.append(Moderation(action, chat, user, until))

    async def create_scheduled_event(self, chat: ChatRef, event: ScheduledEvent) -> str:
        if Capability.SCHEDULED_EVENTS not in self.capabilities:
            raise NotSupported("scheduled_events")
        event_id = f"event-{len(self.scheduled) + 1}"
        self.scheduled[event_id] = (chat, event, False)
        return event_id

    async def update_scheduled_event(
        self, chat: ChatRef, event_id: str, event: ScheduledEvent
    ) -> None:
        if event_id not in self.scheduled:
            raise NotSupported("update of an unknown scheduled event")
        self.scheduled[event_id] = (chat, event, self.scheduled[event_id][2])

    async def cancel_scheduled_event(self, chat: ChatRef, event_id: str) -> None:
        if event_id in self.scheduled:
            known_chat, event, _ = self.scheduled[event_id]
            self.scheduled[event_id] = (known_chat, event, True)

    async def show_form(self, form: Form, key: str) -> None:
        if Capability.MODALS not in self.capabilities:
            raise NotSupported("modals")
        self.forms.append((form, key))

    def dm_link(self, payload: str = "") -> str | None:
        return f"https://{self.platform}.invalid/bot?start={payload}"

    def rate_limits(self) -> RateLimits:
        return self.limits

    def _record(self, chat: ChatRef, message: Outgoing, to_user: UserRef | None) -> MessageRef:
        poll_id: str | None = None
        if message.poll is not None:
            if Capability.NATIVE_POLLS not in self.capabilities:
                raise NotSupported("native_polls")
            poll_id = f"poll-{next(self._polls)}"
        ref = MessageRef(chat, str(next(self._ids)), poll_id=poll_id)
        record = Sent(ref, message.text, message.buttons, to_user=to_user)
        if message.poll is not None:
            record.poll_id = poll_id
            record.poll_question = message.poll.question
            record.poll_options = message.poll.options
            record.poll_multiple = message.poll.multiple
        record.attachments = tuple(message.attachments)
        self.sent.append(record)
        self._by_ref[ref] = record
        for listener in self.on_send:
            listener(record, False)
        return ref
