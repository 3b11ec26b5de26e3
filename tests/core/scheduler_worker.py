"""A worker process for the scheduler's crash and multi-process tests (not a test module).

    python scheduler_worker.py URL serve SECONDS   schedule one job due in SECONDS, then serve
    python scheduler_worker.py URL drain EXPECTED  run jobs until EXPECTED marks exist
Each run of a ``proc:mark`` job adds a row ``ran:<job id>:<nonce>``, so a job run twice
shows up as two rows.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
from datetime import timedelta

from core import App, JobContext, JobKind, PluginInfo, SystemClock, hookimpl
from core.state import set_value
from core.state.models import KeyValue
from core.testing import test_settings


class Marker:
    PLUGIN = PluginInfo(name="marker")

    async def mark(self, job: JobContext) -> None:
        await set_value(f"ran:{job.job.id}:{secrets.token_hex(4)}", "1")

    @hookimpl
    def guyub_register_jobs(self) -> list[JobKind]:
        return [JobKind("proc:mark", self.mark)]


async def main(url: str, mode: str, arg: str) -> None:
    settings = test_settings(
        database={"url": url}, scheduler={"poll_interval": 0.2, "batch_size": 20}
    )
    async with App(
        settings, plugins=[Marker()], discover_plugins=False, schema="none", clock=SystemClock()
    ) as app:
        if mode == "serve":
            await app.scheduler.schedule(
                "proc:mark", app.clock.now() + timedelta(seconds=float(arg))
            )
            print("scheduled", flush=True)
            await app.scheduler.run_forever()
        else:
            expected = int(arg)
            worker = asyncio.create_task(app.scheduler.run_forever())
            try:
                for _ in range(1200):
                    if await KeyValue.filter(key__startswith="ran:").count() >= expected:
                        break
                    await asyncio.sleep(0.1)
                await asyncio.sleep(0.5)  # let a duplicate, if any, land
            finally:
                worker.cancel()
            print("drained", flush=True)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
