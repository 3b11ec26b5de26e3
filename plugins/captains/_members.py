"""/members: counts and a paginated list for the captain's regions, and the member export
(CSV in chat, ``guyub export members`` on the command line). The export holds exactly the
columns in :data:`COLUMNS`, never more personal data."""

from __future__ import annotations

import io
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Any, TextIO

from core import (
    Account,
    App,
    Attachment,
    AttachmentKind,
    Button,
    Context,
    CsvWriter,
    Markup,
    Member,
    Message,
    PermissionDenied,
    format_moment,
    format_number,
    in_areas,
)
from plugins.captains._areas import names_of, parse_areas

__all__ = ["COLUMNS", "counts", "export_members", "member_rows", "members_command", "on_button"]

ACTION = "captains:members"
COLUMNS = (
    "member_id",
    "display_name",
    "region_code",
    "region_name",
    "platforms",
    "registered_at",
    "last_active_at",
    "language",
)


async def counts(app: App, codes: Sequence[str]) -> dict[str, int]:
    """Joined, registered and active in the last 30 days."""
    area = Member.filter(in_areas(codes))
    since = app.clock.now() - timedelta(days=30)
    return {
        "joined": await area.count(),
        "registered": await Member.filter(in_areas(codes), registered_at__isnull=False).count(),
        "active_30d": await Member.filter(in_areas(codes), last_active_at__gte=since).count(),
    }


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


async def member_rows(
    app: App, codes: Sequence[str], page: int = 5000
) -> AsyncIterator[dict[str, Any]]:
    """Export rows, member by member in id order, read a page at a time."""
    last = 0
    while True:
        members = await Member.filter(in_areas(codes), id__gt=last).order_by("id").limit(page)
        if not members:
            return
        ids = [m.id for m in members]
        platforms: dict[int, set[str]] = defaultdict(set)
        for member_id, platform in await Account.filter(member_id__in=ids).values_list(
            "member_id", "platform"
        ):
            platforms[int(member_id)].add(str(platform))
        for m in members:
            yield {
                "member_id": m.id,
                "display_name": m.display_name,
                "region_code": m.region_code or "",
                "region_name": await app.regions.name(m.region_code) if m.region_code else "",
                "platforms": ";".join(sorted(platforms[m.id])),
                "registered_at": _iso(m.registered_at),
                "last_active_at": _iso(m.last_active_at),
                "language": m.language,
            }
        last = ids[-1]


async def export_members(app: App, codes: Sequence[str], fmt: str, out: TextIO) -> int:
    """Write the members of the areas as CSV or JSON; returns how many."""
    n = 0
    if fmt == "csv":
        writer = CsvWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        async for row in member_rows(app, codes):
            writer.writerow(row)
            n += 1
        return n
    out.write("[")
    async for row in member_rows(app, codes):
        out.write(("," if n else "") + "\n  " + json.dumps(row, ensure_ascii=False))
        n += 1
    out.write("\n]\n")
    return n


async def members_command(ctx: Context, region: str | None = None) -> None:
    areas = await parse_areas(ctx, region)
    await _show(ctx, [a.code for a in areas], 0)


async def _show(ctx: Context, codes: list[str], page: int) -> None:
    assert ctx.member is not None
    size = ctx.settings("captains").members_page_size
    figures = await counts(ctx.app, codes)
    names = ", ".join([await names_of(ctx.app, c) for c in codes])
    zone = await ctx.regions.timezone(codes[0] if len(codes) == 1 and codes[0] else None)
    lines = [
        ctx.t("captains.members.title", regions=names),
        ctx.t(
            "captains.stats.as_of", at=format_moment(ctx.now(), zone, ctx.app.translator, ctx.lang)
        ),
        ctx.t(
            "captains.members.counts", **{k: format_number(v, ctx.lang) for k, v in figures.items()}
        ),
        Markup(""),
    ]
    members = (
        await Member.filter(in_areas(codes))
        .order_by("display_name", "id")
        .offset(page * size)
        .limit(size)
    )
    for i, m in enumerate(members, page * size + 1):
        lines.append(
            ctx.t(
                "captains.members.row",
                n=i,
                name=m.display_name,
                id=m.id,
                region=await ctx.regions.name(m.region_code)
                if m.region_code
                else ctx.t("captains.members.no_region"),
            )
        )
    pages = max(1, -(-figures["joined"] // size))
    lines.append(ctx.t("captains.members.page", page=page + 1, pages=pages))
    me = ctx.member.id
    buttons = []
    if page > 0:
        buttons.append(
            Button(
                str(ctx.t("captains.button.prev")), ACTION, {"r": codes, "p": page - 1}, only_for=me
            )
        )
    if page + 1 < pages:
        buttons.append(
            Button(
                str(ctx.t("captains.button.next")), ACTION, {"r": codes, "p": page + 1}, only_for=me
            )
        )
    buttons.append(
        Button(str(ctx.t("captains.button.csv")), ACTION, {"r": codes, "csv": True}, only_for=me)
    )
    await ctx.reply(Markup("\n").join(lines), buttons=[buttons])


async def on_button(ctx: Context, data: dict[str, Any]) -> None:
    codes = [str(c) for c in data.get("r", [])]
    # The scope is checked again on every press (a captain removed since can't page on).
    for code in codes:
        await ctx.require_region(code)
    if not codes:
        raise PermissionDenied()
    if data.get("csv"):
        buffer = io.StringIO()
        n = await export_members(ctx.app, codes, "csv", buffer)
        await ctx.audit("captains.members.export", region=codes[0] or None, rows=n, regions=codes)
        file = Attachment(
            AttachmentKind.FILE,
            "members.csv",
            buffer.getvalue().encode("utf-8"),
            caption=str(ctx.t("captains.members.csv_caption", n=n)),
            mime_type="text/csv",
        )
        message = Message(ctx.t("captains.members.csv_caption", n=n), attachments=(file,))
        await ctx.reply(message, private=True)
        return
    await _show(ctx, codes, max(0, int(data.get("p", 0))))
