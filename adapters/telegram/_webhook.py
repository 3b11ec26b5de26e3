"""The webhook endpoint: an aiohttp server inside the App's loop. Requests without the
right secret header get 403 and are never parsed."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

__all__ = ["SECRET_HEADER", "WebhookServer"]

log = logging.getLogger("adapters.telegram")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookServer:
    """Serves ``path`` on ``host:port`` and hands each authentic update to ``deliver``."""

    def __init__(
        self,
        *,
        path: str,
        secret: str,
        deliver: Callable[[dict[str, Any]], Awaitable[None]],
        host: str,
        port: int,
    ) -> None:
        self.path = path or "/"
        self._secret = secret.encode()
        self._deliver = deliver
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    def route(self) -> web.RouteDef:
        """The endpoint as a route, to mount on another aiohttp application (the App's)."""
        return web.post(self.path, self.handle)

    async def start(self) -> None:
        app = web.Application(client_max_size=2**20)
        app.router.add_post(self.path, self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        # Port 0 asks the OS for a free port (tests); report the real one.
        self.port = int(self._runner.addresses[0][1])
        log.info("Telegram webhook listening on %s:%s%s", self.host, self.port, self.path)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            log.warning("webhook request from %s without the right secret", request.remote)
            return web.Response(status=403)
        try:
            data = json.loads(await request.read())
        except ValueError:
            return web.Response(status=400)
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return web.Response(status=400)
        await self._deliver(data)
        return web.Response(status=200)
