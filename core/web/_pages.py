"""The dashboard kit: pages behind a session, rendered server-side with Jinja2.

A page handler takes ``(request, viewer)``; :func:`dashboard_page` loads the session, checks
the role (``admin=True`` pages are for the PMO only), checks the CSRF token of every POST
and audits every refusal. Region scoping is the handler's job, with :func:`forbidden`::

    @dashboard_page()
    async def region(request: web.Request, viewer: Viewer) -> web.StreamResponse:
        code = request.match_info["code"]
        if not viewer.sees(code):
            return await forbidden(request, viewer, region=code)
        return await render(request, "region.html", code=code)
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web

from core._humanize import format_percent
from core._i18n import LANGUAGES
from core.web._auth import Viewer, viewer_for
from core.web._server import APP_KEY

if TYPE_CHECKING:
    import jinja2

    from core._app import App

__all__ = [
    "LANG_COOKIE",
    "SESSION_COOKIE",
    "VIEWER_KEY",
    "DashboardPage",
    "PageHandler",
    "csv_response",
    "dashboard_page",
    "download",
    "forbidden",
    "language_of",
    "record_page",
    "render",
    "same_origin",
    "see_other",
    "templates",
]

log = logging.getLogger("core.web")

SESSION_COOKIE = "guyub_session"
LANG_COOKIE = "guyub_lang"
VIEWER_KEY: web.RequestKey[Viewer] = web.RequestKey("guyub_viewer", Viewer)

PageHandler = Callable[[web.Request, Viewer], Awaitable[web.StreamResponse]]
Record = TypeVar("Record")
RecordHandler = Callable[[web.Request, Viewer, Record], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class DashboardPage:
    """A link in the dashboard's menu, and where a plugin's templates live.

    ``label`` is a text key; ``admin`` hides the link from captains (the page itself must
    still refuse them: use ``dashboard_page(admin=True)``). ``templates`` is a package with
    a ``templates/`` folder (e.g. ``"plugins.polls"``); ``order`` sorts the menu.
    """

    path: str
    label: str
    admin: bool = False
    templates: str | None = None
    order: int = 50


def language_of(request: web.Request) -> str:
    """``?lang=`` (remembered in a cookie), the cookie, or the App's default language."""
    app = request.app[APP_KEY]
    for candidate in (request.query.get("lang"), request.cookies.get(LANG_COOKIE)):
        if candidate in LANGUAGES:
            return candidate
    return app.settings.language


def templates(app: App) -> jinja2.Environment:
    """The App's Jinja2 environment (built once): core templates first, then each
    dashboard page's package."""
    env: jinja2.Environment | None = app.services.get("web.templates")
    if env is not None:
        return env
    import jinja2

    packages = ["core.web"]
    for page in app.web.pages:
        if page.templates and page.templates not in packages:
            packages.append(page.templates)
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.PackageLoader(p, "templates") for p in packages]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _number
    env.filters["percent"] = _percent
    app.services["web.templates"] = env
    return env


def _number(value: Any, lang: str = "id") -> str:
    """1234567 → 1.234.567 (Indonesian) or 1,234,567 (English)."""
    if value is None:
        return "–"
    text = f"{int(value):,}"
    return text.replace(",", ".") if lang == "id" else text


def _percent(value: Any, lang: str = "id", digits: int = 1) -> str:
    """0.1234 → 12,3% (Indonesian) or 12.3% (English); None → –. As chat writes it."""
    return format_percent(None if value is None else float(value), lang, digits)


async def render(
    request: web.Request, template: str, *, status: int = 200, **context: Any
) -> web.Response:
    """Render a dashboard template with ``t`` (texts in the viewer's language), ``viewer``,
    ``csrf``, ``lang``, the menu and ``context``."""
    app = request.app[APP_KEY]
    lang = language_of(request)
    viewer = request.get(VIEWER_KEY)

    def t(key: str, **kwargs: Any) -> str:
        return str(app.translator(key, lang, **kwargs))

    menu = [
        page
        for page in sorted(app.web.pages, key=lambda p: (p.order, p.path))
        if viewer is not None and (viewer.is_admin or not page.admin)
    ]
    html = (
        templates(app)
        .get_template(template)
        .render(
            t=t,
            lang=lang,
            viewer=viewer,
            csrf=viewer.csrf if viewer else "",
            menu=menu,
            path=request.path,
            query=request.query_string,
            **context,
        )
    )
    response = web.Response(text=html, status=status, content_type="text/html")
    _secure_headers(response)
    if request.query.get("lang") in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE,
            lang,
            max_age=365 * 86400,
            httponly=True,
            samesite="Lax",
            secure=secure_cookies(app),
        )
    return response


def see_other(location: str) -> web.Response:
    """303 to ``location`` (after a form, or to the sign-in page)."""
    return web.Response(status=303, headers={"Location": location})


def _secure_headers(response: web.StreamResponse) -> None:
    # Everything is served by the app itself: no CDN, no inline script.
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"


def secure_cookies(app: App) -> bool:
    """Cookies carry ``Secure`` when people reach the dashboard over HTTPS."""
    return (app.settings.web.public_url or "").lower().startswith("https://")


async def forbidden(
    request: web.Request, viewer: Viewer | None, *, region: str | None = None, why: str = ""
) -> web.Response:
    """Answer 403 and write the attempt to the audit log."""
    app = request.app[APP_KEY]
    await app.audit.record(
        "web.forbidden",
        actor=viewer.member_id if viewer else None,
        target=f"{request.method} {request.path}",
        region=region,
        why=why or ("admin only" if region is None else "outside the viewer's regions"),
    )
    log.warning(
        "dashboard: %s refused %s %s",
        viewer.member_id if viewer else "-",
        request.method,
        request.path,
    )
    return await render(request, "forbidden.html", status=403)


def dashboard_page(*, admin: bool = False) -> Callable[[PageHandler], Callable[..., Any]]:
    """Make ``handler(request, viewer)`` a dashboard page (see the module docstring)."""

    def wrap(handler: PageHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        @wraps(handler)
        async def page(request: web.Request) -> web.StreamResponse:
            app = request.app[APP_KEY]
            viewer = await viewer_for(app, request.cookies.get(SESSION_COOKIE))
            if viewer is None:
                if request.method == "GET":
                    return see_other("/dasbor/login")
                return await forbidden(request, None, why="no session")
            request[VIEWER_KEY] = viewer
            if admin and not viewer.is_admin:
                return await forbidden(request, viewer)
            if request.method == "POST":
                if not same_origin(request):
                    return await forbidden(request, viewer, why="form posted from another site")
                form = await request.post()
                if not viewer.csrf_ok(_text(form.get("csrf"))):
                    return await forbidden(request, viewer, why="missing or wrong CSRF token")
            return await handler(request, viewer)

        return page

    return wrap


def record_page(
    load: Callable[[int], Awaitable[Record | None]],
    *,
    visible: Callable[[Viewer, Record], bool],
    region: Callable[[Record], str | None],
    key: str = "id",
) -> Callable[[RecordHandler[Record]], Callable[..., Any]]:
    """A dashboard page about one record named by its number in the URL
    (``/dasbor/events/{id}``): :func:`dashboard_page`'s checks, then the record loaded
    (404 when the number is not one or nothing has it), then 403, audited with the record's
    region, for a viewer who may not see it. The handler gets ``(request, viewer, record)``::

        event_page = record_page(
            lambda n: Event.get_or_none(id=n),
            visible=lambda viewer, e: not e.region_code or viewer.sees(e.region_code),
            region=lambda e: e.region_code or None,
        )

        @event_page
        async def event_ics(request, viewer, event): ...
    """

    def wrap(handler: RecordHandler[Record]) -> Callable[..., Any]:
        @wraps(handler)
        async def page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
            raw = request.match_info[key]
            record = await load(int(raw)) if raw.isdigit() and len(raw) < 10 else None
            if record is None:
                raise web.HTTPNotFound()
            if not visible(viewer, record):
                return await forbidden(request, viewer, region=region(record))
            return await handler(request, viewer, record)

        return dashboard_page()(page)

    return wrap


def download(
    body: bytes | str, *, filename: str, content_type: str, charset: str | None = None
) -> web.Response:
    """A file to download (``Content-Disposition: attachment``), never cached."""
    data = body.encode(charset or "utf-8") if isinstance(body, str) else body
    response = web.Response(body=data, content_type=content_type, charset=charset)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    _secure_headers(response)
    return response


def same_origin(request: web.Request) -> bool:
    """A browser's ``Origin`` header, when sent, names this site (the address people use,
    or the one the request came to). Forms posted from other sites are refused."""
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin is None
    app = request.app[APP_KEY]
    ours = {f"{request.scheme}://{request.host}", app.web.url}
    return origin.rstrip("/") in ours


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> web.Response:
    """A CSV download (UTF-8 with BOM so spreadsheet programs read Indonesian names)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    response = web.Response(
        body=("\ufeff" + buffer.getvalue()).encode("utf-8"), content_type="text/csv"
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    _secure_headers(response)
    return response


def _cell(value: Any) -> Any:
    # Spreadsheet formula injection: a cell must not start with = + - @ when it is text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
