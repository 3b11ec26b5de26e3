"""A stand-alone outbox worker for the multi-process tests.

``python worker.py DB_URL LOG_FILE [--enqueue N] [--rate R] [--lease S] [--schema create]``
drains the outbox against a FilePlatform (appending each recipient it messages to LOG_FILE)
at R messages per second until nothing is left to send.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from core import App, DeliveryStatus, Message, RateLimits, Recipient, SystemClock
from core.outbox.models import Delivery
from core.testing import test_settings
from tests.core.outbox.fakes import FilePlatform


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("log")
    parser.add_argument("--enqueue", type=int, default=0)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--lease", type=float, default=120.0)
    parser.add_argument("--schema", default="migrate")
    args = parser.parse_args()
    settings = test_settings(
        database={"url": args.url},
        outbox={"lease_seconds": args.lease, "send_timeout": args.lease, "chunk_size": 20},
    )
    platform = FilePlatform("tg", path=args.log, limits=RateLimits(args.rate, 1e9, 1e9, args.rate))
    app = App(
        settings,
        adapters=[platform],
        clock=SystemClock(),
        discover_plugins=False,
        schema=args.schema,
    )
    async with app:
        if args.enqueue:
            recipients = [Recipient("tg", f"u{i}") for i in range(args.enqueue)]
            await app.outbox.enqueue("test", Message.of("hai"), recipients, key="crash")
            print("enqueued", flush=True)
        while True:
            await app.outbox.run_due()
            open_rows = await Delivery.filter(status__in=DeliveryStatus.OPEN).count()
            if not open_rows:
                break
            await asyncio.sleep(0.2)  # rows leased by a dead worker: wait for the lease
    print("drained", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
