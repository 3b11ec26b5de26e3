"""The App's web server: one aiohttp application per App, for the dashboard, health checks,
metrics and any plugin's pages.

Mount routes before the server starts, either from core code (``app.web.add_routes(...)``)
or from a plugin through the ``guyub_register_web`` hook::

    from aiohttp import web
    from core.web import APP_KEY

    routes = web.RouteTableDef()

    @routes.get("/hello")
    async def hello(request: web.Request) -> web.Response:
        app = request.app[APP_KEY]  # the Guyub App
        return web.Response(text=f"{len(app.plugins.names())} plugins")

    @hookimpl
    def guyub_register_web():
        return routes
"""

from __future__ import annotations

from core.web._auth import Viewer, create_login_link
from core.web._pages import (
    DashboardPage,
    csv_response,
    dashboard_page,
    download,
    forbidden,
    language_of,
    record_page,
    render,
    see_other,
)
from core.web._server import APP_KEY, WebServer, parse_listen
from core.web._svg import COVERAGE_COLOURS, Tile, bar_chart, coverage_class, tile_map

__all__ = [
    "APP_KEY",
    "COVERAGE_COLOURS",
    "DashboardPage",
    "Tile",
    "Viewer",
    "WebServer",
    "bar_chart",
    "coverage_class",
    "create_login_link",
    "csv_response",
    "dashboard_page",
    "download",
    "forbidden",
    "language_of",
    "parse_listen",
    "record_page",
    "render",
    "see_other",
    "tile_map",
]
