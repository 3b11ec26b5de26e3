"""The dashboard's core pages, as a core plugin (always loaded): /dashboard (/dasbor) in a
private chat, sign-in and sign-out, the overview and the audit log.

Plugins add their own pages (regions, polls, events, broadcasts) with ``guyub_register_web``
and ``guyub_register_dashboard``, using the kit in :mod:`core.web`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from importlib import resources
from typing import TYPE_CHECKING, Any

from aiohttp import web
from tortoise.expressions import Q
from tortoise.functions import Count

from core._clock import utc
from core._commands import Command, Where
from core._i18n import load_texts
from core._markup import Markup, to_plain
from core._messages import Button, Message
from core._roles import Role
from core._specs import PluginInfo
from core.hookspecs import hookimpl
from core.models import Account, AuditEntry, Member
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
    secure_cookies,
    see_other,
)
from core.web._server import APP_KEY
from core.web._svg import bar_chart

if TYPE_CHECKING:
    from core._app import App
    from core._context import Context

__all__ = ["area_filter", "core_figures"]

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


# --- figures (the same definitions as /stats in chat) ---------------------------------------


def area_filter(areas: Sequence[str] | None, prefix: str = "") -> Q:
    """Rows of members inside the areas (None: the whole country, members without a region
    included, as /stats counts them)."""
    if areas is None or "" in areas:
        return Q()
    field = f"{prefix}region_code"
    nothing: dict[str, Any] = {f"{field}__in": []}
    query = Q(**nothing)
    for code in areas:
        query |= Q(**{field: code}) | Q(**{f"{field}__startswith": code + "."})
    return query


async def core_figures(app: App, areas: Sequence[str] | None) -> dict[str, int]:
    """members, registered, active 7 and 30 days, new in 30 days."""
    now = app.clock.now()
    area = area_filter(areas)
    return {
        "members": await Member.filter(area).count(),
        "registered": await Member.filter(area, registered_at__isnull=False).count(),
        "active_7d": await Member.filter(area, last_active_at__gte=now - timedelta(days=7)).count(),
        "active_30d": await Member.filter(
            area, last_active_at__gte=now - timedelta(days=30)
        ).count(),
        "new_30d": await Member.filter(area, created_at__gte=now - timedelta(days=30)).count(),
    }


async def by_platform(app: App, areas: Sequence[str] | None) -> list[dict[str, Any]]:
    """Accounts per platform: joined, registered, active 7 and 30 days."""
    now = app.clock.now()
    area = area_filter(areas, "member__")
    out: dict[str, dict[str, Any]] = {}
    columns: list[tuple[str, Q]] = [
        ("joined", Q()),
        ("registered", Q(member__registered_at__isnull=False)),
        ("active_7d", Q(member__last_active_at__gte=now - timedelta(days=7))),
        ("active_30d", Q(member__last_active_at__gte=now - timedelta(days=30))),
    ]
    for column, condition in columns:
        rows = (
            await Account.filter(area, condition)
            .annotate(n=Count("id"))
            .group_by("platform")
            .values("platform", "n")
        )
        for row in rows:
            entry = out.setdefault(str(row["platform"]), {"platform": str(row["platform"])})
            entry[column] = int(row["n"])
    return [
        {"joined": 0, "registered": 0, "active_7d": 0, "active_30d": 0, **entry}
        for _, entry in sorted(out.items())
    ]


async def registrations_per_week(
    app: App, areas: Sequence[str] | None, weeks: int = 12
) -> list[tuple[datetime, int]]:
    """Members who finished registration, per week (Monday 00:00 UTC), the last ``weeks``."""
    now = app.clock.now()
    start = (now - timedelta(days=now.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    ) - timedelta(weeks=weeks - 1)
    stamps = await Member.filter(area_filter(areas), registered_at__gte=start).values_list(
        "registered_at", flat=True
    )
    counts = [0] * weeks
    for stamp in stamps:
        if isinstance(stamp, datetime):
            index = (utc(stamp) - start).days // 7
            if 0 <= index < weeks:
                counts[index] += 1
    return [(start + timedelta(weeks=i), counts[i]) for i in range(weeks)]


# --- web: sign-in ------------------------------------------------------------------------


async def login_help(request: web.Request) -> web.Response:
    return await render(request, "login.html")


async def login_confirm(request: web.Request) -> web.Response:
    # A GET never uses the link: chat apps fetch links for previews. The button POSTs it.
    return await render(request, "login_confirm.html", token=request.match_info["token"][:128])


async def login(request: web.Request) -> web.StreamResponse:
    app = request.app[APP_KEY]
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
    figures = await core_figures(app, areas)
    platforms = await by_platform(app, areas)
    weeks = await registrations_per_week(app, areas)
    plugin_figures = await app.plugins.collect_stats(areas, app)
    region_rows = [
        r for r in plugin_figures.get("regions", {}).get("regions", []) if isinstance(r, dict)
    ]
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
        sections=sections,
        region_rows=region_rows,
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
        web.get("/dasbor/audit", audit_log),
        web.get("/dasbor/static/{name}", static),
    ]


@hookimpl
def guyub_register_dashboard() -> Sequence[DashboardPage]:
    return [
        DashboardPage("/dasbor", "web.nav.overview", order=0),
        DashboardPage("/dasbor/audit", "web.nav.audit", admin=True, order=90),
    ]
