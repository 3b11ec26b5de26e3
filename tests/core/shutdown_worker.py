"""A worker process for the graceful-shutdown test (not a test module).

    python shutdown_worker.py SQLITE_URL HANDLER_SECONDS SHUTDOWN_TIMEOUT

Runs an App whose adapter hands it one slow command as soon as it starts (printing
``handling``), while the scheduler runs a job that never ends; on SIGTERM the App should
finish the command within the budget, release the job's lease and return (exit 0).
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from datetime import timedelta

from core import App, Command, CommandInvoked, Context, JobContext, JobKind, PluginInfo, hookimpl
from core._clock import SystemClock
from core._events import ChatKind, ChatRef, Sender, UserRef
from core._logging import setup_logging
from core.state import set_value
from core.testing import MemoryAdapter, test_settings


class Slow:
    PLUGIN = PluginInfo("slow")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    async def slow(self, ctx: Context) -> None:
        print("handling", flush=True)
        await asyncio.sleep(self.seconds)
        await set_value("slow:finished", "1")
        print("finished", flush=True)

    async def hang(self, ctx: JobContext) -> None:
        await set_value("hang:started", "1")
        await asyncio.sleep(3600)

    @hookimpl
    def guyub_register_commands(self) -> list[Command]:
        return [Command("slow", self.slow, "slow.d")]

    @hookimpl
    def guyub_register_jobs(self) -> list[JobKind]:
        return [JobKind("hang", self.hang)]


@dataclass(eq=False)
class Feeder(MemoryAdapter):
    """Delivers one update in a task of its own, as PTB and discord.py do."""

    receiving: bool = True

    async def run(self, app: App) -> None:
        user = Sender(UserRef(self.platform, "u1"), "U")
        event = CommandInvoked(
            user=user, chat=ChatRef(self.platform, "dm-u1", ChatKind.DM), name="slow", args=""
        )
        task = asyncio.create_task(app.dispatch(event, self))
        try:
            await asyncio.Event().wait()
        finally:
            task.cancel()

    async def stop_receiving(self) -> None:
        self.receiving = False
        print("stopped receiving", flush=True)


async def main(url: str, seconds: str, budget: str) -> None:
    setup_logging("INFO")
    settings = test_settings(
        database={"url": url},
        worker={"name": "w-shutdown", "shutdown_timeout": float(budget)},
        scheduler={"poll_interval": 0.1},
    )
    app = App(
        settings,
        adapters=[Feeder("fake")],
        plugins=[Slow(float(seconds))],
        discover_plugins=False,
        clock=SystemClock(),
        create_database=not url.startswith("sqlite"),
    )
    async with app:
        await app.scheduler.schedule("hang", app.clock.now() - timedelta(seconds=1))
        await app.run()
    print("exited", flush=True)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
