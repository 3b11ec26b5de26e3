"""The web server: an aiohttp application owned by the App, started and stopped by hand
inside the App's event loop (never ``web.run_app``, which takes over the loop)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from core._settings import SettingsError, WebSettings

if TYPE_CHECKING:
    from core._app import App
    from core.web._pages import DashboardPage

__all__ = ["APP_KEY", "WebServer", "parse_listen"]

log = logging.getLogger("core.web")

#: ``request.app[APP_KEY]`` is the Guyub App serving the request.
APP_KEY: web.AppKey[App] = web.AppKey("guyub_app")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def parse_listen(listen: str) -> tuple[str, int]:
    """``"127.0.0.1:8080"``, ``"[::1]:8080"`` or ``":8080"`` (every address) → host, port."""
    host, sep, port = listen.strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise SettingsError(f"web.listen must be HOST:PORT (e.g. 127.0.0.1:8080), not {listen!r}")
    host = host.strip("[]") or "0.0.0.0"
    return host, int(port)


class WebServer:
    """The App's aiohttp application and the site serving it.

    Routes are added before :meth:`start`; aiohttp freezes the router when the server starts.
    """

    def __init__(self, app: App, settings: WebSettings) -> None:
        self.settings = settings
        self.application = web.Application(client_max_size=settings.max_body_bytes)
        self.application[APP_KEY] = app
        self.host, self.port = parse_listen(settings.listen) if settings.listen else ("", 0)
        self._runner: web.AppRunner | None = None
        self._owners: dict[tuple[str, str], str] = {}
        #: Links of the dashboard menu (``guyub_register_dashboard``).
        self.pages: list[DashboardPage] = []

    # --- mounting ------------------------------------------------------------------------

    @property
    def router(self) -> web.UrlDispatcher:
        return self.application.router

    def add_routes(self, routes: Iterable[web.AbstractRouteDef], owner: str = "core") -> None:
        """Mount route definitions (a ``web.RouteTableDef`` or a list of ``web.get(...)``).

        aiohttp would serve the first of two routes with one method and path and ignore the
        second silently; here the second is refused, naming both owners."""
        routes = list(routes)
        for route in routes:
            self._claim(str(getattr(route, "method", "*")), str(getattr(route, "path", "")), owner)
        self.application.add_routes(routes)

    def add_get(self, path: str, handler: Handler, *, owner: str = "core", **kwargs: Any) -> None:
        self._claim("GET", path, owner)
        self.router.add_get(path, handler, **kwargs)

    def add_post(self, path: str, handler: Handler, *, owner: str = "core", **kwargs: Any) -> None:
        self._claim("POST", path, owner)
        self.router.add_post(path, handler, **kwargs)

    def _claim(self, method: str, path: str, owner: str) -> None:
        taken = self._owners.get((method, path))
        if taken is not None:
            raise ValueError(f"web route {method} {path} of {owner} is taken by {taken}")
        self._owners[(method, path)] = owner

    def add_middleware(self, middleware: Any) -> None:
        """Add an aiohttp middleware (``@web.middleware``); it sees every request."""
        self.application.middlewares.append(middleware)

    # --- lifecycle -----------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._runner is not None

    @property
    def url(self) -> str:
        """Where people reach the server: ``public_url``, or the address it listens on."""
        if self.settings.public_url:
            return self.settings.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        """Listen on ``web.listen``; port 0 takes a free port (``self.port`` tells which)."""
        if self._runner is not None:
            return
        if not self.settings.listen:
            raise SettingsError("web.listen is empty: set it (e.g. 127.0.0.1:8080) to serve web")
        runner = web.AppRunner(
            self.application, access_log=None, handle_signals=False, shutdown_timeout=5.0
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port)
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise SettingsError(
                f"web server cannot listen on {self.settings.listen}: {exc.strerror or exc}"
            ) from exc
        self._runner = runner
        addresses = runner.addresses
        if addresses:
            self.port = int(addresses[0][1])
        log.info("web server listening on %s:%s (%s)", self.host, self.port, self.url)

    async def stop(self) -> None:
        """Stop accepting, let requests in flight finish (up to 5 s), close."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
            log.info("web server stopped")

    async def run_forever(self) -> None:
        """Serve until cancelled (the App's TaskGroup runs this), then stop cleanly."""
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()
