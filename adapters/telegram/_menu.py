"""Core commands as Telegram command menus (setMyCommands per scope and language)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from telegram import (
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeDefault,
)

from core import LANGUAGES, Command, CommandStyle, Role, Translator, Where, to_plain

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
    """The menus Telegram shows: member commands by default (private chats without the
    group-only ones, groups without the DM-only ones), and for group administrators every
    command usable in a group, captains' and admins' too (a scope's list replaces the ones
    below it, so it repeats the member commands). Indonesian speakers see the Indonesian
    alias, English speakers the English name; other languages get ``default_language``."""
    members = [c for c in commands if c.role <= Role.MEMBER]
    scopes: list[tuple[BotCommandScope, list[Command]]] = [
        (BotCommandScopeDefault(), members),
        (BotCommandScopeAllPrivateChats(), [c for c in members if c.where is not Where.GROUP]),
        (BotCommandScopeAllGroupChats(), [c for c in members if c.where is not Where.DM]),
        (
            BotCommandScopeAllChatAdministrators(),
            [c for c in commands if c.where is not Where.DM],
        ),
    ]
    entries: list[MenuEntry] = []
    for scope, chosen in scopes:
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
        text = (
            to_plain(translator(command.description, language, CommandStyle.FLAT)).strip() or name
        )
        out[name] = BotCommand(name, text[:_MAX_DESCRIPTION])
    return tuple(out.values())[:_MAX_COMMANDS]
