"""Correlation ids: one per update, following it through plugins, jobs and deliveries.

``App.dispatch`` opens an :class:`UpdateScope` in a context variable; everything the update
causes in that task (plugin hooks, replies, tasks it starts, batches it enqueues) sees the
same scope, and every log line written meanwhile carries its id. Scheduler jobs and outbox
sends open a scope of their own (a job's id, or the id of the update that enqueued a batch).
The scope names the member by their pseudonymous member id, never by a platform id.
"""

from __future__ import annotations

import random
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any

__all__ = [
    "UpdateScope",
    "correlation_id",
    "current_scope",
    "enter",
    "new_id",
    "platform_strings",
    "scope",
]


@dataclass(slots=True)
class UpdateScope:
    """What the log lines of one update (or job, or send) have in common."""

    cid: str
    kind: str = ""  # the event type, "job" or "delivery"
    platform: str = ""
    member: int | None = None
    command: str | None = None
    outcome: str = "ok"
    #: The event the update brought: its platform strings are masked in its log lines.
    source: Any = None
    _strings: tuple[str, ...] | None = None

    @property
    def private(self) -> tuple[str, ...]:
        """The platform strings of ``source`` (ids, names, text), found when a log line
        first needs them (most updates log nothing that needs masking)."""
        if self._strings is None:
            self._strings = platform_strings(self.source) if self.source is not None else ()
        return self._strings

    def refused(self) -> None:
        """The core answered but did not do what was asked (limits, consent, roles)."""
        if self.outcome == "ok":
            self.outcome = "refused"


_current: ContextVar[UpdateScope | None] = ContextVar("guyub_update_scope", default=None)


def new_id() -> str:
    """A short random id (64 bits, hex): unique enough to grep one update's lines. Not a
    secret: the module's generator (seeded from the system, reseeded in a forked child)
    spares every update a system call."""
    return f"{random.getrandbits(64):016x}"


def current_scope() -> UpdateScope | None:
    return _current.get()


def correlation_id() -> str | None:
    found = _current.get()
    return found.cid if found is not None else None


class _Scope:
    """``with scope(...) as update``: a class, not a generator (it opens on every update)."""

    __slots__ = ("_opened", "_token")

    def __init__(self, opened: UpdateScope) -> None:
        self._opened = opened
        self._token: Token[UpdateScope | None] | None = None

    def __enter__(self) -> UpdateScope:
        self._token = _current.set(self._opened)
        return self._opened

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            _current.reset(self._token)


def scope(kind: str, platform: str = "", cid: str | None = None) -> _Scope:
    """Open a scope for the code inside (a fresh id unless ``cid`` continues one)."""
    return _Scope(UpdateScope(cid or new_id(), kind, platform))


def enter(kind: str, platform: str = "", cid: str | None = None) -> UpdateScope:
    """Open a scope for the rest of the current context (a task's copied context)."""
    opened = UpdateScope(cid or new_id(), kind, platform)
    _current.set(opened)
    return opened


#: Shorter strings are not masked: they would mangle ordinary words in log lines.
_MIN_PRIVATE = 4


def platform_strings(event: Any) -> tuple[str, ...]:
    """What an event carries that identifies a person or is their words: the sender's and
    the replied-to user's platform id and names, a private chat's id, the text."""
    found: list[str] = []
    for sender in (getattr(event, "user", None), getattr(event, "reply_to_user", None)):
        if sender is None:
            continue
        ref = getattr(sender, "ref", None)
        found.extend(
            str(v)
            for v in (
                getattr(ref, "id", None),
                getattr(sender, "display_name", None),
                getattr(sender, "username", None),
            )
            if v
        )
    chat = getattr(event, "chat", None)
    if chat is not None and getattr(chat, "is_dm", False):
        found.append(str(chat.id))
    for name in ("text", "args"):
        value = getattr(event, name, None)
        if isinstance(value, str) and value.strip():
            found.append(value.strip())
    # Longest first, so a name inside the text is not masked before the whole text.
    unique = {v for v in found if len(v) >= _MIN_PRIVATE}
    return tuple(sorted(unique, key=len, reverse=True))
