"""Benchmark: what metrics, correlation ids and the per-update log line cost per update.

1. The observability work of one update alone (count it, open its scope with the masked
   platform strings, time it, write its JSON log line to a null stream), per second.
2. Whole updates through the real core (``/help`` in a DM, plain chatter in a group) with a
   JSON log at INFO, per second — and the share of each update's time that (1) accounts for.

Run: ``.venv/bin/python bench/observability.py`` (SQLite in memory; under a minute).
"""

from __future__ import annotations

import asyncio
import io
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core._events import ChatKind, ChatRef, MessageReceived, Sender, UserRef
from core._logging import setup_logging
from core._metrics import Metrics
from core._trace import scope
from core.testing import FakeChat, make_app

N_ALONE = 50_000
N_DM = 400
N_GROUP = 3_000


def observability_alone(log: logging.Logger) -> float:
    metrics = Metrics("bench")
    event = MessageReceived(
        user=Sender(UserRef("telegram", "770011223"), "Siti Rahmah", "siti_r"),
        chat=ChatRef("telegram", "-1001234", ChatKind.GROUP),
        text="selamat pagi semua, sampai jumpa di temu alumni",
    )
    started = time.perf_counter()
    for _ in range(N_ALONE):
        metrics.update_received("telegram", "MessageReceived")
        t0 = time.perf_counter()
        with scope("MessageReceived", "telegram") as update:
            update.source = event
            update.member = 42
            metrics.handling_started()
            metrics.handling_ended()
            metrics.update_handled("MessageReceived", time.perf_counter() - t0)
            log.info("update handled", extra={"outcome": "ok", "ms": 0.1})
    return N_ALONE / (time.perf_counter() - started)


async def whole_updates() -> tuple[float, float]:
    async with make_app() as app:
        chat = FakeChat(app)
        amir = chat.user("amir")
        group = chat.group("Alumni Aceh")
        await amir.says("/help")
        started = time.perf_counter()
        for _ in range(N_DM):
            await amir.says("/help")
        dm_rate = N_DM / (time.perf_counter() - started)
        started = time.perf_counter()
        for i in range(N_GROUP):
            await chat.user(f"u{i % 50}").says(group, "halo semua")
        group_rate = N_GROUP / (time.perf_counter() - started)
    return dm_rate, group_rate


def main() -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    setup_logging("INFO", format="json", worker="bench")
    root.handlers[-1].setStream(io.StringIO())  # type: ignore[attr-defined]
    log = logging.getLogger("core._app")
    alone = observability_alone(log)
    dm_rate, group_rate = asyncio.run(whole_updates())
    print("2-core machine, shared with other work; SQLite in memory")
    print(f"observability alone:      {alone:>10,.0f} updates/s ({1e6 / alone:.1f} us each)")
    print(f"/help in a DM:            {dm_rate:>10,.0f} updates/s")
    print(f"group chatter:            {group_rate:>10,.0f} updates/s")
    print(f"share of a DM command:    {dm_rate / alone:>10.1%}")
    print(f"share of group chatter:   {group_rate / alone:>10.1%}")


if __name__ == "__main__":
    main()
