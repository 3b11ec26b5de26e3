"""The dashboard's core pages, as a core plugin (always loaded): /dashboard (/dasbor) in a
private chat, sign-in and sign-out, the overview and the audit log.

Plugins add their own pages (regions, polls, events, broadcasts) with ``guyub_register_web``
and ``guyub_register_dashboard``, using the kit in :mod:`core.web`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from typing import TYPE_CHECKING, Any

from aiohttp import web
from tortoise.expressions import Q
from tortoise.functions import Count, Sum

from core._clock import utc
from core._commands import Command, Where
from core._i18n import load_texts
from core._markup import Markup, to_plain
from core._messages import Button, Message
from core._regions import in_areas
from core._roles import Role
from core._specs import PluginInfo
from core.hookspecs import hookimpl
from core.models import (
    Account,
    AuditEntry,
    Member,
    MemberTally,
    PlatformTally,
    RegistrationDay,
)
from core.web._auth import (
    LOGIN_PATH,
    Viewer,
    create_login_link,
    end_session,
    open_session,
    redeem_login_link,
)
from core.web._pages import (
    SESSION_COOKIE,
    DashboardPage,
    dashboard_page,
    language_of,
    render,
    same_origin,
    secure_cookies,
    see_other,
)
from core.web._server import APP_KEY
from core.web._svg import bar_chart
from core.web.models import LoginLink, WebSession

if TYPE_CHECKING:
    from core._app import App
    from core._context import Context

__all__ = ["by_platform", "core_figures"]

PLUGIN = PluginInfo(
    name="dashboard",
    version="0.1.0",
    description="The web dashboard: sign-in by one-time link, overview, audit log",
)

STATIC = resources.files("core.web").joinpath("static")


# --- chat: /dashboard --------------------------------------------------------------------


async def dashboard_command(ctx: Context) -> None:
    """A one-time sign-in link, in a private chat, for captains and admins."""
    assert ctx.member is not None
    link = await create_login_link(ctx.app, ctx.member.id)
    minutes = ctx.app.settings.web.login_link_minutes
    # Telegram refuses buttons to plain-HTTP or local addresses; the link is in the text too.
    buttons = [[Button(ctx.t("web.chat.open"), url=link)]] if link.startswith("https://") else []
    text = ctx.t("web.chat.link", link=link, minutes=minutes)
    await ctx.reply(Message(Markup(text), buttons=tuple(tuple(r) for r in buttons)), private=True)
    await ctx.app.audit.record("web.link_sent", actor=ctx.member.id)


@hookimpl
def guyub_register_commands() -> Sequence[Command]:
    return [
        Command(
            "dashboard",
            dashboard_command,
            "web.cmd.dashboard",
            alias="dasbor",
            role=Role.CAPTAIN,
            where=Where.DM,
            private=True,
        )
    ]


@hookimpl
def guyub_register_texts() -> dict[str, dict[str, str]]:
    return load_texts("core.web")


@hookimpl
async def guyub_export_member(member: Member) -> dict[str, Any] | None:
    sessions = await WebSession.filter(member_id=member.id).order_by("created_at")
    if not sessions:
        return None
    return {
        "dashboard_sessions": [
            {"signed_in_at": x.created_at.isoformat(), "expires_at": x.expires_at.isoformat()}
            for x in sessions
        ]
    }


@hookimpl
async def guyub_forget_member(member: Member) -> None:
    await WebSession.filter(member_id=member.id).delete()
    await LoginLink.filter(member_id=member.id).delete()


@hookimpl
async def guyub_on_members_merged(app: App, kept: Member, merged: Member) -> None:
    # Sign-ins of the merged member end; the kept member signs in again.
    await WebSession.filter(member_id=merged.id).delete()
    await LoginLink.filter(member_id=merged.id).delete()


# --- figures (the same definitions as /stats in chat) ---------------------------------------


async def core_figures(
    app: App, areas: Sequence[str] | None, weeks: int = 12
) -> tuple[dict[str, int], list[tuple[datetime, int]]]:
    """members, registered, active 7 and 30 days, new in 30 days, and the members who
    finished registration in each of the last ``weeks`` weeks (Monday 00:00 UTC).

    Members, registered and the weeks come from the tallies the database keeps per region
    (and per day), a row per region and day whatever the number of members; the activity
    windows count the entries of the member table's ``(last_active_at, region_code)`` and
    ``(created_at, region_code)`` indexes inside the window. The questions are independent
    and asked side by side (each connection of the pool takes one)."""
    now = app.clock.now()
    monday = (now - timedelta(days=now.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    starts = [monday - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]
    area = in_areas(areas)
    day7, day30 = now - timedelta(days=7), now - timedelta(days=30)
    totals, active, new_30d, days = await asyncio.gather(
        MemberTally.filter(area).annotate(m=Sum("members"), r=Sum("registered")).values("m", "r"),
        Member.filter(area, last_active_at__gte=day30)
        .annotate(
            active_30d=Count("last_active_at"),
            active_7d=Count("last_active_at", _filter=Q(last_active_at__gte=day7)),
        )
        .values("active_7d", "active_30d"),
        Member.filter(area, created_at__gte=day30).count(),
        RegistrationDay.filter(area, day__gte=starts[0].date())
        .annotate(n=Sum("registered"))
        .group_by("day")
        .values_list("day", "n"),
    )
    total = totals[0] if totals else {}
    windows = active[0] if active else {}
    figures = {
        "members": int(total.get("m") or 0),
        "registered": int(total.get("r") or 0),
        "active_7d": int(windows.get("active_7d") or 0),
        "active_30d": int(windows.get("active_30d") or 0),
        "new_30d": new_30d,
    }
    per_week = [0] * weeks
    for day, n in days:
        week = (day - starts[0].date()).days // 7
        if 0 <= week < weeks:
            per_week[week] += int(n or 0)
    return figures, list(zip(starts, per_week, strict=True))


FIGURES = ("members", "registered", "active_7d", "active_30d", "new_30d")


async def by_platform(app: App, areas: Sequence[str] | None) -> list[dict[str, Any]]:
    """Accounts per platform: joined and registered (from the platform tally the database
    keeps), active 7 and 30 days (accounts seen on that platform, from the
    ``(last_seen_at, platform)`` index)."""
    now = app.clock.now()
    day7, day30 = now - timedelta(days=7), now - timedelta(days=30)
    totals, active = await asyncio.gather(
        PlatformTally.filter(in_areas(areas))
        .annotate(joined=Sum("accounts"), done=Sum("registered"))
        .group_by("platform")
        .values("platform", "joined", "done"),
        Account.filter(in_areas(areas, "member__"), last_seen_at__gte=day30)
        .annotate(
            active_30d=Count("last_seen_at"),
            active_7d=Count("last_seen_at", _filter=Q(last_seen_at__gte=day7)),
        )
        .group_by("platform")
        .values("platform", "active_7d", "active_30d"),
    )
    windows = {str(row["platform"]): row for row in active}
    rows = []
    for row in totals:
        platform = str(row["platform"])
        seen = windows.get(platform, {})
        if not row["joined"]:
            continue
        rows.append(
            {
                "platform": platform,
                "joined": int(row["joined"] or 0),
                "registered": int(row["done"] or 0),
                "active_7d": int(seen.get("active_7d") or 0),
                "active_30d": int(seen.get("active_30d") or 0),
            }
        )
    return sorted(rows, key=lambda r: str(r["platform"]))


PLATFORM_COLUMNS = ("joined", "registered", "active_7d", "active_30d")


# --- web: sign-in ------------------------------------------------------------------------


async def login_help(request: web.Request) -> web.Response:
    return await render(request, "login.html")


async def login_confirm(request: web.Request) -> web.Response:
    # A GET never uses the link: chat apps fetch links for previews. The button POSTs it.
    return await render(request, "login_confirm.html", token=request.match_info["token"][:128])


async def login(request: web.Request) -> web.StreamResponse:
    app = request.app[APP_KEY]
    if not same_origin(request):
        # Login CSRF: another site must not sign a browser in with a link of its own.
        await app.audit.record("web.login_refused", target=request.remote or "", why="origin")
        return await render(request, "login_refused.html", status=403)
    form = await request.post()
    token = form.get("token")
    member_id = await redeem_login_link(app, token if isinstance(token, str) else "")
    if member_id is None:
        await app.audit.record("web.login_refused", target=request.remote or "")
        return await render(request, "login_refused.html", status=403)
    cookie = await open_session(app, member_id)
    await app.audit.record("web.login", actor=member_id)
    response = see_other("/dasbor")
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(app.settings.web.session_hours * 3600),
        httponly=True,
        samesite="Lax",
        secure=secure_cookies(app),
        path="/",
    )
    return response


@dashboard_page()
async def logout(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    app = request.app[APP_KEY]
    await end_session(request.cookies.get(SESSION_COOKIE, ""))
    await app.audit.record("web.logout", actor=viewer.member_id)
    response = see_other("/dasbor/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


# --- web: pages --------------------------------------------------------------------------


@dashboard_page()
async def overview(request: web.Request, viewer: Viewer) -> web.Response:
    app = request.app[APP_KEY]
    lang = language_of(request)
    areas = viewer.areas
    fresh = request.query.get("fresh") == "1"
    snapshot = await _overview_figures(app, areas, fresh=fresh)
    (figures, weeks), platforms, coverage = snapshot.figures
    regions = coverage.get("regions", {})
    region_rows = [r for r in regions.get("regions", []) if isinstance(r, dict)]
    flags = {
        key: regions[key]
        for key in ("without_captain", "without_group")
        if isinstance(regions.get(key), int)
    }
    chart = bar_chart(
        [(w.strftime("%d-%m"), float(n)) for w, n in weeks],
        title=str(app.translator("web.overview.per_week", lang)),
        value_label=[str(n) for _, n in weeks],
    )
    return await render(
        request,
        "overview.html",
        figures=figures,
        platforms=platforms,
        weeks=weeks,
        chart=chart,
        region_rows=region_rows,
        flags=flags,
        scope_names=[await app.regions.name(s) for s in viewer.scopes],
        as_of=snapshot.at,
    )


@dataclass(frozen=True, slots=True)
class _Snapshot:
    at: datetime
    figures: Any


async def _overview_figures(app: App, areas: Sequence[str] | None, *, fresh: bool) -> _Snapshot:
    """The overview's figures for a scope, counted at most every ``web.figures_cache_seconds``
    per process (the page says when; ``?fresh=1`` counts again). A national overview scans
    every member; a PMO office reloading it all day should not."""
    cache: dict[tuple[str, ...], _Snapshot] = app.services.setdefault("web.overview_cache", {})
    key = tuple(areas) if areas is not None else ("*",)
    now = app.clock.now()
    ttl = timedelta(seconds=app.settings.web.figures_cache_seconds)
    kept = cache.get(key)
    if kept is not None and not fresh and now - kept.at < ttl:
        return kept
    # Independent questions, asked side by side (each connection of the pool takes one).
    figures = await asyncio.gather(
        core_figures(app, areas),
        by_platform(app, areas),
        app.plugins.collect_stats(areas, app, only=("regions",)),
    )
    snapshot = _Snapshot(now, figures)
    if len(cache) > 1000:  # one entry per scope; captains' scopes are few
        cache.clear()
    cache[key] = snapshot
    return snapshot


@dashboard_page()
async def stats_page(request: web.Request, viewer: Viewer) -> web.Response:
    """Every plugin's figures for the viewer's regions, as /stats lists them in chat."""
    app = request.app[APP_KEY]
    lang = language_of(request)
    plugin_figures = await app.plugins.collect_stats(viewer.areas, app)
    sections = []
    for plugin, values in sorted(plugin_figures.items()):
        if not isinstance(values, dict):
            continue
        scalars = [
            (_label(app, f"{plugin}.stats.{key}", lang, key), value)
            for key, value in values.items()
            if isinstance(value, int | float) and not isinstance(value, bool)
        ]
        if scalars:
            sections.append((_label(app, f"web.plugin.{plugin}", lang, plugin), scalars))
    return await render(
        request,
        "stats.html",
        sections=sections,
        scope_names=[await app.regions.name(s) for s in viewer.scopes],
    )


def _label(app: App, key: str, lang: str, fallback: str) -> str:
    if not app.translator.has(key):
        return fallback
    # Chat texts may carry neutral markup (<b>); the page shows them as plain words.
    return to_plain(app.translator(key, lang))


@dashboard_page(admin=True)
async def audit_log(request: web.Request, viewer: Viewer) -> web.Response:
    query = AuditEntry.all()
    filters = {k: request.query.get(k, "").strip()[:64] for k in ("region", "actor", "action")}
    since = _date(request.query.get("from"))
    until = _date(request.query.get("to"))
    if filters["region"]:
        query = query.filter(
            Q(region_code=filters["region"]) | Q(region_code__startswith=filters["region"] + ".")
        )
    if filters["actor"].isdigit():
        query = query.filter(actor_id=int(filters["actor"]))
    if filters["action"]:
        query = query.filter(action__startswith=filters["action"])
    if since is not None:
        query = query.filter(at__gte=since)
    if until is not None:
        query = query.filter(at__lt=until + timedelta(days=1))
    entries = await query.order_by("-at", "-id").limit(200)
    return await render(
        request,
        "audit.html",
        entries=entries,
        filters=filters,
        since=request.query.get("from", "")[:10],
        until=request.query.get("to", "")[:10],
    )


def _date(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return utc(datetime.fromisoformat(text[:10]))
    except ValueError:
        return None


async def static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if name not in ("dashboard.css",):
        raise web.HTTPNotFound()
    response = web.Response(
        body=STATIC.joinpath(name).read_bytes(), content_type="text/css", charset="utf-8"
    )
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


async def alias(request: web.Request) -> web.StreamResponse:
    return web.Response(status=302, headers={"Location": "/dasbor"})


@hookimpl
def guyub_register_web() -> list[web.RouteDef]:
    return [
        web.get("/dasbor", overview),
        web.get("/dashboard", alias),
        web.get("/dasbor/login", login_help),
        web.get(LOGIN_PATH + "{token}", login_confirm),
        web.post("/dasbor/masuk", login),
        web.post("/dasbor/keluar", logout),
        web.get("/dasbor/stats", stats_page),
        web.get("/dasbor/audit", audit_log),
        web.get("/dasbor/static/{name}", static),
    ]


@hookimpl
def guyub_register_dashboard() -> Sequence[DashboardPage]:
    return [
        DashboardPage("/dasbor", "web.nav.overview", order=0),
        DashboardPage("/dasbor/stats", "web.nav.stats", order=60),
        DashboardPage("/dasbor/audit", "web.nav.audit", admin=True, order=90),
    ]
