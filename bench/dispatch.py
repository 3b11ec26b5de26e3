"""Group messages per second through FakeChat + core + every installed plugin's hooks, beside
the same count through a bare asyncio loop calling a no-op handler; with and without a plugin
listening to every message. The database is a SQLite file in a temporary folder.

    .venv/bin/python bench/dispatch.py [N]
"""

from __future__ import annotations

import asyncio
import os
import platform
import sys
import tempfile
import time

from core import Context, MessageReceived, MessageRef, PluginInfo, hookimpl
from core.testing import FakeChat, make_app, test_settings


async def bare_loop(n: int) -> float:
    async def handler(event: object) -> None:
        return None

    events = [object() for _ in range(n)]
    started = time.perf_counter()
    for event in events:
        await handler(event)
    return time.perf_counter() - started


class Listener:
    """A plugin that reads every group message (a no-op), which costs each message the
    member lookup and a flow check."""

    PLUGIN = PluginInfo("listener")

    @hookimpl
    async def guyub_on_message(self, ctx: Context, event: MessageReceived) -> None:
        return None


async def through_core(n: int, users: int = 50, *, listen: bool = False) -> tuple[float, list[str]]:
    folder = tempfile.mkdtemp(prefix="guyub-bench-")
    settings = test_settings(database={"url": f"sqlite://{folder}/bench.sqlite3"})
    async with make_app(plugins=[Listener()] if listen else [], settings=settings) as app:
        chat = FakeChat(app)
        aceh = chat.group("Aceh")
        people = [chat.user(f"alumni{i}") for i in range(users)]
        adapter = chat.adapter()
        for person in people:  # first sight creates the accounts: not what we measure
            await app.dispatch(MessageReceived(user=person.sender, chat=aceh, text="halo"), adapter)
        events = [
            MessageReceived(
                user=people[i % users].sender,
                chat=aceh,
                text=f"pesan nomor {i} tentang pelatihan",
                message=MessageRef(aceh, str(i)),
                at=app.clock.now(),
            )
            for i in range(n)
        ]
        started = time.perf_counter()
        for event in events:
            await app.dispatch(event, adapter)
        elapsed = time.perf_counter() - started
        return elapsed, app.plugins.names()


async def main(n: int) -> None:
    base = await bare_loop(n)
    quiet, plugins = await through_core(n)
    listened, _ = await through_core(n, listen=True)
    print(
        f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"plugins: {', '.join(plugins)}")
    print(f"group messages: {n}")
    print(f"bare asyncio no-op handler:                     {n / base:>12,.0f} msg/s")
    print(
        f"FakeChat + core + plugins:                      {n / quiet:>12,.0f} msg/s"
        f"  ratio {base / quiet:.4f}"
    )
    print(
        f"same, plus a plugin listening to every message: {n / listened:>12,.0f} msg/s"
        f"  ratio {base / listened:.6f}"
    )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000))
