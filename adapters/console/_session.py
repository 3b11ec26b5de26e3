"""The console chat: scenario lines in, a transcript out.

Script format (one line at a time; the same lines can be typed at the prompt)::

    # a comment
    :as amir              act as user "amir" from now on (created on first use)
    :admin pmo            make user "pmo" a PMO admin, as ``admins = ["console:pmo"]`` in
                          the config would (scripts can't rely on a config file)
    :in group Aceh        talk in group chat "Aceh" (created on first use)
    :in dm                talk in the current user's private chat with the bot
    :join                 the current user joins the current group
    :leave                the current user leaves the current group
    :press LABEL          press a button (label or 1-based number) on the bot's latest
                          message to this user in this chat
    :vote 1,3             answer the latest poll in this chat (1-based options)
    :clock +2h            advance the clock (+30m, +1d, or an ISO datetime with offset);
                          jobs that fall due run, in order
    :expect REGEX         the bot's output since the previous action must match
    :expect-not REGEX     it must not match
    anything else         a message from the current user in the current chat
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TextIO
from zoneinfo import ZoneInfo

from core import App, ChatRef, Role, clean_text, parse_duration
from core.testing import ExpectationFailed, FakeChat, FakeUser, MemoryAdapter, Sent

__all__ = ["ConsoleSession", "ScriptError", "ScriptResult"]

PLATFORM = "console"
_WIB = ZoneInfo("Asia/Jakarta")


class ScriptError(Exception):
    """A malformed script line."""


@dataclass(frozen=True)
class ScriptResult:
    """How a script ended: 0 ran through, 1 an expectation failed, 2 a malformed line."""

    code: int
    line: int = 0
    message: str = ""


class ConsoleSession:
    """One console conversation on an App, printing a transcript to ``out``."""

    def __init__(self, app: App, out: TextIO, *, adapter: MemoryAdapter | None = None) -> None:
        self.app = app
        self.out = out
        self.adapter = adapter or MemoryAdapter(PLATFORM)
        self.chat = FakeChat(app, [self.adapter])
        self.adapter.on_send.append(self._print_sent)
        self.user: FakeUser = self.chat.user("amir", language="id")
        self.where: ChatRef = self.chat.group("Aceh")

    # --- transcript ------------------------------------------------------------------

    def _label(self, chat: ChatRef) -> str:
        if chat.is_dm:
            owner = next((u.name for u in self.chat.users.values() if u.dm == chat), chat.id)
            return f"dm {owner}"
        if chat.title:
            return chat.title
        known = next((g for g in self.chat.groups.values() if g == chat), None)
        return known.title if known is not None and known.title else chat.id

    def _print_sent(self, record: Sent, edited: bool) -> None:
        prefix = f"[{self._label(record.chat)}] bot{' (edited)' if edited else ''}: "
        body = record.full_text()
        first, _, rest = body.partition("\n")
        self.out.write(prefix + first + "\n")
        if rest:
            self.out.write(rest + "\n")
        self.out.flush()

    def _print_user(self, text: str) -> None:
        self.out.write(f"[{self._label(self.where)}] {self.user.name}: {text}\n")
        self.out.flush()

    def _note(self, text: str) -> None:
        self.out.write(f"[{self._label(self.where)}] * {text}\n")
        self.out.flush()

    # --- lines -----------------------------------------------------------------------

    def output_since_action(self) -> str:
        return "\n".join(s.full_text() for s in self.chat.since_last_action())

    async def handle(self, line: str) -> None:
        """Run one line. Raises ScriptError (malformed) or ExpectationFailed."""
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            return
        if not stripped.startswith(":"):
            self._print_user(stripped)
            await self.user.says(self.where, stripped)
            return
        directive, _, arg = stripped.partition(" ")
        arg = arg.strip()
        handler = self._directives().get(directive.lower())
        if handler is None:
            raise ScriptError(f"unknown directive {directive}")
        await handler(arg)

    def _directives(self) -> dict[str, Callable[[str], Awaitable[None]]]:
        return {
            ":as": self._as,
            ":admin": self._admin,
            ":in": self._in,
            ":join": self._join,
            ":leave": self._leave,
            ":press": self._press,
            ":vote": self._vote,
            ":clock": self._clock,
            ":expect": self._expect,
            ":expect-not": self._expect_not,
            ":expect-file": self._expect_file,
        }

    async def _as(self, arg: str) -> None:
        name = clean_text(arg)
        if not name or " " in name:
            raise ScriptError(":as needs one user name")
        self.user = self.chat.user(name, language="id")

    async def _admin(self, arg: str) -> None:
        name = clean_text(arg)
        if not name or " " in name:
            raise ScriptError(":admin needs one user name")
        user = self.chat.user(name, language="id")
        account = await self.app.identity.ensure(user.ref, user.name)
        await self.app.roles.grant(account.member_id, Role.ADMIN)
        self.out.write(f"* {name} is an admin\n")

    async def _in(self, arg: str) -> None:
        kind, _, title = arg.partition(" ")
        if kind == "dm" and not title:
            self.where = self.user.dm
            self.adapter.started.add(self.user.user_id)
        elif kind == "group" and title.strip():
            self.where = self.chat.group(title.strip())
        else:
            raise ScriptError(":in needs 'dm' or 'group NAME'")

    async def _join(self, arg: str) -> None:
        self._need_group(":join")
        self._note(f"{self.user.name} joins")
        await self.user.joins(self.where)

    async def _leave(self, arg: str) -> None:
        self._need_group(":leave")
        self._note(f"{self.user.name} leaves")
        await self.user.leaves(self.where)

    def _need_group(self, directive: str) -> None:
        if self.where.is_dm:
            raise ScriptError(f"{directive} needs a group (use ':in group NAME' first)")

    async def _press(self, arg: str) -> None:
        if not arg:
            raise ScriptError(":press needs a button label or number")
        self._note(f"{self.user.name} presses [{arg}]")
        await self.user.presses(arg, self.where)

    async def _vote(self, arg: str) -> None:
        try:
            options = [int(p) for p in re.split(r"[,\s]+", arg) if p]
        except ValueError:
            raise ScriptError(":vote needs option numbers like 1,3") from None
        if not options:
            raise ScriptError(":vote needs option numbers like 1,3")
        self._note(f"{self.user.name} votes {','.join(map(str, options))}")
        await self.user.votes(options, self.where)

    async def _clock(self, arg: str) -> None:
        target = parse_clock(arg, self.app.clock.now())
        shown = target.astimezone(_WIB).strftime("%Y-%m-%d %H:%M")
        self.out.write(f"* clock → {shown} WIB\n")
        await self.chat.advance(target)

    async def _expect(self, arg: str) -> None:
        pattern = _compile(arg)
        output = self.output_since_action()
        if not pattern.search(output):
            raise ExpectationFailed(
                f"expected /{arg}/ in the bot's output since the last action; it was:\n"
                f"{output or '(nothing)'}"
            )

    async def _expect_not(self, arg: str) -> None:
        pattern = _compile(arg)
        output = self.output_since_action()
        if pattern.search(output):
            raise ExpectationFailed(
                f"expected no /{arg}/ in the bot's output since the last action; it was:\n{output}"
            )

    async def _expect_file(self, arg: str) -> None:
        """``:expect-file GLOB REGEX``: a file matching GLOB (``*.csv``) was attached since
        the last action, and its text contents match REGEX."""
        glob, _, wanted = arg.partition(" ")
        if not glob or not wanted.strip():
            raise ScriptError(":expect-file needs a file name pattern and a regular expression")
        pattern = _compile(wanted.strip())
        files = [
            a
            for s in self.chat.since_last_action()
            for a in s.attachments
            if fnmatch.fnmatchcase(a.filename, glob)
        ]
        if not files:
            raise ExpectationFailed(f"expected a file {glob!r} since the last action; none came")
        texts = [a.data.decode("utf-8-sig", errors="replace") for a in files]
        if not any(pattern.search(text) for text in texts):
            shown = "\n---\n".join(t[:2000] for t in texts)
            raise ExpectationFailed(f"expected /{wanted.strip()}/ in {glob!r}; it held:\n{shown}")

    async def run_script(self, lines: Iterable[str]) -> ScriptResult:
        """Run lines in order; stop at the first failure."""
        for number, line in enumerate(lines, 1):
            try:
                await self.handle(line)
            except ScriptError as exc:
                message = f"line {number}: malformed: {exc}: {line.rstrip()}"
                self.out.write(f"!! {message}\n")
                return ScriptResult(2, number, message)
            except ExpectationFailed as exc:
                message = f"line {number}: {line.strip()}\n{exc}"
                self.out.write(f"!! FAILED {message}\n")
                return ScriptResult(1, number, message)
        return ScriptResult(0)


def _compile(pattern: str) -> re.Pattern[str]:
    if not pattern:
        raise ScriptError(":expect needs a regular expression")
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ScriptError(f"bad regular expression: {exc}") from None


def parse_clock(arg: str, now: datetime) -> datetime:
    """``+2h``/``+30m``/``+1d``, or an ISO datetime with an offset."""
    arg = arg.strip()
    if arg.startswith("+"):
        try:
            delta: timedelta = parse_duration(arg[1:])
        except ValueError:
            raise ScriptError(f"bad duration {arg!r}; use +30m, +2h or +1d") from None
        return now + delta
    try:
        when = datetime.fromisoformat(arg)
    except ValueError:
        raise ScriptError(f"bad time {arg!r}; use +2h or an ISO datetime with offset") from None
    if when.tzinfo is None:
        raise ScriptError("the datetime needs an offset, e.g. 2026-11-23T19:00+07:00")
    return when
