"""Chat commands: /region, /captains, /regions, /region_link and /region_unlink."""

from __future__ import annotations

import logging
import re
from typing import Any

from core import (
    Action,
    Button,
    ChatKind,
    ChatRef,
    Command,
    Context,
    Markup,
    Member,
    Param,
    ParamType,
    PermissionDenied,
    RegionInfo,
    Role,
    Unreachable,
    Where,
    scope_chain,
)
from plugins.regions import _roles
from plugins.regions._gazetteer import PROVINCE, gazetteer
from plugins.regions._match import Matcher
from plugins.regions._stats import region_rows
from plugins.regions.models import RegionChat

__all__ = ["actions", "commands", "matcher"]

log = logging.getLogger(__name__)

_LINK = re.compile(r"^https?://\S+$", re.I)
_ROLE = re.compile(r"^(?:<@&(\d{5,25})>|role[:=](\d{5,25}))$", re.I)

_matcher: Matcher | None = None


def matcher() -> Matcher:
    """The in-memory matcher over the shipped data (built on first use)."""
    global _matcher
    if _matcher is None:
        _matcher = Matcher(gazetteer())
    return _matcher


# --- showing a region ------------------------------------------------------------------


def _names(members: list[Member]) -> str:
    return ", ".join(m.display_name or f"#{m.id}" for m in members)


async def region_card(ctx: Context, code: str) -> Markup:
    """Name, province, time zone, captains and groups of a region (for /region)."""
    book = gazetteer()
    region = book.regions[code]
    province = book.province_of(code)
    lines = [ctx.t("regions.card.title", name=region.name, zone=region.zone_label, code=code)]
    if province is not None and province.code != code:
        lines.append(ctx.t("regions.card.province", name=province.name))
    if code in book.seats:
        lines.append(ctx.t("regions.card.seat", name=book.seats[code]))
    captains = await ctx.roles.captains_of(code)
    if captains:
        lines.append(ctx.t("regions.card.captains", names=_names(captains)))
    else:
        lines.append(ctx.t("regions.card.no_captains"))
    chats = await RegionChat.filter(region_code__in=scope_chain(code)).order_by(
        "region_code", "platform", "title"
    )
    if chats:
        lines.append(ctx.t("regions.card.groups"))
        for chat in chats:
            title = chat.title or chat.chat_id
            where = book.regions[chat.region_code].name
            if chat.invite_link:
                lines.append(
                    ctx.t(
                        "regions.card.group_link",
                        title=title,
                        link=chat.invite_link,
                        platform=chat.platform,
                        region=where,
                    )
                )
            else:
                lines.append(
                    ctx.t("regions.card.group", title=title, platform=chat.platform, region=where)
                )
    else:
        lines.append(ctx.t("regions.card.no_groups"))
    return Markup("\n").join(lines)


def _pick_buttons(
    ctx: Context, candidates: tuple[RegionInfo, ...], action: str, extra: dict[str, Any]
) -> list[list[Button]]:
    assert ctx.member is not None
    book = gazetteer()
    return [
        [Button(book.label(r.code), action, {**extra, "code": r.code}, only_for=ctx.member.id)]
        for r in candidates
    ]


async def region(ctx: Context, name: str | None = None) -> None:
    """/region: the member's region, captains and groups; or any region by name."""
    assert ctx.member is not None
    if name:
        found = matcher().match(name)
        if found.certain and found.best is not None:
            await ctx.reply(await region_card(ctx, found.best.code))
        elif found.candidates:
            await ctx.reply(
                ctx.t("regions.pick", text=name),
                buttons=_pick_buttons(ctx, found.candidates, "regions:show", {}),
            )
        else:
            await ctx.reply(ctx.t("regions.not_found", text=name))
        return
    code = ctx.member.region_code
    if not code or code not in gazetteer().regions:
        await ctx.reply(ctx.t("regions.no_region"))
        return
    await ctx.reply(await region_card(ctx, code))


async def _show(ctx: Context, data: dict[str, Any]) -> None:
    code = str(data.get("code", ""))
    if code not in gazetteer().regions:
        await ctx.reply(ctx.t("regions.not_found", text=code))
        return
    await ctx.reply(await region_card(ctx, code))


async def captains(ctx: Context) -> None:
    """/captains: the member's captains, nearest first."""
    assert ctx.member is not None
    code = ctx.member.region_code
    if not code or code not in gazetteer().regions:
        await ctx.reply(ctx.t("regions.no_region"))
        return
    book = gazetteer()
    found = await ctx.roles.captains_of(code)
    if not found:
        await ctx.reply(ctx.t("regions.captains.none", region=book.regions[code].name))
        return
    lines = [ctx.t("regions.captains.title", region=book.regions[code].name)]
    for captain in found:
        scopes = [s for s in await ctx.roles.captain_scopes(captain.id) if s in scope_chain(code)]
        where = book.regions[scopes[0]].name if scopes and scopes[0] in book.regions else ""
        lines.append(
            ctx.t("regions.captains.line", name=captain.display_name or f"#{captain.id}", of=where)
        )
    await ctx.reply(Markup("\n").join(lines))


async def regions_list(ctx: Context, province: str | None = None) -> None:
    """/regions: member counts per province, or per kabupaten/kota of one province."""
    assert ctx.member is not None
    book = gazetteer()
    if province:
        found = matcher().match(province)
        best = found.best
        if best is not None and best.kind != PROVINCE and found.certain:
            best = book.province_of(best.code)
        if best is None or not found.certain:
            await ctx.reply(ctx.t("regions.not_found", text=province))
            return
        codes = [r.code for r in book.children(best.code)]
        title = ctx.t("regions.list.in_province", name=best.name)
    else:
        codes = [r.code for r in book.provinces]
        title = ctx.t("regions.list.title")
    rows = await region_rows(codes)
    lines = [title]
    for row in rows:
        lines.append(
            ctx.t(
                "regions.list.line",
                code=row.code,
                name=row.name,
                members=row.members,
                registered=row.registered,
            )
        )
    # Counts are for captains and admins, not for the whole group.
    await ctx.reply(Markup("\n").join(lines), private=True)


# --- binding groups to regions -----------------------------------------------------------


def _split_link_args(text: str) -> tuple[str, str | None, str | None]:
    words = text.split()
    link: str | None = None
    role: str | None = None
    while words:
        last = words[-1]
        if _LINK.match(last) and link is None:
            link = last[:255]
        elif (found := _ROLE.match(last)) and role is None:
            role = found.group(1) or found.group(2)
        else:
            break
        words.pop()
    return " ".join(words), link, role


async def region_link(
    ctx: Context, region: str, channel: ChatRef | None = None, role: str | None = None
) -> None:
    """/region_link REGION [invite link]: bind this group to a region. Where the platform
    lets a captain pick (Discord), ``channel`` binds another channel of the server than the
    one typed in, and ``role`` is the server role its region's members get."""
    assert ctx.member is not None
    assert ctx.chat is not None
    name, link, typed_role = _split_link_args(region)
    role = role or typed_role
    found = matcher().match(name) if name else None
    if channel is not None and channel.platform != ctx.chat.platform:
        channel = None  # only a platform's own picker fills it
    extra = {"link": link, "role": role, "channel": _channel_data(channel)}
    if found is None or not found.candidates:
        await ctx.reply(ctx.t("regions.not_found", text=name or region))
        return
    if not found.certain:
        await ctx.reply(
            ctx.t("regions.pick", text=name),
            buttons=_pick_buttons(ctx, found.candidates, "regions:link", extra),
        )
        return
    assert found.best is not None
    await _bind(ctx, found.best.code, link, role, channel)


def _channel_data(channel: ChatRef | None) -> dict[str, str] | None:
    if channel is None:
        return None
    return {"id": channel.id, "thread": channel.thread or "", "title": channel.title or ""}


def _channel_from(ctx: Context, data: Any) -> ChatRef | None:
    """The channel a pick button carries (same platform as the press)."""
    if not isinstance(data, dict) or ctx.chat is None:
        return None
    channel_id = str(data.get("id") or "")
    if not channel_id.isdigit():
        return None
    return ChatRef(
        ctx.chat.platform,
        channel_id,
        ChatKind.GROUP,
        title=str(data.get("title") or "")[:128] or None,
        thread=str(data.get("thread") or "") or None,
    )


async def _link_pressed(ctx: Context, data: dict[str, Any]) -> None:
    code = str(data.get("code", ""))
    if code not in gazetteer().regions or ctx.chat is None or ctx.chat.is_dm:
        await ctx.reply(ctx.t("regions.not_found", text=code))
        return
    link = data.get("link")
    role = data.get("role")
    await _bind(
        ctx,
        code,
        str(link) if link else None,
        str(role) if role else None,
        _channel_from(ctx, data.get("channel")),
    )


async def _require_group_admin(ctx: Context, chat: ChatRef) -> None:
    """Where the platform tells who administers a group (Telegram group admins, Discord
    Manage Channels), only its administrators bind or unbind it: a captain of another
    region must not take over someone's group."""
    if await ctx.is_platform_admin(chat) is False:
        raise PermissionDenied("regions.error.not_group_admin")


async def _tell_captains(
    ctx: Context, code: str, key: str, *, title: str, platform: str, **names: str
) -> None:
    """DM the captains of ``code`` (except the one acting) that their group changed hands."""
    assert ctx.member is not None
    book = gazetteer()
    for captain in await ctx.roles.captains_of(code):
        if captain.id == ctx.member.id:
            continue
        text = ctx.app.translator(
            key,
            captain.language,
            actor=ctx.member.display_name or f"#{ctx.member.id}",
            title=title,
            platform=platform,
            old=book.regions[code].name if code in book.regions else code,
            **names,
        )
        try:
            await ctx.send_dm(captain, text)
        except Unreachable:
            log.info("captain #%s of %s could not be told about a group change", captain.id, code)


async def _bind(
    ctx: Context, code: str, link: str | None, role: str | None, channel: ChatRef | None = None
) -> None:
    assert ctx.member is not None
    assert ctx.chat is not None
    await ctx.require_region(code)
    chat = channel or ctx.chat
    bound = await RegionChat.get_or_none(
        platform=chat.platform, chat_id=chat.id, thread_id=chat.thread or ""
    )
    previous = bound.region_code if bound is not None else None
    previous_role = bound.discord_role_id if bound is not None else None
    if previous is not None and previous != code:
        # Rebinding takes the group away from its region: only who manages that region may.
        await ctx.require_region(previous)
    await _require_group_admin(ctx, chat)
    await RegionChat.update_or_create(
        platform=chat.platform,
        chat_id=chat.id,
        thread_id=chat.thread or "",
        defaults={
            "region_code": code,
            "title": (chat.title or "")[:128],
            "invite_link": link,
            "discord_role_id": role,
            "linked_by_id": ctx.member.id,
        },
    )
    await _roles.sweep_after_rebind(
        ctx.app, chat.platform, chat.id, given=(code, role), taken=(previous, previous_role)
    )
    await ctx.audit(
        "regions.link",
        target=chat.key,
        region=code,
        link=bool(link),
        role=role,
        previous=previous,
    )
    region = gazetteer().regions[code]
    if chat.key == ctx.chat.key:
        text = ctx.t("regions.linked", name=region.name, code=code)
    else:
        text = ctx.t(
            "regions.linked_channel", title=chat.title or chat.id, name=region.name, code=code
        )
    if role:
        text = Markup("\n").join([text, ctx.t("regions.linked_role")])
    await ctx.reply(text)
    if previous is not None and previous != code:
        await _tell_captains(
            ctx,
            previous,
            "regions.moved_notice",
            title=chat.title or chat.id,
            platform=chat.platform,
            new=region.name,
        )


async def region_unlink(ctx: Context) -> None:
    """/region_unlink: this group no longer belongs to a region."""
    assert ctx.member is not None
    assert ctx.chat is not None
    chat = ctx.chat
    bound = await RegionChat.get_or_none(
        platform=chat.platform, chat_id=chat.id, thread_id=chat.thread or ""
    )
    if bound is None:
        await ctx.reply(ctx.t("regions.not_linked"))
        return
    await ctx.require_region(bound.region_code)
    await _require_group_admin(ctx, chat)
    await bound.delete()
    await _roles.sweep_after_rebind(
        ctx.app,
        chat.platform,
        chat.id,
        given=(None, None),
        taken=(bound.region_code, bound.discord_role_id),
    )
    await ctx.audit("regions.unlink", target=chat.key, region=bound.region_code)
    await ctx.reply(ctx.t("regions.unlinked", name=gazetteer().regions[bound.region_code].name))
    await _tell_captains(
        ctx,
        bound.region_code,
        "regions.unlinked_notice",
        title=chat.title or chat.id,
        platform=chat.platform,
    )


def commands() -> list[Command]:
    region_param = Param(
        "name",
        ParamType.TEXT,
        required=False,
        description="regions.param.region",
        autocomplete="regions",
        alias="nama",
    )
    return [
        Command("region", region, "regions.cmd.region", alias="wilayah", params=(region_param,)),
        Command("captains", captains, "regions.cmd.captains", alias="kapten"),
        Command(
            "regions",
            regions_list,
            "regions.cmd.regions",
            alias="daftar_wilayah",
            params=(
                Param(
                    "province",
                    ParamType.TEXT,
                    required=False,
                    description="regions.param.province",
                    autocomplete="regions",
                    alias="provinsi",
                ),
            ),
            role=Role.CAPTAIN,
            private=True,
        ),
        Command(
            "region_link",
            region_link,
            "regions.cmd.link",
            alias="tautkan_wilayah",
            params=(
                Param(
                    "region",
                    ParamType.TEXT,
                    description="regions.param.link",
                    autocomplete="regions",
                    alias="wilayah",
                ),
                Param(
                    "channel",
                    ParamType.CHANNEL,
                    required=False,
                    description="regions.param.channel",
                    alias="kanal",
                ),
                Param(
                    "role",
                    ParamType.ROLE,
                    required=False,
                    description="regions.param.role",
                    alias="peran",
                ),
            ),
            role=Role.CAPTAIN,
            where=Where.GROUP,
        ),
        Command(
            "region_unlink",
            region_unlink,
            "regions.cmd.unlink",
            alias="lepas_wilayah",
            role=Role.CAPTAIN,
            where=Where.GROUP,
        ),
    ]


def actions() -> list[Action]:
    return [Action("regions:show", _show), Action("regions:link", _link_pressed)]
