"""The App's web server: plugins mount routes through ``guyub_register_web``, ``run(web=True)``
serves them inside the App's loop, and stopping the App closes the port."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from core import App, SettingsError, hookimpl
from core.web import APP_KEY, parse_listen


class HelloPlugin:
    """A plugin with one page that reads the App it is served by."""

    @hookimpl
    def guyub_register_web(self) -> list[web.RouteDef]:
        async def hello(request: web.Request) -> web.Response:
            app = request.app[APP_KEY]
            return web.Response(text=f"halo from {app.settings.language}")

        return [web.get("/hello", hello)]


async def _serve(app: App) -> asyncio.Task[None]:
    task = asyncio.create_task(app.run(install_signal_handlers=False, web=True))
    for _ in range(200):
        if app.web.running:
            return task
        await asyncio.sleep(0.01)
    raise AssertionError("the web server did not start")


async def test_plugin_routes_are_served_and_the_port_closes_on_stop(make_app) -> None:
    async with make_app(plugins=[HelloPlugin()], web={"listen": "127.0.0.1:0"}) as app:
        core_calls: list[str] = []

        async def core_route(request: web.Request) -> web.Response:
            core_calls.append(request.path)
            return web.Response(text="ok")

        app.web.add_get("/core-route", core_route)  # what core services (health checks) do
        task = await _serve(app)
        url = app.web.url
        assert url == f"http://127.0.0.1:{app.web.port}"
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{url}/hello") as response:
                assert response.status == 200
                assert await response.text() == "halo from id"
            async with session.get(f"{url}/core-route") as response:
                assert await response.text() == "ok"
            async with session.get(f"{url}/nowhere") as response:
                assert response.status == 404
        assert core_calls == ["/core-route"]
        app.request_stop()
        await asyncio.wait_for(task, 10)
        assert not app.web.running
        with pytest.raises(aiohttp.ClientConnectionError):
            async with aiohttp.ClientSession() as session:
                await session.get(f"{url}/hello")


async def test_public_url_is_what_people_are_given(make_app) -> None:
    async with make_app(
        web={"listen": "127.0.0.1:0", "public_url": "https://guyub.example.org/"}
    ) as app:
        assert app.web.url == "https://guyub.example.org"


async def test_a_taken_port_is_a_configuration_error(make_app) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with make_app(web={"listen": f"127.0.0.1:{port}"}) as app:
            with pytest.raises(SettingsError, match="cannot listen"):
                await app.run(install_signal_handlers=False, web=True)
            assert not app.web.running


@pytest.mark.parametrize(
    ("listen", "expected"),
    [
        ("127.0.0.1:8080", ("127.0.0.1", 8080)),
        (":8080", ("0.0.0.0", 8080)),
        ("[::1]:9000", ("::1", 9000)),
    ],
)
def test_listen_addresses(listen: str, expected: tuple[str, int]) -> None:
    assert parse_listen(listen) == expected


@pytest.mark.parametrize("listen", ["8080", "localhost", "host:port", "h:70000"])
def test_bad_listen_addresses_say_how_to_fix_them(listen: str) -> None:
    with pytest.raises(SettingsError, match="HOST:PORT"):
        parse_listen(listen)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
async def test_guyub_web_serves_alone_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GUYUB_")},
        "GUYUB_DATABASE__URL": f"sqlite://{tmp_path / 'guyub.sqlite3'}",
        "GUYUB_WEB__LISTEN": f"127.0.0.1:{port}",
    }
    guyub = Path(sys.executable).with_name("guyub")
    migrate = await asyncio.create_subprocess_exec(
        str(guyub), "db", "migrate", cwd=tmp_path, env=env, stdout=asyncio.subprocess.DEVNULL
    )
    assert await migrate.wait() == 0
    process = await asyncio.create_subprocess_exec(
        str(guyub),
        "web",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        status = None
        async with aiohttp.ClientSession() as session:
            for _ in range(300):
                try:
                    async with session.get(f"http://127.0.0.1:{port}/nowhere") as response:
                        status = response.status
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
        assert status == 404
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, output.decode()
    assert "Traceback" not in output.decode()


class ClashingPlugin:
    """Wants the dashboard's own address."""

    @hookimpl
    def guyub_register_web(self) -> list[web.RouteDef]:
        async def mine(request: web.Request) -> web.Response:
            return web.Response(text="mine")

        return [web.get("/dasbor", mine)]


async def test_two_owners_of_one_route_stop_start_up(make_app) -> None:
    with pytest.raises(ValueError, match="GET /dasbor of ClashingPlugin is taken by dashboard"):
        async with make_app(plugins=[ClashingPlugin()]):
            pass
