"""The claims on PostgreSQL really lock: the SQL sent to the server carries
``FOR UPDATE SKIP LOCKED`` (tortoise silently drops it from ``.values_list()`` queries, so
this reads the statements as they were sent)."""

from __future__ import annotations

import logging
import os
from datetime import timedelta

import pytest

from core import JobContext, JobKind, Message, PluginInfo, Recipient, hookimpl

pytestmark = pytest.mark.postgres


class Idle:
    PLUGIN = PluginInfo(name="idle")

    async def nothing(self, job: JobContext) -> None:
        return None

    @hookimpl
    def guyub_register_jobs(self) -> list[JobKind]:
        return [JobKind("idle:nothing", self.nothing)]


def sent_sql(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith("tortoise.db_client")]


async def test_outbox_and_scheduler_claims_lock_rows_on_postgres(
    make_app, caplog: pytest.LogCaptureFixture
) -> None:
    if not os.environ.get("GUYUB_TEST_POSTGRES_URL"):
        pytest.skip("needs GUYUB_TEST_POSTGRES_URL")
    async with make_app(plugins=[Idle()], discover_plugins=False) as app:
        await app.outbox.enqueue("test", Message.of("hai"), [Recipient("nowhere", "u1")])
        await app.scheduler.schedule("idle:nothing", app.clock.now() - timedelta(seconds=1))
        with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
            claimed = await app.outbox._claim(10)
            ran = await app.scheduler.run_due()
    assert [row.target for row in claimed] == ["u1"]
    assert ran == 1
    statements = sent_sql(caplog)
    locking = [s for s in statements if "FOR UPDATE SKIP LOCKED" in s]
    assert any("core_outbox_delivery" in s for s in locking), statements
    assert any('"core_job"' in s or "core_job" in s for s in locking), statements
