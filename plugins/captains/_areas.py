"""Regions as captains type them, and the members and groups inside them.

An area is a region code (``11``, ``11.08``) or the empty code for the whole country. Only
core services are used: ``ctx.regions`` for names and matching, ``ctx.require_region`` for
the permission check.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from core import App, ChatRef, Context, Member, UsageError, clean_text, covers, in_areas

__all__ = [
    "Area",
    "area_codes_below",
    "default_areas",
    "names_of",
    "parse_areas",
    "resolve_area",
]

_CODE = re.compile(r"^\d{2}(\.\d{2,4}){0,3}$")
_WHOLE_COUNTRY = {"all", "semua", "nasional", "national", "indonesia", "*"}


@dataclass(frozen=True, slots=True)
class Area:
    """A region a command is about; ``code == ""`` is the whole country."""

    code: str
    name: str


async def resolve_area(ctx: Context, text: str) -> Area:
    """A region from what was typed (a code, a name, an abbreviation); asks when unsure."""
    text = clean_text(text)
    if text.lower() in _WHOLE_COUNTRY:
        return Area("", str(ctx.t("captains.region.country")))
    if _CODE.match(text):
        info = await ctx.regions.get(text)
        return Area(text, info.name if info else text)
    match = await ctx.regions.match(text)
    best = match.best
    if best is not None and (match.certain or len(match.candidates) == 1):
        return Area(best.code, best.name)
    if match.candidates:
        choices = ", ".join(f"{c.name} ({c.code})" for c in match.candidates[:5])
        raise UsageError("captains.region.ambiguous", text=text[:64], choices=choices)
    raise UsageError("captains.region.unknown", text=text[:64])


async def parse_areas(ctx: Context, text: str | None) -> list[Area]:
    """Comma-separated regions, each checked against the member's scope (in the core);
    nothing typed means every region the member coordinates."""
    if not text or not text.strip():
        return await default_areas(ctx)
    areas: list[Area] = []
    for part in text.split(","):
        if part.strip():
            area = await resolve_area(ctx, part)
            await ctx.require_region(area.code)
            if area not in areas:
                areas.append(area)
    return areas


async def default_areas(ctx: Context) -> list[Area]:
    assert ctx.member is not None
    if await ctx.roles.is_admin(ctx.member.id):
        return [Area("", str(ctx.t("captains.region.country")))]
    scopes = await ctx.roles.captain_scopes(ctx.member.id)
    if not scopes:
        raise UsageError("captains.region.none")
    return [Area(code, await names_of(ctx.app, code)) for code in scopes]


async def names_of(app: App, code: str) -> str:
    return await app.regions.name(code) if code else "Indonesia"


async def area_codes_below(codes: Sequence[str]) -> list[str]:
    """The areas themselves and every region inside them where members live."""
    found = set(c for c in codes if c)
    present = await Member.filter(in_areas(codes)).distinct().values_list("region_code", flat=True)
    found.update(str(c) for c in present if c and any(covers(a, str(c)) for a in codes))
    return sorted(found)


async def group_area(ctx: Context) -> str | None:
    """The region of the group this event came from, looked up among the regions the member
    manages (admins: among all regions with members); None if it is no regional group."""
    assert ctx.member is not None
    assert ctx.chat is not None
    if await ctx.roles.is_admin(ctx.member.id):
        scopes = [""]
    else:
        scopes = await ctx.roles.captain_scopes(ctx.member.id)
    for code in await area_codes_below(scopes):
        chats: list[ChatRef] = await ctx.regions.chats(code)
        if ctx.chat in chats:
            return code
    return None
