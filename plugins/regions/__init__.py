"""Regions: Indonesia's provinces and kabupaten/kota, matching what members type, region
groups and captains per region.

It answers the core's region questions (``guyub_resolve_region``, ``..._match``,
``..._chats``) so every plugin gets names, hierarchy, time zones and matching through
``ctx.regions`` without importing this plugin.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core import (
    Action,
    App,
    ChatKind,
    ChatRef,
    CliCommand,
    Command,
    Context,
    JobKind,
    Member,
    ModelModule,
    PluginInfo,
    RegionInfo,
    RegionMatch,
    Role,
    RoleGrant,
    covers,
    hookimpl,
    load_texts,
    scope_chain,
)
from plugins.regions import _cli, _commands, _roles, _web
from plugins.regions._gazetteer import gazetteer
from plugins.regions._stats import region_rows
from plugins.regions._sync import sync_regions
from plugins.regions.models import RegionChat

PLUGIN = PluginInfo(
    name="regions",
    version="0.1.0",
    description="Provinces and kabupaten/kota, region matching, region groups and captains",
)


@hookimpl
def guyub_register_models() -> Sequence[ModelModule]:
    return [
        ModelModule(
            app="regions",
            models=("plugins.regions.models",),
            migrations="plugins.regions.migrations",
        )
    ]


@hookimpl
def guyub_register_commands() -> Sequence[Command]:
    return _commands.commands()


@hookimpl
def guyub_register_actions() -> Sequence[Action]:
    return _commands.actions()


@hookimpl
def guyub_register_cli() -> Sequence[CliCommand]:
    return _cli.commands()


@hookimpl
def guyub_register_web() -> list[Any]:
    return list(_web.routes())


@hookimpl
def guyub_register_dashboard() -> list[Any]:
    return list(_web.pages())


@hookimpl
def guyub_register_jobs() -> list[JobKind]:
    return _roles.jobs()


@hookimpl
def guyub_register_texts() -> dict[str, dict[str, str]]:
    return load_texts(__name__)


@hookimpl
async def guyub_on_startup(app: App) -> None:
    await sync_regions()


@hookimpl
async def guyub_on_member_onboarded(ctx: Context, member: Member) -> None:
    # The newcomer sees their captains and region groups (with invite links) straight away.
    if ctx.chat is not None and member.region_code in gazetteer().regions:
        await ctx.reply(await _commands.region_card(ctx, member.region_code))


@hookimpl
async def guyub_on_member_region_changed(
    ctx: Context, member: Member, old_region: str | None, new_region: str | None
) -> None:
    await _roles.move(ctx.app, member, old_region, new_region)
    # A first region is shown by guyub_on_member_onboarded; a later move gets the new card.
    if old_region is not None and ctx.chat is not None and new_region in gazetteer().regions:
        await ctx.reply(await _commands.region_card(ctx, new_region))


@hookimpl
def guyub_resolve_region(code: str) -> RegionInfo | None:
    return gazetteer().get(code.strip())


@hookimpl
def guyub_resolve_region_children(code: str) -> list[RegionInfo] | None:
    code = code.strip()
    if not code:
        return sorted(gazetteer().provinces, key=lambda r: r.code)
    if "." in code:
        return [] if gazetteer().get(code) is not None else None
    if gazetteer().get(code) is None:
        return None
    return sorted(gazetteer().children(code), key=lambda r: r.code)


@hookimpl
def guyub_resolve_region_match(text: str) -> RegionMatch | None:
    return _commands.matcher().match(text)


@hookimpl
async def guyub_resolve_region_chats(code: str) -> Sequence[ChatRef] | None:
    rows = await RegionChat.filter(region_code=code).order_by("platform", "id")
    return [
        ChatRef(
            r.platform, r.chat_id, ChatKind.GROUP, title=r.title or None, thread=r.thread_id or None
        )
        for r in rows
    ]


@hookimpl
def guyub_resolve_completions(
    source: str, text: str, ctx: Context | None
) -> Sequence[tuple[str, str]] | None:
    if source != "regions":
        return None
    book = gazetteer()
    if not text.strip():
        return [(f"Provinsi {r.name}", r.code) for r in book.provinces][:25]
    found = _commands.matcher().match(text)
    return [(book.label(r.code), r.code) for r in found.candidates][:25]


@hookimpl
async def guyub_collect_stats(region_codes: Sequence[str] | None, app: App) -> dict[str, Any]:
    """Members per region one level below each scope (provinces for the country, kabupaten/
    kota for a province; a kabupaten/kota stands for itself), largest first, so that the rows
    add up to the scope's total."""
    book = gazetteer()
    codes: list[str] = []
    for scope in region_codes if region_codes is not None else [""]:
        if scope == "":
            codes.extend(r.code for r in book.provinces)
        elif scope in book.regions:
            children = [r.code for r in book.children(scope)]
            codes.extend(children or [scope])
    rows = await region_rows(dict.fromkeys(codes))
    rows.sort(key=lambda row: (-row.members, row.code))
    return {
        "regions": [row.as_dict() for row in rows],
        **await _uncovered(region_codes),
    }


async def _uncovered(region_codes: Sequence[str] | None) -> dict[str, int]:
    """Kabupaten/kota inside the scopes with no captain (of their own or of their
    province) and with no group bound to them or to their province."""
    book = gazetteer()
    scopes = [c for c in region_codes or [""]]
    places = [
        r.code
        for r in book.regions.values()
        if r.parent_code is not None and any(covers(s, r.code) for s in scopes)
    ]
    captained = set(await RoleGrant.filter(role=Role.CAPTAIN.label).values_list("scope", flat=True))
    bound = set(await RegionChat.all().values_list("region_code", flat=True))
    return {
        "without_captain": sum(1 for c in places if not captained & set(scope_chain(c))),
        "without_group": sum(1 for c in places if not bound & set(scope_chain(c))),
    }


@hookimpl
async def guyub_export_member(member: Member) -> dict[str, Any] | None:
    linked = await RegionChat.filter(linked_by_id=member.id).values_list(
        "region_code", "platform", "title"
    )
    region = gazetteer().get(member.region_code or "")
    return {
        "region": {"code": region.code, "name": region.name} if region else None,
        "groups_linked": [
            {"region": code, "platform": platform, "title": title}
            for code, platform, title in linked
        ],
    }


@hookimpl
async def guyub_forget_member(member: Member) -> None:
    # The group stays bound to its region; only who bound it is personal.
    await RegionChat.filter(linked_by_id=member.id).update(linked_by_id=None)


@hookimpl
async def guyub_on_members_merged(app: App, kept: Member, merged: Member) -> None:
    await RegionChat.filter(linked_by_id=merged.id).update(linked_by_id=kept.id)
