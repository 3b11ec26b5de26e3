"""FakeChat: users who join, say things, press buttons and vote, and assertions on what the
bot sent. It drives a real App (real database, real plugins) through in-memory platforms."""

from __future__ import annotations

import contextlib
import fnmatch
import re
import traceback
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core._app import App
from core._commands import parse_command_line, parse_duration
from core._context import Context
from core._events import (
    ButtonPressed,
    ChatKind,
    ChatRef,
    CommandInvoked,
    Event,
    MemberJoined,
    MemberLeft,
    MessageReceived,
    MessageRef,
    PollAnswered,
    Sender,
    UserRef,
)
from core._roles import Role
from core.models import Member
from core.testing._memory import MemoryAdapter, Sent

__all__ = ["ExpectationFailed", "FakeChat", "FakeUser", "HandlerError"]


class HandlerError(AssertionError):
    """``FakeChat(raise_errors=True)``: a handler or job raised during the action (the
    exception it raised is the ``__cause__``)."""


class ExpectationFailed(AssertionError):
    """What the bot sent did not match; the message shows what it did send."""


@dataclass(eq=False)
class FakeUser:
    """A user on one in-memory platform."""

    chat: FakeChat
    name: str
    platform: str
    user_id: str
    language: str | None = "id"
    username: str | None = None

    @property
    def ref(self) -> UserRef:
        return UserRef(self.platform, self.user_id)

    @property
    def sender(self) -> Sender:
        return Sender(self.ref, self.name, self.username or self.name, self.language)

    @property
    def dm(self) -> ChatRef:
        return self.chat.adapter(self.platform).dm_chat(self.ref)

    async def member(self) -> Member:
        """The :class:`Member` behind this user (created, as on first contact, if the bot
        has not seen them yet; nothing is sent)."""
        return await self.chat.member(self)

    async def set_region(self, code: str | None) -> Member:
        """Put the member in region ``code`` (``"11.08"``) as if they had chosen it, and
        tell the plugins (``guyub_on_member_region_changed``): an action, so what the
        plugins send then is what ``expect_sent`` looks at next."""
        self.chat.mark()
        member = await self.member()
        old = member.region_code
        if code is not None and await self.chat.app.regions.get(code) is None:
            raise ValueError(f"unknown region {code!r}")
        member.region_code = code
        await Member.filter(id=member.id).update(region_code=code)
        self.chat.app.cache.member_changed(member.id)  # seen by the next update at once
        if old != code:
            ctx = Context(self.chat.app, member=member)
            await self.chat.app.plugins.member_region_changed(ctx, member, old, code)
        return member

    async def says(
        self, where: ChatRef | str, text: str | None = None, *, reply_to: FakeUser | None = None
    ) -> None:
        """Say ``text`` in ``where`` (a chat), or in the DM when only the text is given."""
        if text is None:
            assert isinstance(where, str)
            chat, text = self.dm, where
        else:
            assert isinstance(where, ChatRef)
            chat = where
        if chat.is_dm:
            self.chat.adapter(self.platform).started.add(self.user_id)
        await self.chat.say(self, chat, text, reply_to=reply_to)

    async def uses(self, command: str, where: ChatRef | None = None, **options: Any) -> None:
        """Run ``command`` (its canonical name, ``"poll_results"``) with typed options, as a
        platform with option pickers (Discord's slash commands) delivers it: each value
        arrives as the platform typed it (an int stays an int), nothing is split from text."""
        chat = where or self.dm
        if chat.is_dm:
            self.chat.adapter(self.platform).started.add(self.user_id)
        event = CommandInvoked(
            user=self.sender, chat=chat, name=command, options=options, at=self.chat.now()
        )
        await self.chat.emit(event)

    async def joins(self, group: ChatRef) -> None:
        await self.chat.emit(MemberJoined(user=self.sender, chat=group, at=self.chat.now()))

    async def leaves(self, group: ChatRef) -> None:
        await self.chat.emit(MemberLeft(user=self.sender, chat=group, at=self.chat.now()))

    async def presses(
        self, label: str, where: ChatRef | None = None, *, spent: bool = False
    ) -> Sent:
        """Press the button with that label (or 1-based number) on the bot's latest message
        to this user in ``where`` (default: their DM) that has it. With ``spent``, a button
        a finished flow removed, as a client that has not caught up still shows it."""
        chat = where or self.dm
        message = self.chat.latest_with_button(chat, label, spent=spent)
        if message is None:
            raise ExpectationFailed(
                f"no button {label!r} in {chat.key}; buttons there: {self.chat.buttons_in(chat)}"
            )
        button = message.find_button(label, spent=spent)
        assert button is not None
        if button.key is None:
            # A link opens a page (or the bot's DM); it sends the bot nothing to act on.
            raise ExpectationFailed(f"button {label!r} is a link to {button.url}, not an action")
        await self.chat.emit(
            ButtonPressed(
                user=self.sender, chat=chat, key=button.key, message=message.ref, at=self.chat.now()
            )
        )
        return message

    async def fills(self, answers: dict[str, str], where: ChatRef | None = None) -> None:
        """Submit the form the bot showed last on this user's platform (a Discord modal)
        with ``answers`` by field name, from ``where`` (default: their DM)."""
        adapter = self.chat.adapter(self.platform)
        if not adapter.forms:
            raise ExpectationFailed(f"no form was shown on {self.platform}")
        form, key = adapter.forms[-1]
        unknown = set(answers) - {f.name for f in form.fields}
        if unknown:
            raise ExpectationFailed(f"form {form.title!r} has no field {sorted(unknown)}")
        await self.chat.emit(
            ButtonPressed(
                user=self.sender,
                chat=where or self.dm,
                key=key,
                form=dict(answers),
                at=self.chat.now(),
            )
        )

    async def votes(self, options: Iterable[int], where: ChatRef | None = None) -> None:
        """Answer the latest native poll in ``where`` with 1-based option numbers."""
        chat = where or self.dm
        poll = self.chat.latest_poll(chat)
        if poll is None or poll.poll_id is None:
            raise ExpectationFailed(f"no poll in {chat.key}")
        if poll.poll_closed:
            raise ExpectationFailed(f"the poll in {chat.key} is closed: platforms refuse votes")
        picked = tuple(sorted({int(o) - 1 for o in options}))
        if any(o < 0 or o >= len(poll.poll_options) for o in picked):
            raise ExpectationFailed(f"poll has {len(poll.poll_options)} options, got {options}")
        await self.chat.emit(
            PollAnswered(
                user=self.sender,
                chat=chat,
                poll_id=poll.poll_id,
                options=picked,
                at=self.chat.now(),
            )
        )


class FakeChat:
    """In-memory platforms plus helpers to act and to check what the bot said.

    Each action dispatches an event through the real core, then runs the background work
    that fell due (jobs, outbox), as a live bot would right after.
    """

    def __init__(
        self, app: App, platforms: Sequence[MemoryAdapter] = (), *, raise_errors: bool = False
    ) -> None:
        self.app = app
        #: What a handler, job or plugin hook raised during the last action (the core
        #: caught it: the member got an apology), so the test sees the cause. With
        #: ``raise_errors`` the action itself raises the first one.
        self.errors: list[BaseException] = []
        self.raise_errors = raise_errors
        self.adapters: dict[str, MemoryAdapter] = {}
        for adapter in platforms or [MemoryAdapter("fake")]:
            self.adapters[adapter.platform] = adapter
            if adapter.platform not in app.adapters:
                app.add_adapter(adapter)
        self.default_platform = next(iter(self.adapters))
        self.users: dict[tuple[str, str], FakeUser] = {}
        self.groups: dict[tuple[str, str], ChatRef] = {}
        self._marks: dict[str, int] = {}
        self._said: dict[tuple[UserRef, ChatRef], MessageRef] = {}
        self._count = 0

    # --- setting the scene -----------------------------------------------------------

    def adapter(self, platform: str | None = None) -> MemoryAdapter:
        return self.adapters[platform or self.default_platform]

    def user(
        self,
        name: str,
        *,
        platform: str | None = None,
        language: str | None = "id",
        username: str | None = None,
    ) -> FakeUser:
        platform = platform or self.default_platform
        key = (platform, name)
        if key not in self.users:
            user_id = re.sub(r"[^a-z0-9_]", "_", name.lower()) or "user"
            self.users[key] = FakeUser(self, name, platform, user_id, language, username)
        return self.users[key]

    def group(self, title: str, *, platform: str | None = None) -> ChatRef:
        platform = platform or self.default_platform
        key = (platform, title)
        if key not in self.groups:
            chat_id = "g-" + re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
            self.groups[key] = ChatRef(platform, chat_id, ChatKind.GROUP, title=title)
        return self.groups[key]

    def now(self) -> datetime:
        return self.app.clock.now()

    def mark(self) -> None:
        """Start a new action: ``expect_sent`` and the other checks look only at what the
        bot sends (or edits) from here on. Every action (``says``, ``presses``, ``advance``,
        ``set_region``, ``make_captain``...) marks."""
        self.errors.clear()
        self._marks = {name: len(a.sent) for name, a in self.adapters.items()}
        self._edits_before = {id(s): s.edits for a in self.adapters.values() for s in a.sent}

    async def member(self, user: FakeUser) -> Member:
        """The :class:`Member` behind ``user``, created as on first contact (nothing is
        sent). Reload it after actions to see what they changed."""
        account = await self.app.identity.resolve(user.sender)
        return await Member.get(id=account.member_id)

    async def make_captain(self, user: FakeUser, region: str) -> Member:
        """Make ``user`` a captain of ``region`` (``"11.08"``, or a province ``"11"``)."""
        self.mark()
        if await self.app.regions.get(region) is None:
            raise ValueError(f"unknown region {region!r}")
        member = await self.member(user)
        await self.app.roles.grant(member.id, Role.CAPTAIN, region)
        return member

    async def make_admin(self, user: FakeUser) -> Member:
        """Make ``user`` a PMO admin."""
        self.mark()
        member = await self.member(user)
        await self.app.roles.grant(member.id, Role.ADMIN)
        return member

    # --- acting ----------------------------------------------------------------------

    async def say(
        self, user: FakeUser, chat: ChatRef, text: str, *, reply_to: FakeUser | None = None
    ) -> None:
        parsed = parse_command_line(text)
        replied = reply_to.sender if reply_to else None
        # Replying to a user replies to their last message in this chat.
        replied_ref = self._said.get((reply_to.ref, chat)) if reply_to else None
        self._count += 1
        message = MessageRef(chat, f"u{self._count}")
        self._said[(user.ref, chat)] = message
        event: Event
        if parsed is not None:
            name, args = parsed
            event = CommandInvoked(
                user=user.sender,
                chat=chat,
                name=name,
                args=args,
                message=message,
                reply_to=replied_ref,
                reply_to_user=replied,
                at=self.now(),
            )
        else:
            event = MessageReceived(
                user=user.sender,
                chat=chat,
                text=text,
                message=message,
                reply_to=replied_ref,
                reply_to_user=replied,
                at=self.now(),
            )
        await self.emit(event)

    async def emit(self, event: Event) -> None:
        self.mark()
        with self._recording_errors():
            await self.app.dispatch(event, self.adapters[event.platform])
            await self.app.run_pending()

    @contextlib.contextmanager
    def _recording_errors(self) -> Iterator[None]:
        def record(exc: BaseException, where: str) -> None:
            self.errors.append(exc)

        listeners = self.app.metrics.error_listeners
        listeners.append(record)
        try:
            yield
        finally:
            listeners.remove(record)
        if self.raise_errors and self.errors:
            first = self.errors[0]
            raise HandlerError(f"the core caught {type(first).__name__}: {first}") from first

    async def advance(self, by: timedelta | str | datetime) -> None:
        """Move the clock (``"2h"``, a timedelta, or a datetime); due jobs run in order."""
        self.mark()
        if isinstance(by, datetime):
            target = by
        else:
            delta = parse_duration(by) if isinstance(by, str) else by
            target = self.now() + delta
        with self._recording_errors():
            await self.app.advance_clock(target)

    # --- looking ---------------------------------------------------------------------

    @property
    def sent(self) -> list[Sent]:
        out: list[Sent] = []
        for adapter in self.adapters.values():
            out.extend(adapter.sent)
        return out

    def since_last_action(self) -> list[Sent]:
        """Messages sent, and messages edited, by the bot since the last action."""
        new: list[Sent] = []
        before = getattr(self, "_edits_before", {})
        # Marks per platform: messages on several platforms interleave in time.
        for name, adapter in self.adapters.items():
            mark = self._marks.get(name, 0)
            for index, record in enumerate(adapter.sent):
                if index >= mark or record.edits > before.get(id(record), 0):
                    new.append(record)
        return new

    def sent_to(self, chat: ChatRef | FakeUser) -> list[Sent]:
        target = chat.dm if isinstance(chat, FakeUser) else chat
        return [s for s in self.adapter(target.platform).sent if s.chat == target]

    def last(self, chat: ChatRef | FakeUser) -> Sent:
        messages = self.sent_to(chat)
        if not messages:
            raise ExpectationFailed(f"the bot sent nothing to {_name(chat)}")
        return messages[-1]

    def latest_with_button(self, chat: ChatRef, label: str, *, spent: bool = False) -> Sent | None:
        for record in reversed(self.sent_to(chat)):
            if record.find_button(label, spent=spent) is not None:
                return record
        return None

    def latest_poll(self, chat: ChatRef) -> Sent | None:
        for record in reversed(self.sent_to(chat)):
            if record.poll_id:
                return record
        return None

    def buttons_in(self, chat: ChatRef) -> list[str]:
        return [label for s in self.sent_to(chat) for label in s.button_labels()]

    def expect_sent(
        self,
        chat: ChatRef | FakeUser,
        *,
        contains: str | None = None,
        matches: str | None = None,
        attachment: str | None = None,
        since_last_action: bool = True,
    ) -> Sent:
        """Assert the bot sent ``chat`` (a group, or a user's DM) a matching message, and
        return the first that matches.

        Matching rules: the text is what a member reads (:meth:`Sent.full_text`: markup
        removed, then button labels, poll options and attachment names). ``contains`` is a
        case-insensitive substring (``casefold``); ``matches`` a regular expression searched
        case-insensitively with ``.`` matching newlines; ``attachment`` a glob on an
        attached file's name (``"*.csv"``). All given conditions must hold. Only messages
        sent or edited since the last action (``says``, ``presses``, ``advance``...) count,
        unless ``since_last_action=False``.
        """
        target = chat.dm if isinstance(chat, FakeUser) else chat
        pool = self.since_last_action() if since_last_action else self.sent
        candidates = [s for s in pool if s.chat == target]
        for record in candidates:
            text = record.full_text()
            if contains is not None and contains.casefold() not in text.casefold():
                continue
            if matches is not None and not re.search(matches, text, re.IGNORECASE | re.S):
                continue
            if attachment is not None and not any(
                fnmatch.fnmatchcase(a.filename, attachment) for a in record.attachments
            ):
                continue
            return record
        seen = "\n---\n".join(s.full_text() for s in candidates) or "(nothing)"
        wanted = " and ".join(
            part
            for part in (
                repr(contains) if contains is not None else "",
                f"/{matches}/" if matches is not None else "",
                f"attachment {attachment!r}" if attachment is not None else "",
            )
            if part
        )
        raise ExpectationFailed(
            f"expected the bot to send {wanted} to {_name(chat)}; it sent:\n{seen}"
            + self._errors_note()
        )

    def _errors_note(self) -> str:
        """What the core caught during the last action, with tracebacks, for a failure."""
        if not self.errors:
            return ""
        return "\n\nthe core caught errors during the last action:\n" + "\n".join(
            "".join(traceback.format_exception(exc)) for exc in self.errors
        )

    def expect_not_sent(
        self, chat: ChatRef | FakeUser, *, contains: str | None = None, matches: str | None = None
    ) -> None:
        try:
            record = self.expect_sent(chat, contains=contains, matches=matches)
        except ExpectationFailed:
            return
        raise ExpectationFailed(
            f"the bot should not have sent this to {_name(chat)}:\n{record.full_text()}"
        )

    def expect_nothing(self) -> None:
        new = self.since_last_action()
        if new:
            raise ExpectationFailed(
                "expected silence; the bot sent:\n"
                + "\n---\n".join(s.full_text() for s in new)
                + self._errors_note()
            )


def _name(chat: ChatRef | FakeUser) -> str:
    if isinstance(chat, FakeUser):
        return f"{chat.name}'s DM"
    return chat.title or chat.key
