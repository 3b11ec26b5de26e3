"""A worker process for the shared-rate tests and benchmark.

``python rate_worker.py DB_URL API_URL [--rate R] [--group-rate G] [--group ID]
[--replies N] [--name NAME]`` drains the outbox against a loopback fake Bot API at the
deployment's shared rate and, meanwhile, sends N interactive messages into group ID (the
replies of a webhook worker in a busy group). Prints a JSON line of what it did.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from core import App, ChatKind, ChatRef, DeliveryStatus, Message, RateLimits, SystemClock
from core.outbox.models import Delivery
from core.testing import test_settings
from tests.core.outbox.loopback import HttpPlatform


async def replies(app: App, group: str, count: int) -> int:
    sent = 0
    for i in range(count):
        ref = await app.send(ChatRef("tg", group, ChatKind.GROUP), Message.of(f"balasan {i}"))
        sent += bool(ref.id)
    return sent


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("api")
    parser.add_argument("--rate", type=float, default=30.0)
    parser.add_argument("--group-rate", type=float, default=20.0)
    parser.add_argument("--group", default="")
    parser.add_argument("--replies", type=int, default=0)
    parser.add_argument("--name", default="")
    args = parser.parse_args()
    settings = test_settings(
        database={"url": args.url},
        outbox={"poll_interval": 0.2},
        worker={"name": args.name},
    )
    limits = RateLimits(args.rate, 1.0, args.group_rate, args.rate)
    platform = HttpPlatform("tg", url=args.api, limits=limits)
    platform.open()
    app = App(
        settings, adapters=[platform], clock=SystemClock(), discover_plugins=False, schema="create"
    )
    async with app:
        answered = asyncio.create_task(replies(app, args.group, args.replies))
        while True:
            await app.outbox.run_due()
            if answered.done():
                open_rows = await Delivery.filter(status__in=DeliveryStatus.OPEN).count()
                if not open_rows:
                    break
            await asyncio.sleep(0.1)
        shared = app.outbox._shared.get("tg")
        print(
            json.dumps(
                {
                    "replies": await answered,
                    "leases": shared.leases if shared else 0,
                    "late": shared.late if shared else 0,
                    "wasted": shared.wasted if shared else 0,
                }
            ),
            flush=True,
        )
    await platform.close()


if __name__ == "__main__":
    asyncio.run(main())
