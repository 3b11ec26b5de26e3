"""The contract between the core and a chat platform adapter."""

from __future__ import annotations

import functools
import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from core._command_names import CommandStyle, resolve_refs
from core._events import ChatRef, MessageRef, UserRef
from core._markup import Markup
from core._messages import Attachment, Form, PollSpec, RenderedButton

if TYPE_CHECKING:
    from aiohttp.web import AbstractRouteDef

    from core._app import App
    from core._commands import Command

__all__ = [
    "Adapter",
    "Capability",
    "DeliveryError",
    "DeliveryUnknown",
    "NotSupported",
    "Outgoing",
    "RateLimits",
    "RetryAfter",
    "ScheduledEvent",
    "Unreachable",
]


class Capability(StrEnum):
    """What a platform (and the bot's rights on it) allow. Plugins ask ``ctx.supports``."""

    NATIVE_POLLS = "native_polls"
    MODALS = "modals"
    DM_WITHOUT_START = "dm_without_start"
    SCHEDULED_EVENTS = "scheduled_events"
    EDIT_MESSAGES = "edit_messages"
    DELETE_MESSAGES = "delete_messages"
    BUTTONS = "buttons"
    FILES = "files"
    KICK = "kick"
    BAN = "ban"
    MUTE = "mute"
    ROLES = "roles"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message ready for an adapter: buttons already carry their short keys."""

    text: Markup
    buttons: tuple[tuple[RenderedButton, ...], ...] = ()
    poll: PollSpec | None = None
    attachments: tuple[Attachment, ...] = ()
    silent: bool = False


@dataclass(frozen=True, slots=True)
class RateLimits:
    """How fast the outbox may send on a platform (messages per second / per minute)."""

    overall_per_second: float = 30.0
    per_chat_per_second: float = 1.0
    per_group_per_minute: float = 20.0
    dm_per_second: float = 30.0


@dataclass(frozen=True, slots=True)
class ScheduledEvent:
    """An event to show in a platform's own calendar (Discord guild scheduled events).

    Plain text only (no markup). ``end`` defaults to two hours after ``start`` where the
    platform needs one; ``location`` is where it happens (a place or a link)."""

    title: str
    start: datetime
    end: datetime | None = None
    description: str = ""
    location: str = ""


class DeliveryError(Exception):
    """A send failed. ``permanent`` failures (blocked, left, deleted) are not retried."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Unreachable(DeliveryError):
    """The user can't be messaged privately (never started the bot, DMs closed)."""

    def __init__(self, message: str = "user cannot be reached by DM") -> None:
        super().__init__(message, permanent=True)


class DeliveryUnknown(DeliveryError):
    """The request may have reached the platform: a timeout or a dropped connection after it
    was written, a 5xx answer to a send. Nobody can know whether the recipient got it, so it
    is never sent again (``permanent``); the outbox records the delivery as ``unknown``."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)


class RetryAfter(DeliveryError):
    """The platform asked us to wait ``seconds`` before sending to this target again. The
    request had no effect (a 429 is refused before anything is done), so it may be sent
    again after the wait."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"rate limited, retry after {seconds}s")
        self.seconds = seconds


class NotSupported(DeliveryError):
    """The platform, or the bot's rights there, don't allow this action."""

    def __init__(self, what: str) -> None:
        super().__init__(f"not supported: {what}", permanent=True)
        self.what = what


def _spelled(message: Outgoing, style: CommandStyle) -> Outgoing:
    """``message`` with its command references spelled for ``style``."""
    text = resolve_refs(message.text, style)
    if not message.buttons and not message.attachments and message.poll is None:
        # Text alone (most replies): nothing else to spell.
        return message if text is message.text else replace(message, text=Markup(text))
    buttons = tuple(
        tuple(replace(b, label=resolve_refs(b.label, style)) for b in row)
        for row in message.buttons
    )
    attachments = tuple(
        replace(a, caption=resolve_refs(a.caption, style)) for a in message.attachments
    )
    poll = message.poll
    if poll is not None:
        poll = replace(
            poll,
            question=resolve_refs(poll.question, style),
            options=tuple(resolve_refs(o, style) for o in poll.options),
        )
    if (
        text is message.text
        and buttons == message.buttons
        and attachments == message.attachments
        and poll == message.poll
    ):
        return message
    return replace(message, text=Markup(text), buttons=buttons, attachments=attachments, poll=poll)


def _spelling(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    async def wrapper(self: Adapter, *args: Any, **kwargs: Any) -> Any:
        style = self.command_style
        args = tuple(_spelled(a, style) if isinstance(a, Outgoing) else a for a in args)
        for key, value in kwargs.items():
            if isinstance(value, Outgoing):
                kwargs[key] = _spelled(value, style)
        return await method(self, *args, **kwargs)

    wrapper.__guyub_spelling__ = True  # type: ignore[attr-defined]
    return wrapper


def _takes_outgoing(method: Any) -> bool:
    """A coroutine method with a parameter annotated ``Outgoing`` (send, send_dm, edit, and
    any sending method an adapter adds)."""
    if not inspect.iscoroutinefunction(method):
        return False
    annotations = getattr(method, "__annotations__", {})
    return any("Outgoing" in str(v) for k, v in annotations.items() if k != "return")


class Adapter(ABC):
    """A chat platform. Subclasses turn updates into core events (``app.dispatch``) and
    outgoing messages into platform calls.

    ``run`` is started inside the App's TaskGroup and runs until cancelled; it must not
    take over the event loop.

    ``command_style`` says how the platform spells commands. Command names in a message
    whose platform was not known when it was written are resolved for it before ``send``,
    ``send_dm``, ``edit`` — or any other method taking an ``Outgoing`` — see the message,
    whichever path (reply, DM, outbox) sent it.
    """

    platform: str = ""
    capabilities: frozenset[Capability] = frozenset()
    command_style: CommandStyle = CommandStyle.FLAT

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, method in list(cls.__dict__.items()):
            sending = name in ("send", "send_dm", "edit") or (
                not name.startswith("_") and _takes_outgoing(method)
            )
            if sending and not getattr(method, "__guyub_spelling__", False):
                setattr(cls, name, _spelling(method))

    @abstractmethod
    async def run(self, app: App) -> None:
        """Connect and feed events to ``app.dispatch`` until cancelled."""

    async def stop_receiving(self) -> None:  # noqa: B027
        """Take no more updates (a graceful stop); sending must still work. Adapters that
        poll or listen override it; ``run`` is cancelled later."""

    @abstractmethod
    async def send(
        self, chat: ChatRef, message: Outgoing, *, reply_to: MessageRef | None = None
    ) -> MessageRef:
        """Send a message to a chat. For a message with a native poll, the returned ref's
        ``poll_id`` is the id the platform's votes will carry (``PollAnswered.poll_id``)."""

    @abstractmethod
    async def send_dm(self, user: UserRef, message: Outgoing) -> MessageRef:
        """Send a private message; raise :class:`Unreachable` if the platform forbids it."""

    async def edit(self, ref: MessageRef, message: Outgoing) -> None:
        """Replace a message's text and buttons."""
        raise NotSupported("edit_messages")

    async def delete(self, ref: MessageRef) -> None:
        raise NotSupported("delete_messages")

    async def end_poll(self, ref: MessageRef) -> None:
        """Close the native poll ``ref`` carries, so the platform takes no more votes
        (Telegram ``stopPoll``, Discord "end poll")."""
        raise NotSupported("native_polls")

    async def register_commands(self, commands: Sequence[Command]) -> None:  # noqa: B027
        """Make the commands known to the platform (menus, slash commands). Optional."""

    async def kick(self, chat: ChatRef, user: UserRef) -> None:
        raise NotSupported("kick")

    async def ban(self, chat: ChatRef, user: UserRef) -> None:
        raise NotSupported("ban")

    async def mute(self, chat: ChatRef, user: UserRef, until: datetime | None) -> None:
        raise NotSupported("mute")

    async def unmute(self, chat: ChatRef, user: UserRef) -> None:
        raise NotSupported("mute")

    async def is_chat_admin(self, chat: ChatRef, user: UserRef) -> bool:
        """Whether ``user`` administers the group ``chat`` on the platform itself (Telegram
        ``getChatMember``). Raise :class:`NotSupported` where the platform can't tell; any
        other error means "unknown" and callers refuse what needed the answer."""
        raise NotSupported("chat_admins")

    async def close_buttons(self, ref: MessageRef) -> None:
        """Make the buttons of a message the bot sent unusable (a finished flow's question):
        disabled on Discord, removed on Telegram. Raise :class:`NotSupported` where
        messages can't be edited."""
        raise NotSupported("edit_messages")

    async def add_role(self, chat: ChatRef, user: UserRef, role: str) -> None:
        """Give ``user`` the platform role ``role`` (an id) in the community ``chat``
        belongs to (capability ``roles``: Discord server roles)."""
        raise NotSupported("roles")

    async def remove_role(self, chat: ChatRef, user: UserRef, role: str) -> None:
        """Take the platform role ``role`` from ``user`` (nothing if they don't have it)."""
        raise NotSupported("roles")

    async def show_form(self, form: Form, key: str) -> None:
        """Show ``form`` to the member whose interaction is being answered; its submission
        comes back as :class:`ButtonPressed` with ``key`` and the answers in ``form``."""
        raise NotSupported("modals")

    # --- platform calendar (capability ``scheduled_events``) --------------------------

    async def create_scheduled_event(self, chat: ChatRef, event: ScheduledEvent) -> str:
        """Create ``event`` in the calendar of the community ``chat`` belongs to; returns
        the platform's id for later updates."""
        raise NotSupported("scheduled_events")

    async def update_scheduled_event(
        self, chat: ChatRef, event_id: str, event: ScheduledEvent
    ) -> None:
        raise NotSupported("scheduled_events")

    async def cancel_scheduled_event(self, chat: ChatRef, event_id: str) -> None:
        raise NotSupported("scheduled_events")

    def web_routes(self) -> Sequence[AbstractRouteDef]:
        """Routes to mount on the App's web server when it is served (a webhook sharing the
        dashboard's port). Called once by ``App.run(web=True)`` before the server starts."""
        return ()

    async def open_dm(self, user: UserRef) -> ChatRef | None:
        """The private chat with ``user``, opened without sending anything, where the
        platform allows it (capability ``dm_without_start``); None elsewhere. Unlike
        ``send_dm``, which may answer a member's own interaction in place (Discord's
        "only you can see this"), a flow started in this chat runs in the real DM.
        Raises :class:`Unreachable` if the platform refuses."""
        return None

    def mod_log_chat(self, chat: ChatRef) -> ChatRef | None:
        """Where moderation in ``chat``'s community is logged (warn, mute, kick, ban, with
        who and why), if the platform is configured with one (Discord:
        ``discord.mod_log_channel_ids``)."""
        return None

    def dm_link(self, payload: str = "") -> str | None:
        """A link that opens a private chat with the bot (Telegram deep link), if any."""
        return None

    def health(self) -> str | None:
        """Why this adapter cannot take updates or send right now (``/readyz`` shows it),
        or None when it can. Adapters that connect somewhere override it."""
        return None

    def rate_limits(self) -> RateLimits:
        """The pace the outbox keeps on this platform."""
        return RateLimits()

    def answers_in_place(self, chat: ChatRef) -> bool:
        """Whether a send to ``chat`` now answers the update being handled through a
        channel of its own that the platform counts against none of its message limits (a
        Discord interaction's response and follow-ups: not the channel's, nor the bot's
        global one). The delivery layer then keeps no pace for it, except a pause the
        platform asked for in the chat (a 429)."""
        return False

    def supports(self, capability: Capability) -> bool:
        return capability in self.capabilities
