"""The dashboard's Regions pages: provinces as a tile grid coloured by coverage, drilling
into kabupaten/kota (members, captains, bound groups, coverage, last activity), and the
PMO's upload of official recipient counts.

Figures come from :func:`region_rows`, the same counting ``/regions`` and ``/stats`` use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web

from core import (
    AuditEntry,
    RegionInfo,
    Role,
    RoleGrant,
    format_percent,
    last_activity,
    scope_chain,
)
from core.web import (
    APP_KEY,
    DashboardPage,
    Tile,
    Viewer,
    coverage_class,
    csv_response,
    dashboard_page,
    forbidden,
    language_of,
    render,
    tile_map,
)
from plugins.regions._cli import parse_recipients, store_recipients
from plugins.regions._gazetteer import gazetteer
from plugins.regions._map import PROVINCE_TILES
from plugins.regions._stats import RegionCount, region_rows
from plugins.regions.models import RegionChat

__all__ = ["pages", "routes"]

CSV_HEADER = (
    "code",
    "name",
    "members",
    "registered",
    "recipients",
    "coverage",
    "captains",
    "groups",
)
SORTS = ("code", "name", "members", "registered", "recipients", "coverage")


@dataclass
class RegionLine:
    """One row of a regions table: the chat's figures plus what the PMO watches for."""

    count: RegionCount
    captains: list[str] = field(default_factory=list)
    groups: list[RegionChat] = field(default_factory=list)
    last_active: datetime | None = None
    tile: str = "cov-none"

    @property
    def code(self) -> str:
        return self.count.code

    @property
    def no_captain(self) -> bool:
        return not self.captains

    @property
    def no_group(self) -> bool:
        return not self.groups


async def _lines(codes: Sequence[str]) -> list[RegionLine]:
    """Rows for ``codes`` with captains (their own or from above), own groups, last activity."""
    counts = await region_rows(codes)
    grants = await RoleGrant.filter(role=Role.CAPTAIN.label).prefetch_related("member")
    chats = await RegionChat.filter(region_code__in=list(codes)).order_by("platform", "title")
    lines = []
    for count in counts:
        chain = scope_chain(count.code)
        names = sorted(
            {g.member.display_name or f"#{g.member_id}" for g in grants if g.scope in chain}
        )
        lines.append(
            RegionLine(
                count,
                captains=names,
                groups=[c for c in chats if c.region_code == count.code],
                tile=coverage_class(count.coverage),
            )
        )
    latest = await last_activity(list(gazetteer().regions))
    for line in lines:
        stamps = [
            at
            for code, at in latest.items()
            if code == line.code or code.startswith(line.code + ".")
        ]
        line.last_active = max(stamps) if stamps else None
    return lines


def _sorted(lines: list[RegionLine], key: str, descending: bool) -> list[RegionLine]:
    def value(line: RegionLine) -> Any:
        if key == "name":
            return line.count.name
        if key == "code":
            return line.code
        raw = line.count.coverage if key == "coverage" else getattr(line.count, key)
        return -1 if raw is None else raw

    return sorted(lines, key=value, reverse=descending)


def _province_map(request: web.Request, lines: Sequence[RegionLine]) -> str:
    """The 38 provinces as a tile map coloured by coverage, each tile a link to its page."""
    app = request.app[APP_KEY]
    lang = language_of(request)
    tiles = []
    for line in lines:
        if line.code not in PROVINCE_TILES:
            continue
        column, row, short = PROVINCE_TILES[line.code]
        figure = format_percent(line.count.coverage, lang)
        tiles.append(
            Tile(
                column,
                row,
                short,
                str(app.translator("regions.web.map_tile", lang, name=line.count.name)),
                figure,
                line.count.coverage,
                f"/dasbor/regions/{line.code}",
            )
        )
    return tile_map(tiles, title=str(app.translator("regions.web.map_title", lang)))


def _visible_codes(viewer: Viewer) -> list[str]:
    """The regions a viewer's Regions page starts from."""
    book = gazetteer()
    if viewer.areas is None:
        return [r.code for r in book.provinces]
    return [code for code in viewer.scopes if code in book.regions]


async def _table_page(
    request: web.Request,
    viewer: Viewer,
    codes: list[str],
    *,
    region: RegionInfo | None,
) -> web.StreamResponse:
    sort = request.query.get("sort", "code")
    sort = sort if sort in SORTS else "code"
    descending = (
        request.query.get("dir", "desc" if sort not in ("code", "name") else "asc") == "desc"
    )
    # One pass over the members for the region itself and the rows below it.
    everything = await _lines([*codes, region.code] if region is not None else codes)
    own = everything.pop() if region is not None else None
    lines = _sorted(everything, sort, descending)
    if request.query.get("format") == "csv":
        name = f"wilayah-{region.code if region else 'indonesia'}.csv"
        return csv_response(
            name,
            CSV_HEADER,
            [
                [
                    line.code,
                    line.count.name,
                    line.count.members,
                    line.count.registered,
                    line.count.recipients if line.count.recipients is not None else "",
                    f"{line.count.coverage:.6f}" if line.count.coverage is not None else "",
                    len(line.captains),
                    len(line.groups),
                ]
                for line in lines
            ],
        )
    return await render(
        request,
        "regions.html",
        map_svg=_province_map(request, lines) if region is None and viewer.areas is None else "",
        region=region,
        own=own,
        lines=lines,
        sort=sort,
        descending=descending,
        province=gazetteer().province_of(region.code) if region else None,
    )


@dashboard_page()
async def regions_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    return await _table_page(request, viewer, _visible_codes(viewer), region=None)


@dashboard_page()
async def region_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    code = request.match_info["code"][:16]
    book = gazetteer()
    region = book.get(code)
    if region is None:
        raise web.HTTPNotFound()
    if not viewer.sees(code):
        return await forbidden(request, viewer, region=code)
    children = [r.code for r in book.children(code)] if region.parent_code is None else []
    return await _table_page(request, viewer, children, region=region)


@dashboard_page(admin=True)
async def recipients_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    app = request.app[APP_KEY]
    problems: list[str] = []
    imported = None
    if request.method == "POST":
        form = await request.post()
        upload = form.get("file")
        raw = getattr(upload, "file", None)
        data = raw.read() if raw is not None else b""
        lang = language_of(request)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = ""
            problems.append(str(app.translator("regions.recipients.error.encoding", lang)))
        if not problems:
            counts, found = parse_recipients(text)
            problems = [
                str(
                    app.translator(f"regions.recipients.error.{kind}", lang, line=line, value=value)
                )
                for line, kind, value in found
            ]
            if not problems:
                source = getattr(upload, "filename", "") or "upload"
                await store_recipients(app, counts, source=f"web:{source}", actor=viewer.member_id)
                imported = len(counts)
    last = await AuditEntry.filter(action="regions.import_recipients").order_by("-at").first()
    return await render(
        request,
        "recipients.html",
        problems=problems,
        imported=imported,
        last=last,
        status=400 if problems else 200,
    )


def routes() -> list[web.RouteDef]:
    return [
        web.get("/dasbor/regions", regions_page),
        web.get("/dasbor/regions/{code}", region_page),
        web.get("/dasbor/recipients", recipients_page),
        web.post("/dasbor/recipients", recipients_page),
    ]


def pages() -> list[DashboardPage]:
    return [
        DashboardPage("/dasbor/regions", "regions.web.nav", templates="plugins.regions", order=10),
        DashboardPage(
            "/dasbor/recipients",
            "regions.recipients.nav",
            admin=True,
            templates="plugins.regions",
            order=80,
        ),
    ]
