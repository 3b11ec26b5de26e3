"""Core commands as Discord application commands, and slash invocations back to core terms.

Each core command becomes a chat-input command with typed options, choices or autocomplete,
an Indonesian ``name_localizations`` entry from its alias, Indonesian and English
descriptions, and ``default_member_permissions`` for captain/admin commands (a hint for the
Discord client; the core still checks roles itself). Commands with a ``group`` become
subcommands (``/event new``).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import discord

from core import Command, CommandStyle, ParamType, Role, Translator, UserRef, Where, to_plain

__all__ = ["CommandSet", "SlashCall", "build_command_set", "read_invocation"]

log = logging.getLogger(__name__)

PLATFORM = "discord"

# Discord application command option types.
_SUB_COMMAND = 1
_STRING, _INTEGER, _BOOLEAN, _USER = 3, 4, 5, 6
_OPTION_TYPES = {
    ParamType.STRING: _STRING,
    ParamType.TEXT: _STRING,
    ParamType.DURATION: _STRING,
    ParamType.CHOICE: _STRING,
    ParamType.INT: _INTEGER,
    ParamType.BOOL: _BOOLEAN,
    ParamType.USER: _USER,
}

# Interaction contexts: 0 a guild, 1 the bot's DM.
_CONTEXTS = {Where.GROUP: [0], Where.DM: [1], Where.ANYWHERE: [0, 1]}

#: Who sees a command by default in the client; server admins can widen it in
#: Server Settings > Integrations. The core checks the real role either way.
ROLE_PERMISSIONS: Mapping[Role, discord.Permissions | None] = {
    Role.MEMBER: None,
    Role.CAPTAIN: discord.Permissions(manage_messages=True),
    Role.ADMIN: discord.Permissions(manage_guild=True),
}

#: Discord's locale for Indonesian; English is the default text for every other locale.
_INDONESIAN = "id"


@dataclass(frozen=True, slots=True)
class CommandSet:
    """The payload to sync, its hash, and which core command each slash path runs."""

    payload: list[dict[str, Any]]
    digest: str
    routes: dict[tuple[str, str | None], Command]


@dataclass(frozen=True, slots=True)
class SlashCall:
    """A slash invocation in core terms."""

    command: Command
    options: dict[str, Any]
    focused: tuple[str, str] | None = None  # (option name, partial text) for autocomplete


def _text(translator: Translator, key: str, lang: str, fallback: str, limit: int) -> str:
    if not key or (not translator.has(key, lang) and not translator.has(key)):
        return fallback[:limit]
    plain = " ".join(to_plain(translator(key, lang, CommandStyle.GROUPED)).split())
    return (plain or fallback)[:limit]


def _described(translator: Translator, key: str, fallback: str) -> dict[str, Any]:
    english = _text(translator, key, "en", fallback, 100)
    indonesian = _text(translator, key, _INDONESIAN, fallback, 100)
    out: dict[str, Any] = {"description": english}
    if indonesian != english:
        out["description_localizations"] = {_INDONESIAN: indonesian}
    return out


def _options(command: Command, translator: Translator) -> list[dict[str, Any]]:
    options: list[dict[str, Any]] = []
    for param in command.params:
        option: dict[str, Any] = {
            "type": _OPTION_TYPES[param.type],
            "name": param.name.lower()[:32],
            "required": param.required,
            **_described(translator, param.description, param.name),
        }
        if param.alias:
            option["name_localizations"] = {_INDONESIAN: param.alias.lower()[:32]}
        if param.choices:
            option["choices"] = [{"name": c[:100], "value": c[:100]} for c in param.choices[:25]]
        elif param.autocomplete and option["type"] == _STRING:
            option["autocomplete"] = True
        options.append(option)
    return options


def _top_level(command: Command, translator: Translator) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "type": 1,
        "name": command.name,
        **_described(translator, command.description, command.name),
        "options": _options(command, translator),
        "contexts": _CONTEXTS[command.where],
        "integration_types": [0],
    }
    if command.alias:
        entry["name_localizations"] = {_INDONESIAN: command.alias}
    permissions = ROLE_PERMISSIONS[command.role]
    entry["default_member_permissions"] = str(permissions.value) if permissions else None
    return entry


def build_command_set(commands: Sequence[Command], translator: Translator) -> CommandSet:
    """Turn core commands into a bulk-overwrite payload (at most Discord's 100)."""
    payload: list[dict[str, Any]] = []
    routes: dict[tuple[str, str | None], Command] = {}
    groups: dict[str, list[Command]] = {}
    for command in commands:
        if command.group and command.subname:
            groups.setdefault(command.group, []).append(command)
            continue
        payload.append(_top_level(command, translator))
        routes[(command.name, None)] = command
    for group, members in sorted(groups.items()):
        if (group, None) in routes:
            log.warning("command group /%s clashes with a command of that name; skipped", group)
            continue
        lowest = min(c.role for c in members)
        permissions = ROLE_PERMISSIONS[lowest]
        wheres = {c.where for c in members}
        where = wheres.pop() if len(wheres) == 1 else Where.ANYWHERE
        subs = []
        for command in sorted(members, key=lambda c: c.subname or ""):
            assert command.subname is not None
            subs.append(
                {
                    "type": _SUB_COMMAND,
                    "name": command.subname,
                    **(
                        {"name_localizations": {_INDONESIAN: command.subalias}}
                        if command.subalias
                        else {}
                    ),
                    **_described(translator, command.description, command.subname),
                    "options": _options(command, translator),
                }
            )
            routes[(group, command.subname)] = command
        names = ", ".join(str(s["name"]) for s in subs)
        group_alias = next((c.group_alias for c in members if c.group_alias), None)
        payload.append(
            {
                "type": 1,
                "name": group,
                **({"name_localizations": {_INDONESIAN: group_alias}} if group_alias else {}),
                "description": f"/{group}: {names}"[:100],
                "options": subs,
                "contexts": _CONTEXTS[where],
                "integration_types": [0],
                "default_member_permissions": str(permissions.value) if permissions else None,
            }
        )
    if len(payload) > 100:
        log.error("Discord allows 100 commands; %d are registered, the rest are cut", len(payload))
        payload = payload[:100]
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    return CommandSet(payload, digest, routes)


def _value(option: Mapping[str, Any]) -> Any:
    value = option.get("value")
    if option.get("type") == _USER and value is not None:
        return UserRef(PLATFORM, str(value))
    return value


def read_invocation(commands: CommandSet, data: Mapping[str, Any]) -> SlashCall | None:
    """Find the core command and its options in an interaction's ``data``."""
    name = str(data.get("name", ""))
    options: list[Mapping[str, Any]] = list(data.get("options") or [])
    sub: str | None = None
    if options and options[0].get("type") == _SUB_COMMAND:
        sub = str(options[0]["name"])
        options = list(options[0].get("options") or [])
    command = commands.routes.get((name, sub))
    if command is None:
        return None
    values: dict[str, Any] = {}
    focused: tuple[str, str] | None = None
    by_name = {p.name.lower()[:32]: p.name for p in command.params}
    for option in options:
        param = by_name.get(str(option.get("name")))
        if param is None:
            continue
        if option.get("focused"):
            focused = (param, str(option.get("value") or ""))
            continue
        values[param] = _value(option)
    return SlashCall(command, values, focused)
