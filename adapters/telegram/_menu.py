"""Core commands as Telegram command menus (setMyCommands per scope and language)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from telegram import (
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeDefault,
)

from core import LANGUAGES, Command, Role, Translator, Where, to_plain

__all__ = ["MenuEntry", "menus"]

_MAX_COMMANDS = 100
_MAX_DESCRIPTION = 256


@dataclass(frozen=True, slots=True)
class MenuEntry:
    """One setMyCommands call: a scope, a language (None = everyone else), the commands."""

    scope: BotCommandScope
    language: str | None
    commands: tuple[BotCommand, ...]


def menus(
    commands: Sequence[Command], translator: Translator, default_language: str
) -> list[MenuEntry]:
    """Member commands in the default scope; every command usable in a group (members',
    captains' and admins') in the group-administrators scope, whose list replaces the
    default one for them. Indonesian speakers see the Indonesian alias, English speakers the
    English name; users whose language is neither get ``default_language``."""
    members = [c for c in commands if c.role <= Role.MEMBER]
    admins = [c for c in commands if c.where is not Where.DM]
    entries: list[MenuEntry] = []
    for scope, chosen in (
        (BotCommandScopeDefault(), members),
        (BotCommandScopeAllChatAdministrators(), admins),
    ):
        entries.append(MenuEntry(scope, None, _list(chosen, translator, default_language)))
        for language in LANGUAGES:
            entries.append(MenuEntry(scope, language, _list(chosen, translator, language)))
    return entries


def _list(
    commands: Sequence[Command], translator: Translator, language: str
) -> tuple[BotCommand, ...]:
    out: dict[str, BotCommand] = {}
    for command in commands:
        name = command.alias if language == "id" and command.alias else command.name
        if name in out:
            continue
        text = to_plain(translator(command.description, language)).strip() or name
        out[name] = BotCommand(name, text[:_MAX_DESCRIPTION])
    return tuple(out.values())[:_MAX_COMMANDS]
