"""One rate per bot token across worker processes, held in PostgreSQL: three real workers
drain one broadcast and answer in one busy group, against a loopback fake Bot API that
refuses (429) what Telegram would."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections import Counter
from pathlib import Path

import pytest

from core import ChatKind, DeliveryStatus, Message, Recipient
from core.outbox.models import Delivery
from tests.core.outbox.loopback import FakeBotApi, most_in_window

WORKER = [sys.executable, str(Path(__file__).with_name("rate_worker.py"))]

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


async def test_three_workers_keep_one_global_rate_and_the_group_limit(make_app) -> None:
    if not os.environ.get("GUYUB_TEST_POSTGRES_URL"):
        pytest.skip("needs GUYUB_TEST_POSTGRES_URL")
    limit, group_limit, replies = 30, 120, 12
    api = FakeBotApi(limit=limit, group_limit=group_limit)
    url = await api.start()
    try:
        async with make_app(discover_plugins=False) as app:
            dms = [Recipient("tg", f"u{i}") for i in range(300)]
            # A broadcast that also goes to the busy group, as a captain's would.
            dms.append(Recipient("tg", "g1", ChatKind.GROUP))
            await app.outbox.enqueue("test", Message.of("hai"), dms)
            workers = [
                await asyncio.create_subprocess_exec(
                    *WORKER,
                    app.settings.database.url,
                    url,
                    "--rate",
                    str(limit),
                    "--group-rate",
                    str(group_limit),
                    "--group",
                    "g1",
                    "--replies",
                    str(replies),
                    "--name",
                    f"w{i}",
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                )
                for i in range(3)
            ]
            outputs = []
            for worker in workers:
                out, err = await asyncio.wait_for(worker.communicate(), timeout=180)
                assert worker.returncode == 0, err.decode()[-3000:]
                outputs.append(json.loads(out.decode().strip().splitlines()[-1]))
            statuses = Counter(
                await Delivery.all().values_list("status", flat=True)  # type: ignore[arg-type]
            )
    finally:
        await api.stop()

    received = Counter((kind, target) for _, kind, target in api.received)
    dm_targets = {target for kind, target in received if kind == "dm"}
    # Every delivery once: the broadcast's 300 DMs and its group post.
    assert dm_targets == {f"u{i}" for i in range(300)}
    assert max(n for (kind, _), n in received.items() if kind == "dm") == 1
    assert statuses == {DeliveryStatus.SENT: 301}
    # Every reply arrived (sent at once, or stored and sent after its wait): 3 x 12, and
    # the broadcast's post.
    assert received[("group", "g1")] == 3 * replies + 1
    assert api.refusals == 0, (api.refused, sorted(api.received)[:5])
    # No one-second window above the global limit (as the requests left the workers).
    assert most_in_window(api.times(), 1.0) <= limit
    # The group's limit: no minute above it. Its slots are 60/119 s apart, each usable for
    # half that: one schedule shared by the three workers holds at most 11 messages in 5 s
    # (three schedules of their own would allow 33); one more may come from a worker
    # descheduled between its slot and its request on a loaded machine.
    group = api.times("group", "g1")
    assert most_in_window(group, 60.0) <= group_limit
    assert most_in_window(group, 5.0) <= 12
    # The workers shared the slots by leasing blocks, not one statement per send.
    assert all(o["leases"] > 0 for o in outputs)
    assert sum(o["leases"] for o in outputs) < len(api.received)
