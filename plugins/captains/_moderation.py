"""Moderation in regional groups: /warn, /mute, /unmute, /kick, /ban, and /audit.

Captains moderate the groups of their regions (the group's region is found through
``ctx.regions.chats``; the core's ``require_region`` decides), admins every group. What the
platform or the bot's rights don't allow gets a clear answer. Everything is audited.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from core import (
    Account,
    Capability,
    Context,
    DeliveryError,
    Markup,
    Member,
    MessageRef,
    PermissionDenied,
    UsageError,
    UserRef,
    format_duration,
    format_moment,
    zone_abbreviation,
)
from plugins.captains._areas import group_area, names_of, resolve_area
from plugins.captains.models import Warning

__all__ = ["audit_command", "ban", "kick", "mute", "unmute", "warn"]

log = logging.getLogger(__name__)


async def _target(ctx: Context, member: Member | None) -> tuple[str | None, UserRef]:
    """Checks the moderator may act here and on ``member``; returns the group's region and
    the member's account on this platform."""
    assert ctx.member is not None
    assert ctx.chat is not None
    if member is None:
        raise UsageError("captains.mod.who")
    code = await group_area(ctx)
    if code is None:
        raise PermissionDenied("captains.mod.not_regional_group")
    await ctx.require_region(code)
    if member.id == ctx.member.id:
        raise UsageError("captains.mod.not_yourself")
    if await ctx.roles.is_admin(member.id) and not await ctx.roles.is_admin(ctx.member.id):
        raise PermissionDenied("captains.mod.not_admin")
    account = await Account.filter(member_id=member.id, platform=ctx.chat.platform).first()
    if account is None:
        raise UsageError("captains.mod.not_here", name=member.display_name)
    return code or None, UserRef(account.platform, account.platform_user_id)


def _require(ctx: Context, capability: Capability) -> None:
    if not ctx.supports(capability):
        raise UsageError("captains.mod.unsupported", action=capability.value)


async def _act(
    ctx: Context, action: str, member: Member, region: str | None, **details: object
) -> bool:
    """Run one moderation action on the platform; False (and a clear reply) if refused."""
    assert ctx.adapter is not None
    assert ctx.chat is not None
    account = await Account.filter(member_id=member.id, platform=ctx.chat.platform).first()
    assert account is not None
    user = UserRef(account.platform, account.platform_user_id)
    try:
        if action == "mute":
            until = details.get("until")
            await ctx.adapter.mute(ctx.chat, user, until)  # type: ignore[arg-type]
        elif action == "unmute":
            await ctx.adapter.unmute(ctx.chat, user)
        elif action == "kick":
            await ctx.adapter.kick(ctx.chat, user)
        elif action == "ban":
            await ctx.adapter.ban(ctx.chat, user)
    except DeliveryError:
        await ctx.reply(ctx.t("captains.mod.refused", action=action))
        return False
    await ctx.audit(
        f"captains.mod.{action}",
        target=f"member:{member.id}",
        region=region,
        chat=ctx.chat.key,
        **{k: str(v) for k, v in details.items()},
    )
    await _mod_log(ctx, action, member, None)
    return True


async def _mod_log(ctx: Context, action: str, member: Member, reason: str | None) -> None:
    """Tell the community's mod-log channel, where the platform has one configured."""
    assert ctx.chat is not None
    log_chat = ctx.adapter.mod_log_chat(ctx.chat) if ctx.adapter is not None else None
    if log_chat is None:
        return
    by = ctx.member.display_name if ctx.member is not None else "-"
    lines = [
        ctx.t(
            "captains.mod.log",
            action=ctx.t(f"captains.mod.log_{action}"),
            name=member.display_name,
            by=by,
            where=ctx.chat.title or ctx.chat.key,
        )
    ]
    if reason:
        lines.append(ctx.t("captains.mod.log_reason", reason=reason))
    try:
        await ctx.send(log_chat, Markup("\n").join(lines))
    except DeliveryError:
        log.warning("mod-log %s not written", log_chat.key, exc_info=True)


async def warn(ctx: Context, member: Member | None = None, reason: str | None = None) -> None:
    assert ctx.member is not None
    assert ctx.chat is not None
    region, _ = await _target(ctx, member)
    assert member is not None
    await Warning.create(
        member_id=member.id,
        chat_key=ctx.chat.key,
        region_code=region,
        reason=(reason or "")[:300],
        by_id=ctx.member.id,
        at=ctx.now(),
    )
    await ctx.audit(
        "captains.mod.warn", target=f"member:{member.id}", region=region, reason=reason or ""
    )
    await _mod_log(ctx, "warn", member, reason)
    settings = ctx.settings("captains")
    count = await Warning.filter(member_id=member.id, chat_key=ctx.chat.key).count()
    limit = settings.warnings_before_mute
    await ctx.reply(
        ctx.t("captains.mod.warned", name=member.display_name, n=count, limit=limit or "-")
    )
    if limit and count >= limit and count % limit == 0 and ctx.supports(Capability.MUTE):
        duration = timedelta(minutes=settings.auto_mute_minutes)
        if await _act(ctx, "mute", member, region, until=ctx.now() + duration, auto=True):
            await ctx.reply(
                ctx.t(
                    "captains.mod.auto_muted",
                    name=member.display_name,
                    duration=format_duration(duration, ctx.app.translator, ctx.lang),
                )
            )


_DELETE_WORDS = {"hapus", "hapus pesan", "hapus pesannya", "delete", "delete message"}


def _wants_delete(ctx: Context, words: str | None) -> MessageRef | None:
    """The message to remove for "hapus pesan" (the one the command replies to), or None
    when the captain didn't ask."""
    if words is None or not words.strip():
        return None
    if " ".join(words.lower().split()) not in _DELETE_WORDS:
        raise UsageError("captains.mod.delete_how")
    replied = getattr(ctx.event, "reply_to", None)
    if not isinstance(replied, MessageRef):
        raise UsageError("captains.mod.delete_needs_reply")
    _require(ctx, Capability.DELETE_MESSAGES)
    return replied


async def _delete_offending(ctx: Context, ref: MessageRef | None, member: Member) -> None:
    if ref is None:
        return
    assert ctx.adapter is not None
    try:
        await ctx.adapter.delete(ref)
    except DeliveryError:
        await ctx.reply(ctx.t("captains.mod.delete_refused"))
        return
    await ctx.audit(
        "captains.mod.delete", target=f"member:{member.id}", chat=ref.chat.key, message=ref.id
    )


async def mute(
    ctx: Context, duration: timedelta, member: Member | None = None, delete: str | None = None
) -> None:
    region, _ = await _target(ctx, member)
    assert member is not None
    _require(ctx, Capability.MUTE)
    offending = _wants_delete(ctx, delete)
    until = ctx.now() + duration
    if await _act(ctx, "mute", member, region, until=until):
        await _delete_offending(ctx, offending, member)
        length = format_duration(duration, ctx.app.translator, ctx.lang)
        await ctx.reply(ctx.t("captains.mod.muted", name=member.display_name, duration=length))


async def unmute(ctx: Context, member: Member | None = None) -> None:
    region, _ = await _target(ctx, member)
    assert member is not None
    _require(ctx, Capability.MUTE)
    if await _act(ctx, "unmute", member, region):
        await ctx.reply(ctx.t("captains.mod.unmuted", name=member.display_name))


async def kick(ctx: Context, member: Member | None = None) -> None:
    region, _ = await _target(ctx, member)
    assert member is not None
    _require(ctx, Capability.KICK)
    if await _act(ctx, "kick", member, region):
        await ctx.reply(ctx.t("captains.mod.kicked", name=member.display_name))


async def ban(ctx: Context, member: Member | None = None, delete: str | None = None) -> None:
    region, _ = await _target(ctx, member)
    assert member is not None
    _require(ctx, Capability.BAN)
    offending = _wants_delete(ctx, delete)
    if await _act(ctx, "ban", member, region):
        await _delete_offending(ctx, offending, member)
        await ctx.reply(ctx.t("captains.mod.banned", name=member.display_name))


async def audit_command(ctx: Context, region: str | None = None) -> None:
    """The last 20 audited actions of a region (or the country), as a report to forward:
    each action named in words, people by name, regions by name, times in the region's zone."""
    code = (await resolve_area(ctx, region)).code if region else ""
    entries = await ctx.audit_log.recent(region=code or None, limit=20)
    if not entries:
        await ctx.reply(ctx.t("captains.audit.empty"))
        return
    member_ids = {e.actor_id for e in entries if e.actor_id}
    for e in entries:
        kind, _, ident = (e.target or "").partition(":")
        if kind == "member" and ident.isdigit():
            member_ids.add(int(ident))
    names = {m.id: m.display_name for m in await Member.filter(id__in=member_ids)}
    zone = await ctx.regions.timezone(code or None)
    translator = ctx.app.translator
    lines = [
        ctx.t("captains.audit.title", region=await _area_name(ctx, code)),
        ctx.t("captains.audit.as_of", at=format_moment(ctx.now(), zone, translator, ctx.lang)),
    ]
    for e in entries:
        lines.append(
            ctx.t(
                "captains.audit.row",
                at=format_moment(e.at, zone, translator, ctx.lang),
                action=_action_label(ctx, e.action),
                actor=names.get(e.actor_id or 0) or ctx.t("captains.audit.system"),
                target=_target_label(ctx, e.target or "", names),
                region=await _area_name(ctx, e.region_code or ""),
            )
        )
    lines.append(ctx.t("captains.audit.total", n=len(entries)))
    await ctx.reply(Markup("\n").join(lines))


async def _area_name(ctx: Context, code: str) -> str:
    if not code:
        return str(ctx.t("captains.region.country"))
    return await names_of(ctx.app, code)


def _action_label(ctx: Context, action: str) -> str:
    key = f"captains.audit.action.{action}"
    if ctx.app.translator.has(key):
        return str(ctx.t(key))
    # A third-party plugin's action without a label: still readable, never a bare key.
    return str(ctx.t("captains.audit.action_other", action=action))


def _target_label(ctx: Context, target: str, names: dict[int, str]) -> str:
    kind, _, ident = target.partition(":")
    if not target or target == "-":
        return "-"
    if kind == "member" and ident.isdigit() and int(ident) in names:
        return names[int(ident)]
    key = f"captains.audit.target.{kind}"
    if ctx.app.translator.has(key):
        return str(ctx.t(key, id=ident))
    return target


def _abbr(zone: str) -> str:
    return zone_abbreviation(zone)
