"""The core's own plugin: /start, /help, /language and /cancel.

It is an ordinary pluggy plugin, always enabled; it knows no other plugin.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from core._command_names import CommandStyle
from core._commands import Command, Param, ParamType, Where
from core._i18n import load_texts
from core._markup import Markup, escape
from core._messages import Button
from core._roles import Role
from core._specs import Action, PluginInfo
from core._steps import FORM_ACTION, form_submitted
from core.hookspecs import hookimpl
from core.models import Member

if TYPE_CHECKING:
    from core._context import Context

PLUGIN = PluginInfo(
    name="core", version="0.1.0", description="Help, language choice, /start and /cancel"
)

_LANGUAGE_NAMES = {"id": "Bahasa Indonesia", "en": "English"}


async def start(ctx: Context, payload: str | None = None) -> None:
    """Greets, unless a plugin takes the payload: a deep link's in a private chat, or one
    given in a group (``/start onboard`` typed there, or Discord's ``/start payload:onboard``
    in a server, continues in the private chat)."""
    if (
        ctx.chat is not None
        and (ctx.chat.is_dm or payload)
        and await ctx.app.plugins.handle_start(ctx, payload or "")
    ):
        return
    name = ctx.member.display_name if ctx.member else ""
    await ctx.reply(ctx.t("core.start.greeting", name=name))


async def help_command(ctx: Context, command: str | None = None) -> None:
    """Lists the commands this member may use here, or explains one, named as the member's
    platform and language spell them."""
    assert ctx.member is not None
    role = await ctx.roles.highest(ctx.member.id)
    in_dm = ctx.chat is not None and ctx.chat.is_dm
    flat = ctx.command_style is not CommandStyle.GROUPED
    if command:
        found = ctx.app.command_names.find(command)
        if found is None or found.hidden or found.role > role:
            await ctx.reply(ctx.t("core.help.unknown", name=command.lstrip("/")[:64]))
            return
        lines = [ctx.t("core.help.usage", usage=ctx.usage(found)), ctx.t(found.description)]
        other = _other_name(ctx, found)
        if flat and other:
            lines.append(ctx.t("core.help.alias", alias=other))
        await ctx.reply(Markup("\n").join(lines))
        return
    # The list depends only on these, and building it is most of what /help costs.
    memo_key = (role, in_dm, ctx.lang, ctx.chat.platform if ctx.chat else "")
    memo = _HELP_TEXTS.setdefault(ctx.app, {})
    if memo_key not in memo:
        memo[memo_key] = _help_list(ctx, role, in_dm)
    await ctx.reply(memo[memo_key])


#: Rendered /help lists per App (commands and texts are fixed once an App has started).
_HELP_TEXTS: weakref.WeakKeyDictionary[Any, dict[tuple[Role, bool, str, str], Markup]] = (
    weakref.WeakKeyDictionary()
)


def _help_list(ctx: Context, role: Role, in_dm: bool) -> Markup:
    flat = ctx.command_style is not CommandStyle.GROUPED
    sections: dict[Role, list[Markup]] = {}
    for cmd in ctx.app.visible_commands():
        if cmd.role > role:
            continue
        if (cmd.where is Where.GROUP and in_dm) or (cmd.where is Where.DM and not in_dm):
            continue
        other = _other_name(ctx, cmd) if flat else None
        also = Markup(" ({})").format(other) if other else Markup("")
        sections.setdefault(cmd.role, []).append(
            Markup("{}{} — {}").format(ctx.cmd(cmd), also, ctx.t(cmd.description))
        )
    parts = [ctx.t("core.help.title")]
    for section_role in sorted(sections):
        lines = sorted(sections[section_role])
        parts.append(Markup("\n<b>{}</b>").format(ctx.t(f"core.role.{section_role.label}")))
        parts.extend(lines)
    parts.append(Markup("\n") + ctx.t("core.help.more"))
    return Markup("\n").join(parts)


def _other_name(ctx: Context, command: Command) -> Markup | None:
    """On flat platforms a command answers to both names; the other language's one."""
    other_lang = "en" if ctx.lang == "id" else "id"
    other = ctx.app.command_names.name(command, other_lang, ctx.command_style)
    return None if other == ctx.cmd(command) else other


async def language(ctx: Context, choice: str | None = None) -> None:
    """Shows the language buttons, or switches straight away with ``/language en``."""
    if choice:
        await _set_language(ctx, {"lang": choice})
        return
    assert ctx.member is not None
    buttons = [
        Button(label, "core:language", {"lang": code}, only_for=ctx.member.id)
        for code, label in _LANGUAGE_NAMES.items()
    ]
    await ctx.reply(ctx.t("core.language.ask"), buttons=[buttons])


async def _set_language(ctx: Context, data: dict[str, Any]) -> None:
    code = str(data.get("lang", ""))
    if code not in _LANGUAGE_NAMES or ctx.member is None:
        await ctx.reply(ctx.t("core.language.unknown", choices=", ".join(_LANGUAGE_NAMES)))
        return
    await Member.filter(id=ctx.member.id).update(language=code)
    ctx.app.cache.member_changed(ctx.member.id)
    ctx.member.language = code
    ctx.lang = code
    await ctx.reply(ctx.t("core.language.set", language=escape(_LANGUAGE_NAMES[code])))


async def cancel(ctx: Context) -> None:
    """Leaves the current multi-step flow in this chat."""
    if ctx.member is None or ctx.chat is None:
        return
    conversation = await ctx.app.conversations.get(ctx.member.id, ctx.chat.key)
    if conversation is None:
        await ctx.reply(ctx.t("core.cancel.nothing"))
        return
    await ctx.app.conversations.finish(ctx.member.id, ctx.chat.key)
    await ctx.reply(ctx.t("core.cancel.done"))


@hookimpl
def guyub_register_commands() -> Sequence[Command]:
    return [
        Command(
            "start",
            start,
            "core.cmd.start",
            alias="mulai",
            params=(
                Param("payload", required=False, description="core.param.payload", alias="kode"),
            ),
            hidden=False,
            private=True,
        ),
        Command(
            "help",
            help_command,
            "core.cmd.help",
            alias="bantuan",
            params=(
                Param(
                    "command",
                    ParamType.TEXT,  # "acara baru": a grouped name is two words
                    required=False,
                    description="core.param.command",
                    alias="perintah",
                ),
            ),
            private=True,
            atomic=False,  # reads the dispatch cache and the remembered list only
        ),
        Command(
            "language",
            language,
            "core.cmd.language",
            alias="bahasa",
            params=(
                Param(
                    "choice",
                    ParamType.CHOICE,
                    required=False,
                    choices=("id", "en"),
                    description="core.param.language",
                    alias="bahasa",
                ),
            ),
        ),
        Command("cancel", cancel, "core.cmd.cancel", alias="batal"),
    ]


@hookimpl
def guyub_register_actions() -> Sequence[Action]:
    return [Action("core:language", _set_language), Action(FORM_ACTION, form_submitted)]


@hookimpl
def guyub_register_texts() -> dict[str, dict[str, str]]:
    return load_texts("core")
