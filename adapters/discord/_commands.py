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
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import discord

from core import (
    ChatKind,
    ChatRef,
    Command,
    CommandStyle,
    Param,
    ParamType,
    Role,
    Sender,
    Translator,
    UserRef,
    Where,
    normalize_language,
    to_plain,
)

__all__ = [
    "MESSAGE_MENUS",
    "CommandName",
    "CommandSet",
    "SlashCall",
    "build_command_set",
    "read_invocation",
    "same_commands",
]

log = logging.getLogger(__name__)

PLATFORM = "discord"

#: Core commands also offered on a message's "Apps" menu (Discord allows five): they act on
#: the message's author, as replying to the message with the command does on Telegram.
MESSAGE_MENUS = ("warn", "mute")
#: Application command type of a message context-menu command.
_MESSAGE_MENU = 3

# Discord application command option types.
_SUB_COMMAND = 1
_STRING, _INTEGER, _BOOLEAN, _USER, _CHANNEL, _ROLE = 3, 4, 5, 6, 7, 8
_OPTION_TYPES = {
    ParamType.STRING: _STRING,
    ParamType.TEXT: _STRING,
    ParamType.DURATION: _STRING,
    ParamType.CHOICE: _STRING,
    ParamType.INT: _INTEGER,
    ParamType.BOOL: _BOOLEAN,
    ParamType.USER: _USER,
    ParamType.CHANNEL: _CHANNEL,
    ParamType.ROLE: _ROLE,
}
#: The channels a channel option offers: text and announcement channels (where a region's
#: members talk); threads follow their channel.
_CHANNEL_TYPES = [0, 5]
#: Channel types of threads (a thread is its parent channel plus the thread).
_THREAD_TYPES = (10, 11, 12)

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
#: What Discord refuses in a command or option name.
_NOT_NAME = re.compile(r"[^\w-]", re.UNICODE)


@dataclass(frozen=True, slots=True)
class CommandName:
    """How a command is typed on Discord, by English and Indonesian clients."""

    english: str
    indonesian: str

    def for_language(self, lang: str | None) -> str:
        return self.indonesian if normalize_language(lang) == _INDONESIAN else self.english


@dataclass(frozen=True, slots=True)
class CommandSet:
    """The payload to sync, its hash, which core command each slash path runs, and how
    each core command is spelled on Discord (by core name)."""

    payload: list[dict[str, Any]]
    digest: str
    routes: dict[tuple[str, str | None], Command]
    names: dict[str, CommandName] = field(default_factory=dict)
    #: Message context-menu commands ("Apps" on a message), by their Discord name.
    menus: dict[str, Command] = field(default_factory=dict)

    def spell(self, command: str, lang: str | None) -> str | None:
        """``/acara baru`` for ``event_new`` in Indonesian; None for an unknown command."""
        found = self.names.get(command)
        return found.for_language(lang) if found else None


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


def _option_name(translator: Translator, name: str) -> str | None:
    """The Indonesian name of an option (``discord.option.<name>``), if there is one."""
    key = f"discord.option.{name}"
    if not translator.has(key, _INDONESIAN):
        return None
    localized = _slug(translator.template(key, _INDONESIAN))
    return localized if localized and localized != name else None


def _slug(text: str) -> str:
    """A valid Discord command/option name: lowercase letters, digits, ``_`` and ``-``."""
    cleaned = _NOT_NAME.sub("", text.strip().lower().replace(" ", "_"))
    return cleaned[:32]


def _options(command: Command, translator: Translator) -> list[dict[str, Any]]:
    options: list[dict[str, Any]] = []
    for param in command.params:
        option: dict[str, Any] = {
            "type": _OPTION_TYPES[param.type],
            "name": param.name.lower()[:32],
            "required": param.required,
            **_described(translator, param.description, param.name),
        }
        localized = _slug(param.alias) if param.alias else _option_name(translator, option["name"])
        if localized and localized != option["name"]:
            option["name_localizations"] = {_INDONESIAN: localized}
        if param.choices:
            option["choices"] = [_choice(param, c) for c in param.choices[:25]]
        elif param.autocomplete and option["type"] == _STRING:
            option["autocomplete"] = True
        if option["type"] == _CHANNEL:
            option["channel_types"] = _CHANNEL_TYPES
        options.append(option)
    return options


#: Discord's English locales: they see a choice's English word.
_ENGLISH = ("en-US", "en-GB")


def _choice(param: Param, choice: str) -> dict[str, Any]:
    """A choice shown Indonesian first: its Indonesian word (``kapasitas``, as typed on
    Telegram) for every client but English ones, which see the English word. The value is
    the canonical choice the handler gets."""
    indonesian = next((a for a, c in param.choice_aliases if c == choice), choice)
    entry: dict[str, Any] = {"name": indonesian[:100], "value": choice[:100]}
    if indonesian != choice:
        entry["name_localizations"] = dict.fromkeys(_ENGLISH, choice[:100])
    return entry


def _permissions(role: Role) -> str | None:
    permissions = ROLE_PERMISSIONS[role]
    return str(permissions.value) if permissions else None


def _top_level(command: Command, translator: Translator, alias: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "type": 1,
        "name": command.name,
        **_described(translator, command.description, command.name),
        "options": _options(command, translator),
        "contexts": _CONTEXTS[command.where],
        "integration_types": [0],
    }
    if alias:
        entry["name_localizations"] = {_INDONESIAN: alias}
    entry["default_member_permissions"] = _permissions(command.role)
    return entry


def _group_alias(group: str, members: Sequence[Command]) -> str | None:
    """The Indonesian name of a group: its declared ``group_alias``, else the prefix most of
    its aliases share (``acara_baru``, ``acara_ubah`` → ``acara``)."""
    declared = next((c.group_alias for c in members if c.group_alias), None)
    if declared:
        return declared
    prefixes = Counter(
        c.alias.split("_", 1)[0] for c in members if c.alias and "_" in c.alias
    ).most_common(1)
    if not prefixes:
        return None
    prefix, _count = prefixes[0]
    return prefix if prefix != group else None


def _sub_alias(command: Command, group_alias: str | None) -> str | None:
    """A subcommand's Indonesian name: its declared ``subalias``, else its alias without the
    group's prefix."""
    if command.subalias:
        return command.subalias if command.subalias != command.subname else None
    alias = command.alias
    if not alias:
        return None
    if group_alias and alias.startswith(f"{group_alias}_"):
        alias = alias[len(group_alias) + 1 :]
    return alias if alias != command.subname else None


def _split(members: list[Command]) -> tuple[list[Command], list[Command]]:
    """A group holds only the subcommands of its most privileged role (Discord gives a
    group one permission for all of it); the others stand alone."""
    top = max(c.role for c in members)
    return [c for c in members if c.role == top], [c for c in members if c.role != top]


def build_command_set(commands: Sequence[Command], translator: Translator) -> CommandSet:
    """Turn core commands into a bulk-overwrite payload (at most Discord's 100).

    Member and captain commands never share a group: a group keeps the subcommands of its
    most privileged role and the rest become top-level commands under their own names
    (``/events``, ``/checkin``). Indonesian names come from the aliases: ``acara_baru`` in
    group ``event`` is ``/acara baru``."""
    payload: list[dict[str, Any]] = []
    routes: dict[tuple[str, str | None], Command] = {}
    names: dict[str, CommandName] = {}
    groups: dict[str, list[Command]] = {}
    singles: list[Command] = []
    for command in commands:
        if command.group and command.subname:
            groups.setdefault(command.group, []).append(command)
        else:
            singles.append(command)
    kept: dict[str, list[Command]] = {}
    for group, members in sorted(groups.items()):
        inside, alone = _split(members)
        kept[group] = inside
        singles.extend(alone)
    taken = {c.name for c in singles}
    group_aliases: dict[str, str | None] = {}
    for group, members in kept.items():
        alias = _group_alias(group, members)
        group_aliases[group] = alias
        if alias:
            taken.add(alias)
    used_aliases: set[str] = set(a for a in group_aliases.values() if a)
    for command in singles:
        alias = command.alias
        if alias and (alias in used_aliases or alias in taken - {command.name}):
            # "/acara" is the captains' group: the members' list is "/daftar_acara".
            alias = None
            if command.subalias and command.group_alias:
                alias = f"{command.subalias}_{command.group_alias}"[:32]
            if alias in used_aliases or alias in taken:
                log.info("Discord: /%s keeps its English name", command.name)
                alias = None
        if alias:
            used_aliases.add(alias)
        payload.append(_top_level(command, translator, alias))
        routes[(command.name, None)] = command
        names[command.name] = CommandName(f"/{command.name}", f"/{alias or command.name}")
    for group, members in kept.items():
        if (group, None) in routes:
            log.warning("command group /%s clashes with a command of that name; skipped", group)
            continue
        group_alias = group_aliases[group]
        role = members[0].role
        wheres = {c.where for c in members}
        where = wheres.pop() if len(wheres) == 1 else Where.ANYWHERE
        subs = []
        sub_aliases: set[str] = set()
        for command in sorted(members, key=lambda c: c.subname or ""):
            assert command.subname is not None
            sub: dict[str, Any] = {
                "type": _SUB_COMMAND,
                "name": command.subname,
                **_described(translator, command.description, command.subname),
                "options": _options(command, translator),
            }
            alias = _sub_alias(command, group_alias)
            if alias and alias not in sub_aliases:
                sub_aliases.add(alias)
                sub["name_localizations"] = {_INDONESIAN: alias}
            subs.append(sub)
            routes[(group, command.subname)] = command
            names[command.name] = CommandName(
                f"/{group} {command.subname}",
                f"/{group_alias or group} {alias or command.subname}",
            )
        entry: dict[str, Any] = {
            "type": 1,
            "name": group,
            **_group_description(translator, group, subs),
            "options": subs,
            "contexts": _CONTEXTS[where],
            "integration_types": [0],
            "default_member_permissions": _permissions(role),
        }
        if group_alias:
            entry["name_localizations"] = {_INDONESIAN: group_alias}
        payload.append(entry)
    if len(payload) > 100:
        log.error("Discord allows 100 commands; %d are registered, the rest are cut", len(payload))
        payload = payload[:100]
    menus: dict[str, Command] = {}
    by_name = {c.name: c for c in commands}
    for name in MESSAGE_MENUS:
        menu = by_name.get(name)
        if menu is None or not any(p.type is ParamType.USER for p in menu.params):
            continue
        label = menu.name.replace("_", " ").capitalize()
        entry = {
            "type": _MESSAGE_MENU,
            "name": label,
            "contexts": [0],
            "integration_types": [0],
            "default_member_permissions": _permissions(menu.role),
        }
        if menu.alias:
            entry["name_localizations"] = {
                _INDONESIAN: menu.alias.replace("_", " ").capitalize()[:32]
            }
        payload.append(entry)
        menus[label] = menu
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    return CommandSet(payload, digest, routes, names, menus)


def _group_description(
    translator: Translator, group: str, subs: list[dict[str, Any]]
) -> dict[str, Any]:
    """``discord.group.<group>`` when a text exists, else the subcommands' names."""
    key = f"discord.group.{group}"
    if translator.has(key):
        return _described(translator, key, group)
    english = ", ".join(str(s["name"]) for s in subs)
    out: dict[str, Any] = {"description": f"/{group}: {english}"[:100]}
    indonesian = ", ".join(
        str(s.get("name_localizations", {}).get(_INDONESIAN, s["name"])) for s in subs
    )
    if indonesian != english:
        out["description_localizations"] = {_INDONESIAN: f"/{group}: {indonesian}"[:100]}
    return out


def _comparable(entry: Mapping[str, Any]) -> Any:
    """What of a command (or option) Discord shows members, with Discord's defaults made
    explicit, so a fetched command and one we would send compare equal when the same."""
    out: dict[str, Any] = {
        "type": entry.get("type", 1),
        "name": entry.get("name"),
        "description": entry.get("description", ""),
        "name_localizations": dict(entry.get("name_localizations") or {}),
        "description_localizations": dict(entry.get("description_localizations") or {}),
        "required": bool(entry.get("required", False)),
        "autocomplete": bool(entry.get("autocomplete", False)),
        "choices": [
            (c.get("name"), c.get("value"), dict(c.get("name_localizations") or {}))
            for c in entry.get("choices") or []
        ],
        "channel_types": sorted(entry.get("channel_types") or []),
        "options": [_comparable(o) for o in entry.get("options") or []],
    }
    if "default_member_permissions" in entry or "contexts" in entry:  # top level
        permissions = entry.get("default_member_permissions")
        out["default_member_permissions"] = str(permissions) if permissions is not None else None
        out["contexts"] = sorted(entry.get("contexts") or [])
    return out


def same_commands(
    present: Sequence[Mapping[str, Any]], wanted: Sequence[Mapping[str, Any]]
) -> bool:
    """Whether Discord already has exactly ``wanted`` (in any order)."""

    def keyed(entries: Sequence[Mapping[str, Any]]) -> dict[tuple[Any, Any], Any]:
        return {(e.get("type", 1), e.get("name")): _comparable(e) for e in entries}

    return len(present) == len(wanted) and keyed(present) == keyed(wanted)


def _value(option: Mapping[str, Any], resolved: Mapping[str, Any]) -> Any:
    value = option.get("value")
    if option.get("type") == _USER and value is not None:
        return _picked_user(str(value), resolved)
    if option.get("type") == _CHANNEL and value is not None:
        return _picked_channel(str(value), resolved)
    if option.get("type") == _ROLE and value is not None:
        return str(value)
    return value


def _picked_channel(channel_id: str, resolved: Mapping[str, Any]) -> ChatRef | None:
    """A channel picked in a channel option, named as Discord resolved it (a thread is its
    parent channel plus the thread, as everywhere else)."""
    if not channel_id.isdigit():
        return None
    channel = (resolved.get("channels") or {}).get(channel_id)
    if not isinstance(channel, Mapping):
        return ChatRef(PLATFORM, channel_id, ChatKind.GROUP)
    name = channel.get("name")
    title = str(name)[:128] if isinstance(name, str) else None
    parent = str(channel.get("parent_id") or "")
    if channel.get("type") in _THREAD_TYPES and parent.isdigit():
        return ChatRef(PLATFORM, parent, ChatKind.GROUP, title=title, thread=channel_id)
    return ChatRef(PLATFORM, channel_id, ChatKind.GROUP, title=title)


def _picked_user(user_id: str, resolved: Mapping[str, Any]) -> Sender | UserRef:
    """A user picked in a user option, with the names Discord resolved for it, so the core
    can take them in even if they never wrote to the bot."""
    user = (resolved.get("users") or {}).get(user_id)
    if not isinstance(user, Mapping):
        return UserRef(PLATFORM, user_id)
    member = (resolved.get("members") or {}).get(user_id)
    nick = member.get("nick") if isinstance(member, Mapping) else None
    username = str(user.get("username") or "")
    display = str(nick or user.get("global_name") or username)
    return Sender(
        ref=UserRef(PLATFORM, user_id),
        display_name=display[:128],
        username=username or None,
        is_bot=bool(user.get("bot")),
    )


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
    resolved: Mapping[str, Any] = data.get("resolved") or {}
    for option in options:
        param = by_name.get(str(option.get("name")))
        if param is None:
            continue
        if option.get("focused"):
            focused = (param, str(option.get("value") or ""))
            continue
        values[param] = _value(option, resolved)
    return SlashCall(command, values, focused)
