"""Captain management: add, remove, list and hand over regions. Admins appoint captains;
a captain may hand their own regions to someone else. Role changes are audited by the core."""

from __future__ import annotations

import contextlib

from tortoise.transactions import in_transaction

from core import (
    App,
    Context,
    Markup,
    Member,
    PermissionDenied,
    Role,
    RoleGrant,
    Text,
    Unreachable,
    UsageError,
    covers,
)
from plugins.captains._areas import names_of, parse_areas, resolve_area

__all__ = ["captain_add", "captain_handover", "captain_list", "captain_remove", "list_captains"]


async def captain_add(ctx: Context, member: Member | None, region: str) -> None:
    assert ctx.member is not None
    if member is None:
        raise UsageError("captains.captain.who")
    area = await resolve_area(ctx, region)
    if area.code == "":
        raise UsageError("captains.captain.no_country")
    created = await ctx.roles.grant(member.id, Role.CAPTAIN, area.code, by=ctx.member.id)
    key = "captains.captain.added" if created else "captains.captain.already"
    await ctx.reply(ctx.t(key, name=member.display_name, region=area.name, code=area.code))
    if created:
        # Unreachable: they have not opened a private chat yet; the reply above is enough.
        with contextlib.suppress(Unreachable):
            await ctx.send_dm(member, Text("captains.captain.welcome", region=area.name))


async def captain_remove(ctx: Context, member: Member | None, region: str | None = None) -> None:
    assert ctx.member is not None
    if member is None:
        raise UsageError("captains.captain.who")
    if region:
        codes = [(await resolve_area(ctx, region)).code]
    else:
        codes = await ctx.roles.captain_scopes(member.id)
    removed = [
        c for c in codes if await ctx.roles.revoke(member.id, Role.CAPTAIN, c, by=ctx.member.id)
    ]
    if not removed:
        await ctx.reply(ctx.t("captains.captain.not_captain", name=member.display_name))
        return
    names = ", ".join([await names_of(ctx.app, c) for c in removed])
    await ctx.reply(ctx.t("captains.captain.removed", name=member.display_name, regions=names))


async def list_captains(app: App, codes: list[str]) -> list[tuple[Member, str, str]]:
    """(captain, region code, region name) for captain scopes inside the areas."""
    # Captain grants are few (hundreds nationally): filter the hierarchy in Python.
    grants = await RoleGrant.filter(role=Role.CAPTAIN.label).prefetch_related("member")
    rows = [
        (g.member, g.scope, await names_of(app, g.scope))
        for g in sorted(grants, key=lambda g: (g.scope, g.member_id))
        if any(covers(c, g.scope) or covers(g.scope, c) for c in codes)
    ]
    return rows


async def captain_list(ctx: Context, region: str | None = None) -> None:
    areas = await parse_areas(ctx, region)
    rows = await list_captains(ctx.app, [a.code for a in areas])
    if not rows:
        await ctx.reply(ctx.t("captains.captain.list_empty"))
        return
    lines = [ctx.t("captains.captain.list_title", regions=", ".join(a.name for a in areas))]
    lines += [
        ctx.t("captains.captain.list_row", name=m.display_name, id=m.id, region=name, code=code)
        for m, code, name in rows
    ]
    await ctx.reply(Markup("\n").join(lines))


async def captain_handover(
    ctx: Context, old: Member | None, new: Member | None, region: str | None = None
) -> None:
    """Move regions from one captain to another in one step."""
    assert ctx.member is not None
    if old is None or new is None:
        raise UsageError("captains.captain.who")
    admin = await ctx.roles.is_admin(ctx.member.id)
    if not admin and old.id != ctx.member.id:
        raise PermissionDenied("captains.captain.handover_own")
    if old.id == new.id:
        raise UsageError("captains.captain.handover_same")
    scopes = await ctx.roles.captain_scopes(old.id)
    if region:
        wanted = (await resolve_area(ctx, region)).code
        scopes = [s for s in scopes if s == wanted]
    if not scopes:
        await ctx.reply(ctx.t("captains.captain.not_captain", name=old.display_name))
        return
    for code in scopes:
        await ctx.require_region(code)
    async with in_transaction():
        for code in scopes:
            await ctx.roles.revoke(old.id, Role.CAPTAIN, code, by=ctx.member.id)
            await ctx.roles.grant(new.id, Role.CAPTAIN, code, by=ctx.member.id)
        await ctx.audit(
            "captains.handover",
            target=f"member:{new.id}",
            region=scopes[0],
            old=old.id,
            new=new.id,
            regions=scopes,
        )
    names = ", ".join([await names_of(ctx.app, c) for c in scopes])
    await ctx.reply(
        ctx.t(
            "captains.captain.handed_over",
            old=old.display_name,
            new=new.display_name,
            regions=names,
        )
    )
