"""Command names as the member's platform and language spell them.

A command is declared once (``Command("event_new", alias="acara_baru", group="event",
subname="new", group_alias="acara", subalias="baru")``); members meet it under different
names. Telegram (and the console) have flat commands, each registered under both names:
``/event_new`` in English, ``/acara_baru`` in Indonesian. Discord groups them, with
Indonesian ``name_localizations``: ``/event new`` or ``/acara baru``. Every text that names
a command goes through :class:`CommandNames`, so a reply never names a command the member's
platform does not have.

In texts, ``{cmd:event_new}`` names a command and ``{usage:event_new}`` gives its usage line
(parameters in the member's language); the translator expands both. In code,
``ctx.cmd("event_new")`` and ``ctx.usage("event_new")`` do the same.

Where the platform is not known yet (a job's text for a member, a DM whose platform is chosen
at delivery), the name is left as a *reference* carrying both spellings; the adapter boundary
picks the one for its platform (:func:`resolve_refs`), so the decision is made where the
message is actually sent.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from core._commands import Command, CommandRegistry, Param
from core._markup import ALT_CLOSE, ALT_OPEN, ALT_SEP, Markup, escape, pick_alternative

__all__ = ["CommandNames", "CommandStyle", "resolve_refs"]

log = logging.getLogger(__name__)


class CommandStyle(StrEnum):
    """How a platform spells commands."""

    #: One word per command, each registered under its name and alias (Telegram, console).
    FLAT = "flat"
    #: Commands nested in groups, the alias as the Indonesian localization (Discord).
    GROUPED = "grouped"


_PLACEHOLDER = re.compile(r"\{(cmd|usage):([a-z][a-z0-9_]{0,31})\}")


def resolve_refs(text: str, style: CommandStyle = CommandStyle.FLAT) -> str:
    """Choose the spelling for ``style`` in every command reference in ``text``."""
    return pick_alternative(text, second=style is CommandStyle.GROUPED)


def _standalone_alias(command: Command) -> str | None:
    """The Indonesian name of a grouped command standing alone whose alias is its group's
    Indonesian name: ``daftar_acara`` for ``/acara daftar``."""
    if command.subalias and command.group_alias:
        return f"{command.subalias}_{command.group_alias}"[:32]
    return None


def _ref(flat: str, grouped: str) -> Markup:
    # A reference: both spellings, chosen at the adapter boundary (see core._markup).
    return Markup(f"{ALT_OPEN}{flat}{ALT_SEP}{grouped}{ALT_CLOSE}")


class CommandNames:
    """Renders commands and their parameters for a language and platform style.

    ``style=None`` means "not known yet": the result is a reference the adapter resolves.
    """

    def __init__(self, commands: CommandRegistry, default_language: str = "id") -> None:
        self._commands = commands
        self.default_language = default_language
        self._cached_layout: tuple[int, frozenset[str], set[str]] | None = None

    # --- lookup -------------------------------------------------------------------------

    def command(self, name: Command | str) -> Command | None:
        """The command called ``name`` (canonical name or alias, with or without ``/``)."""
        if isinstance(name, Command):
            return name
        return self._commands.get(name.strip().lstrip("/"))

    def find(self, typed: str) -> Command | None:
        """The command a member means by ``typed``: any spelling on any platform
        (``event_new``, ``/acara_baru``, ``event new``, ``acara baru``)."""
        words = typed.strip().lstrip("/").lower().split()
        if not words:
            return None
        if len(words) == 1:
            return self._commands.get(words[0])
        group, sub = words[0], words[1]
        for command in self._commands.all():
            if command.group is None or command.subname is None:
                continue
            if group in (command.group, command.group_alias) and sub in (
                command.subname,
                command.subalias,
            ):
                return command
        return self._commands.get(words[0])

    # --- names --------------------------------------------------------------------------

    def _indonesian(self, lang: str) -> bool:
        return (lang or self.default_language) == "id"

    def spell(self, command: Command, lang: str, style: CommandStyle) -> str:
        """``/acara_baru``, ``/event_new``, ``/acara baru`` or ``/event new``.

        On a grouped platform a group holds only the commands of its most privileged role
        (Discord gives a group one permission); the others stand alone under their own
        names (``/events``, ``/checkin``), and an alias a group's Indonesian name already
        uses is not theirs (``/events``, since ``/acara`` is the captains' group)."""
        indonesian = self._indonesian(lang)
        if style is CommandStyle.GROUPED:
            if command.group and command.subname and self._grouped(command):
                group = (command.group_alias or command.group) if indonesian else command.group
                sub = (command.subalias or command.subname) if indonesian else command.subname
                return f"/{group} {sub}"
            if indonesian and command.alias and command.alias in self._group_names():
                return f"/{_standalone_alias(command) or command.name}"
        return f"/{command.alias}" if indonesian and command.alias else f"/{command.name}"

    def _grouped(self, command: Command) -> bool:
        return command.name in self._layout()[0]

    def _group_names(self) -> set[str]:
        return self._layout()[1]

    def _layout(self) -> tuple[frozenset[str], set[str]]:
        """Which grouped commands stay in their group on a grouped platform, and the
        groups' names (both languages); kept until the registry changes."""
        commands = self._commands.all()
        cached = self._cached_layout
        if cached is not None and cached[0] == len(commands):
            return cached[1], cached[2]
        top: dict[str, Any] = {}
        for c in commands:
            if c.group and c.subname:
                top[c.group] = max(top.get(c.group, c.role), c.role)
        kept = frozenset(
            c.name for c in commands if c.group and c.subname and c.role == top[c.group]
        )
        names: set[str] = set()
        for c in commands:
            if c.name in kept:
                assert c.group is not None
                names.add(c.group)
                if c.group_alias:
                    names.add(c.group_alias)
        self._cached_layout = (len(commands), kept, names)
        return kept, names

    def param(self, param: Param, lang: str) -> str:
        """A parameter's name in ``lang`` (its Indonesian ``alias`` where it has one)."""
        return param.alias if self._indonesian(lang) and param.alias else param.name

    def choice(self, param: Param, choice: str, lang: str) -> str:
        """A choice as the member types it: in Indonesian its first alias (``kapasitas`` for
        ``capacity``), where the parameter gives one."""
        if self._indonesian(lang):
            for alias, canonical in param.choice_aliases:
                if canonical == choice:
                    return alias
        return choice

    def name(self, command: Command | str, lang: str, style: CommandStyle | None) -> Markup:
        """The command as the member types it; a reference when ``style`` is None."""
        found = self.command(command)
        if found is None:
            log.error("text names an unknown command %r", command)
            return escape(f"/{command}")
        if style is None:
            return _ref(
                self.spell(found, lang, CommandStyle.FLAT),
                self.spell(found, lang, CommandStyle.GROUPED),
            )
        return Markup(self.spell(found, lang, style))

    def usage(self, command: Command | str, lang: str, style: CommandStyle | None) -> Markup:
        """``/acara_baru [judul] [mulai] …``: required parameters in ``<>``, optional in
        ``[]``, choices as ``a|b``; parameter names in ``lang``."""
        found = self.command(command)
        if found is None:
            log.error("text names an unknown command %r", command)
            return escape(f"/{command}")
        parts: list[Markup] = [self.name(found, lang, style)]
        # A channel or a role is only offered where the platform has a picker (Discord).
        shown = found.params if style is CommandStyle.GROUPED else found.typed_params
        for param in shown:
            if param.choices:
                label = "|".join(self.choice(param, c, lang) for c in param.choices)
            else:
                label = self.param(param, lang)
            parts.append(escape(f"<{label}>" if param.required else f"[{label}]"))
        return Markup(" ").join(parts)

    def expand(self, template: str, lang: str, style: CommandStyle | None) -> str:
        """Replace ``{cmd:NAME}`` and ``{usage:NAME}`` in a text template."""
        if "{cmd:" not in template and "{usage:" not in template:
            return template

        def one(match: re.Match[str]) -> str:
            kind, name = match.groups()
            render = self.name if kind == "cmd" else self.usage
            # Braces cannot occur in a rendered name; the template is formatted afterwards.
            return str(render(name, lang, style))

        return _PLACEHOLDER.sub(one, template)

    # --- what exists ----------------------------------------------------------------------

    def spellings(self, style: CommandStyle, commands: Iterable[Command] | None = None) -> set[str]:
        """Every spelling a member of a ``style`` platform can type, in any language."""
        out: set[str] = set()
        for command in commands if commands is not None else self._commands.all():
            for lang in ("id", "en"):
                out.add(self.spell(command, lang, style))
            if style is CommandStyle.FLAT:
                out.add(f"/{command.name}")
        return out
