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

from core._commands import Command, CommandRegistry, Param
from core._markup import Markup, escape

__all__ = ["CommandNames", "CommandStyle", "resolve_refs"]

log = logging.getLogger(__name__)


class CommandStyle(StrEnum):
    """How a platform spells commands."""

    #: One word per command, each registered under its name and alias (Telegram, console).
    FLAT = "flat"
    #: Commands nested in groups, the alias as the Indonesian localization (Discord).
    GROUPED = "grouped"


# A reference: both spellings between private-use characters, chosen at the adapter boundary.
_OPEN, _SEP, _CLOSE = "\ue000", "\ue001", "\ue002"
_REF = re.compile(f"{_OPEN}([^{_SEP}{_CLOSE}]*){_SEP}([^{_CLOSE}]*){_CLOSE}")
_PLACEHOLDER = re.compile(r"\{(cmd|usage):([a-z][a-z0-9_]{0,31})\}")


def resolve_refs(text: str, style: CommandStyle = CommandStyle.FLAT) -> str:
    """Choose the spelling for ``style`` in every command reference in ``text``."""
    if _OPEN not in text:
        return text
    group = 1 if style is CommandStyle.FLAT else 2
    resolved = _REF.sub(lambda m: m.group(group), text)
    return Markup(resolved) if isinstance(text, Markup) else resolved


def _ref(flat: str, grouped: str) -> Markup:
    return Markup(f"{_OPEN}{flat}{_SEP}{grouped}{_CLOSE}")


class CommandNames:
    """Renders commands and their parameters for a language and platform style.

    ``style=None`` means "not known yet": the result is a reference the adapter resolves.
    """

    def __init__(self, commands: CommandRegistry, default_language: str = "id") -> None:
        self._commands = commands
        self.default_language = default_language

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
        """``/acara_baru``, ``/event_new``, ``/acara baru`` or ``/event new``."""
        indonesian = self._indonesian(lang)
        if style is CommandStyle.GROUPED and command.group and command.subname:
            group = (command.group_alias or command.group) if indonesian else command.group
            sub = (command.subalias or command.subname) if indonesian else command.subname
            return f"/{group} {sub}"
        return f"/{command.alias}" if indonesian and command.alias else f"/{command.name}"

    def param(self, param: Param, lang: str) -> str:
        """A parameter's name in ``lang`` (its Indonesian ``alias`` where it has one)."""
        return param.alias if self._indonesian(lang) and param.alias else param.name

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
        for param in found.params:
            label = "|".join(param.choices) if param.choices else self.param(param, lang)
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
