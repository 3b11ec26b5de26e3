"""Commands: declared once by plugins, registered natively by each adapter, parsed here.

A command has a canonical English name (``/profile``), an Indonesian alias (``/profil``),
a description text key, typed parameters, the role it requires and where it may run.
Parsing errors become :class:`UsageError` with a text key and the usage line, shown to the
member in their language.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from core._events import ChatRef
from core._roles import Role
from core._text import MAX_ID

if TYPE_CHECKING:
    pass

__all__ = [
    "Command",
    "CommandRegistry",
    "Param",
    "ParamType",
    "UsageError",
    "Where",
    "clean_text",
    "parse_command_line",
    "parse_duration",
    "split_args",
]

CommandHandler = Callable[..., Awaitable[None]]

# Zero-width and bidi-control characters (spoofing, invisible commands); U+200D, the
# zero-width joiner, stays: emoji sequences and some scripts need it.
_INVISIBLE = re.compile("[\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


class ParamType(StrEnum):
    STRING = "string"  # one word, or a "quoted phrase"
    TEXT = "text"  # the rest of the line
    INT = "int"
    BOOL = "bool"
    USER = "user"  # @username, platform:id, or the member replied to
    DURATION = "duration"  # 10m, 2h, 1d, 1h30m
    CHOICE = "choice"
    #: Picked from the platform's own list where it has one (a Discord channel option);
    #: the handler gets a :class:`ChatRef`. Never typed: platforms without a picker
    #: (Telegram) don't offer the parameter, and the handler gets its default.
    CHANNEL = "channel"
    #: A platform role picked from its list (a Discord role option); the handler gets the
    #: role's id as text. Never typed, like :attr:`CHANNEL`.
    ROLE = "role"


#: Parameter types a member picks from the platform's list and never types.
PICKED = frozenset({ParamType.CHANNEL, ParamType.ROLE})


class Where(StrEnum):
    ANYWHERE = "anywhere"
    GROUP = "group"
    DM = "dm"


@dataclass(frozen=True, slots=True)
class Param:
    """A typed command parameter. ``description`` is a text key. ``autocomplete`` names a
    completion source (``regions``, ``events``...) answered by ``guyub_resolve_completions``.
    ``name`` is English (the handler's keyword); ``alias`` is its Indonesian name, shown in
    usage lines and as the Discord option's localized name.
    ``choice_aliases`` maps other words for a choice to it (``("kapasitas", "capacity")``):
    members type their own language's word, the handler always gets the canonical choice."""

    name: str
    type: ParamType = ParamType.STRING
    required: bool = True
    description: str = ""
    choices: tuple[str, ...] = ()
    autocomplete: str | None = None
    default: Any = None
    alias: str | None = None
    choice_aliases: tuple[tuple[str, str], ...] = ()

    @property
    def picked(self) -> bool:
        """Whether the member picks it from the platform's list (never typed)."""
        return self.type in PICKED

    def choice(self, word: str) -> str | None:
        """The canonical choice ``word`` names (itself or an alias), or None."""
        lowered = word.lower()
        if lowered in self.choices:
            return lowered
        return dict(self.choice_aliases).get(lowered)

    def choice_labels(self) -> str:
        """``judul/title, mulai/start``: each choice with its first alias, for error texts."""
        first: dict[str, str] = {}
        for alias, canonical in self.choice_aliases:
            first.setdefault(canonical, alias)
        return ", ".join(f"{first[c]}/{c}" if c in first else c for c in self.choices)


@dataclass(frozen=True, slots=True)
class Command:
    """A command. ``handler(ctx, **params)`` runs when a member with ``role`` invokes it
    ``where`` allowed. ``group``/``subname`` group commands on platforms that nest them
    (Discord ``/event new``); ``group_alias``/``subalias`` are their Indonesian names
    (``/acara baru``). ``private`` results are shown only to the caller where possible.
    Texts name a command with ``{cmd:NAME}``, never by hand (see :class:`CommandNames`).

    The handler runs in one database transaction, unless ``atomic`` is False: for a
    handler that writes nothing (``/help``), so it answers without taking a database
    connection (on SQLite, the process's only one) while its reply goes out."""

    name: str
    handler: CommandHandler
    description: str
    alias: str | None = None
    params: tuple[Param, ...] = ()
    role: Role = Role.MEMBER
    where: Where = Where.ANYWHERE
    group: str | None = None
    subname: str | None = None
    private: bool = False
    hidden: bool = False
    plugin: str = ""
    group_alias: str | None = None
    subalias: str | None = None
    atomic: bool = True

    def __post_init__(self) -> None:
        for name in (
            self.name,
            self.alias,
            self.group,
            self.subname,
            self.group_alias,
            self.subalias,
        ):
            if name is not None and not _NAME.match(name):
                raise ValueError(f"invalid command name {name!r}: use a-z, 0-9 and _")
        seen_optional = False
        typed = self.typed_params
        for param in self.params:
            if param.picked and param.required:
                raise ValueError(f"/{self.name}: {param.name} is picked, so it must be optional")
        for i, param in enumerate(typed):
            if param.type is ParamType.TEXT and i != len(typed) - 1:
                raise ValueError(f"/{self.name}: a text parameter must come last")
            if param.required and seen_optional:
                raise ValueError(f"/{self.name}: required parameter after an optional one")
            seen_optional = seen_optional or not param.required

    @property
    def typed_params(self) -> tuple[Param, ...]:
        """The parameters typed after the command (all but the picked ones)."""
        return tuple(p for p in self.params if not p.picked)

    def usage(self) -> str:
        """The English, Telegram-style usage line (for logs and the CLI; members get
        ``ctx.usage(command)``, in their language and platform)."""
        parts = [f"/{self.name}"]
        for p in self.typed_params:
            label = "|".join(p.choices) if p.choices else p.name
            parts.append(f"<{label}>" if p.required else f"[{label}]")
        return " ".join(parts)


class UsageError(Exception):
    """The member typed the command wrong. ``key`` is the text key; ``kwargs`` fill it.

    With ``command``, the text may use ``{usage}`` (the command's usage line) and
    ``{command}`` (its name), rendered for the member; a :class:`Param` passed as an
    argument shows as the parameter's name in the member's language."""

    def __init__(self, key: str, *, command: Command | None = None, **kwargs: Any) -> None:
        super().__init__(key)
        self.key = key
        self.command = command
        self.kwargs = kwargs


def clean_text(text: str) -> str:
    """Normalise typed text: NFKC, no zero-width or bidi control characters, trimmed."""
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).strip()


def parse_command_line(text: str, bot_username: str | None = None) -> tuple[str, str] | None:
    """Split ``/name@Bot args`` into (name, args); None if ``text`` is not a command (or is
    addressed to another bot)."""
    text = clean_text(text)
    if not text.startswith("/") or len(text) < 2:
        return None
    head, _, rest = text[1:].partition(" ")
    if "\n" in head:
        head, _, more = head.partition("\n")
        rest = f"{more}\n{rest}".strip() if rest else more
    name, _, target = head.partition("@")
    if target and bot_username and target.lower() != bot_username.lower().lstrip("@"):
        return None
    return name.lower(), rest.strip()


_QUOTES = {'"': '"', "“": "”", "'": "'"}


def split_args(text: str, count: int) -> list[str]:
    """Split into at most ``count`` words (the last takes the rest); quotes group words."""
    words: list[str] = []
    i, n = 0, len(text)
    while i < n and len(words) < count - 1:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            break
        close = _QUOTES.get(text[i])
        if close is not None and (end := text.find(close, i + 1)) > i:
            words.append(text[i + 1 : end])
            i = end + 1
            continue
        start = i
        while i < n and not text[i].isspace():
            i += 1
        words.append(text[start:i])
    rest = text[i:].strip()
    if rest and count > 0:
        if len(rest) >= 2 and rest[0] in _QUOTES and rest.endswith(_QUOTES[rest[0]]):
            rest = rest[1:-1]
        words.append(rest)
    return words


_DURATION = re.compile(r"(\d+)\s*(d|h|m|s|hari|jam|menit|mnt|detik)", re.IGNORECASE | re.ASCII)
_UNITS = {
    "d": 86400,
    "hari": 86400,
    "h": 3600,
    "jam": 3600,
    "m": 60,
    "menit": 60,
    "mnt": 60,
    "s": 1,
    "detik": 1,
}


#: The longest duration accepted: typed numbers beyond it would overflow dates.
MAX_DURATION = timedelta(days=3660)


def parse_duration(text: str) -> timedelta:
    """``10m``, ``2h``, ``1d``, ``1h30m``, ``2 jam``; a bare number is minutes. Raises
    ValueError for anything else, and for durations over :data:`MAX_DURATION`."""
    text = text.strip().lower()
    if text.isascii() and text.isdigit():
        seconds = int(text) * 60
    else:
        matches = list(_DURATION.finditer(text))
        if not matches or "".join(m.group(0) for m in matches).replace(" ", "") != text.replace(
            " ", ""
        ):
            raise ValueError(text)
        seconds = sum(int(m.group(1)) * _UNITS[m.group(2).lower()] for m in matches)
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(text)
    return timedelta(seconds=seconds)


_TRUE = {"yes", "y", "ya", "true", "on", "1"}
_FALSE = {"no", "n", "tidak", "false", "off", "0"}


def _typed_as_declared(param: Param, raw: Any) -> bool:
    """Whether a typed option (not text) is of the type ``param`` declares."""
    if param.type is ParamType.INT:
        return isinstance(raw, int) and not isinstance(raw, bool)
    if param.type is ParamType.BOOL:
        return isinstance(raw, bool)
    if param.type is ParamType.DURATION:
        return isinstance(raw, timedelta)
    if param.type is ParamType.USER:
        return not isinstance(raw, int | float)  # a member, account or platform user
    return False


def _convert(command: Command, param: Param, raw: Any) -> Any:
    if param.type is ParamType.INT and isinstance(raw, int) and not -MAX_ID <= raw <= MAX_ID:
        raise UsageError("core.usage.not_a_number", command=command, param=param)
    if param.picked:
        # Only a platform's own picker fills these; anything else is refused.
        if param.type is ParamType.CHANNEL and isinstance(raw, ChatRef):
            return raw
        if (
            param.type is ParamType.ROLE
            and isinstance(raw, str)
            and raw.isascii()
            and raw.isdigit()
            and len(raw) <= 25
        ):
            return raw
        raise UsageError("core.usage.not_picked", command=command, param=param)
    if not isinstance(raw, str):
        if _typed_as_declared(param, raw):
            return raw  # typed options from the platform (Discord) arrive converted
        raw = str(raw)  # an option of another type than declared: read as its text
    if param.type is ParamType.INT:
        # Bounded: a 20-digit "id" would overflow the database driver.
        text = raw.strip()
        row_id = text.startswith("#")  # a row id as lists show it: #42
        text = text.removeprefix("#")
        digits = text if row_id else text.removeprefix("-")
        if not (digits.isascii() and digits.isdigit() and len(digits) <= 10):
            raise UsageError("core.usage.not_a_number", command=command, param=param)
        value = int(text)
        if not -MAX_ID <= value <= MAX_ID:
            raise UsageError("core.usage.not_a_number", command=command, param=param)
        return value
    if param.type is ParamType.BOOL:
        lowered = raw.lower()
        if lowered in _TRUE or lowered in _FALSE:
            return lowered in _TRUE
        raise UsageError("core.usage.not_a_bool", command=command, param=param)
    if param.type is ParamType.DURATION:
        try:
            return parse_duration(raw)
        except ValueError:
            raise UsageError("core.usage.not_a_duration", command=command, param=param) from None
    if param.type is ParamType.CHOICE:
        chosen = param.choice(raw)
        if chosen is None:
            raise UsageError(
                "core.usage.not_a_choice",
                command=command,
                param=param,
                choices=param.choice_labels(),
            )
        return chosen
    return raw


def parse_args(
    command: Command, args: str, options: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Turn the text after a command (or platform options) into handler keyword arguments."""
    values: dict[str, Any] = {}
    if options is not None:
        raw_values: dict[str, Any] = dict(options)
    else:
        # Picked parameters (a channel, a role) are never typed: they keep their default.
        typed = command.typed_params
        words = split_args(args, len(typed)) if typed else []
        raw_values = dict(zip((p.name for p in typed), words, strict=False))
        # Words past the last parameter are refused, never dropped: "/lowongan baru" typed
        # for a command without parameters is not silently the list.
        if (not typed and args.strip()) or (
            typed
            and len(split_args(args, len(typed) + 1)) > len(typed)
            and typed[-1].type is not ParamType.TEXT
        ):
            raise UsageError("core.usage.too_many", command=command)
    for param in command.params:
        raw = raw_values.get(param.name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if param.required:
                raise UsageError("core.usage.missing", command=command, param=param)
            values[param.name] = param.default
            continue
        values[param.name] = _convert(command, param, raw)
    return values


@dataclass
class CommandRegistry:
    """All commands of the enabled plugins, by name and alias."""

    _by_name: dict[str, Command] = field(default_factory=dict)

    def add(self, command: Command, plugin: str) -> None:
        command = replace(command, plugin=plugin)
        if command.group is not None and command.group_alias is not None:
            for other in self._by_name.values():
                if (
                    other.group == command.group
                    and other.group_alias is not None
                    and other.group_alias != command.group_alias
                ):
                    raise ValueError(
                        f"command group {command.group!r} is called {other.group_alias!r} "
                        f"by /{other.name} and {command.group_alias!r} by /{command.name}"
                    )
        for name in filter(None, (command.name, command.alias)):
            existing = self._by_name.get(name)
            if existing is not None:
                raise ValueError(
                    f"command /{name} of plugin {plugin!r} clashes with /{existing.name} "
                    f"of plugin {existing.plugin!r}"
                )
            self._by_name[name] = command

    def extend(self, commands: Iterable[Command], plugin: str) -> None:
        for command in commands:
            self.add(command, plugin)

    def get(self, name: str) -> Command | None:
        return self._by_name.get(name.lower())

    def all(self) -> list[Command]:
        """Each command once, in name order."""
        unique = {c.name: c for c in self._by_name.values()}
        return [unique[k] for k in sorted(unique)]

    def suggest(self, name: str, visible: Sequence[Command] | None = None) -> str | None:
        pool = visible if visible is not None else self.all()
        names = [n for c in pool for n in filter(None, (c.name, c.alias))]
        match = difflib.get_close_matches(name.lower(), names, n=1, cutoff=0.6)
        if match:
            return match[0]
        prefixed = [n for n in names if n.startswith(name.lower()[:4])] if len(name) >= 4 else []
        return prefixed[0] if prefixed else None
