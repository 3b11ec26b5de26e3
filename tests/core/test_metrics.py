"""Prometheus metrics: a scripted session through the real core, then a scrape of
``/metrics`` over HTTP, parsed with prometheus-client's own parser: every count equals what
happened in the session."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from core import (
    App,
    Command,
    Context,
    JobContext,
    JobKind,
    Message,
    MessageReceived,
    Param,
    ParamType,
    PluginInfo,
    Recipient,
    RetryAfter,
    Role,
    UserRef,
    hookimpl,
)
from core._adapter import Outgoing
from core._events import MessageRef
from core._health import ProbeServer
from core._metrics import is_database_error
from core.models import Member
from core.testing import FakeChat, MemoryAdapter, test_settings


class Probe:
    """Commands that end each possible way, hooks that fail or hang, a flaky job."""

    PLUGIN = PluginInfo("probe")

    def __init__(self) -> None:
        self.flaky_runs = 0

    async def ping(self, ctx: Context) -> None:
        await ctx.reply("pong")

    async def add(self, ctx: Context, n: int) -> None:
        await ctx.reply(str(n + 1))

    async def boom(self, ctx: Context) -> None:
        raise RuntimeError("a bug")

    async def badsql(self, ctx: Context) -> None:
        await Member._meta.db.execute_query("SELECT nothing FROM no_such_table")

    async def secret(self, ctx: Context) -> None:
        await ctx.reply("rahasia")

    async def flaky(self, ctx: JobContext) -> None:
        self.flaky_runs += 1
        if self.flaky_runs == 1:
            raise RuntimeError("first attempt fails")

    async def idle(self, ctx: JobContext) -> None:
        return None

    @hookimpl
    def guyub_register_commands(self) -> list[Command]:
        return [
            Command("ping", self.ping, "probe.d"),
            Command("add", self.add, "probe.d", params=(Param("n", ParamType.INT),)),
            Command("boom", self.boom, "probe.d"),
            Command("badsql", self.badsql, "probe.d"),
            Command("secret", self.secret, "probe.d", role=Role.ADMIN),
        ]

    @hookimpl
    def guyub_register_jobs(self) -> list[JobKind]:
        return [JobKind("flaky", self.flaky), JobKind("idle", self.idle)]

    @hookimpl
    async def guyub_on_message(self, ctx: Context, event: MessageReceived) -> None:
        raise ValueError("this plugin chokes on chatter")

    @hookimpl
    async def guyub_on_member_joined(self, ctx: Context, event: object) -> None:
        await asyncio.sleep(5)


@dataclass(eq=False)
class RefusesOnce(MemoryAdapter):
    """Answers the first DM to ``u0`` with a 429 (retry after one second)."""

    refused: bool = False

    async def send_dm(self, user: UserRef, message: Outgoing) -> MessageRef:
        if user.id == "u0" and not self.refused:
            self.refused = True
            raise RetryAfter(1.0)
        return await super().send_dm(user, message)


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    found: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, frozenset({"worker": "w1", **labels}.items())), 0.0)


async def scrape(app: App) -> str:
    server = ProbeServer(app, "127.0.0.1:0")
    await server.start()
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{server.port}/metrics") as response,
        ):
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain")
            return await response.text()
    finally:
        await server.stop()


async def test_scrape_after_a_scripted_session_counts_what_happened(make_app):
    probe = Probe()
    settings = test_settings(plugins={"hook_timeout": 0.05}, worker={"name": "w1"})
    platform = RefusesOnce("fake", dm_requires_start=True)
    async with make_app(plugins=[probe], discover_plugins=False, settings=settings) as app:
        chat = FakeChat(app, [platform])
        amir = chat.user("amir")
        group = chat.group("Aceh Utara")
        for line in ["/ping", "/ping", "/pingg", "/add x", "/boom", "/badsql", "/secret"]:
            await amir.says(line)
        await amir.says(group, "halo semua")
        await chat.user("siti").joins(group)

        platform.started.update({"u0", "u1"})
        recipients = [Recipient("fake", f"u{i}") for i in range(3)]
        await app.outbox.enqueue("test", Message.of("pengumuman"), recipients)
        await app.run_pending()

        await app.scheduler.schedule("flaky", app.clock.now())
        await app.run_pending()
        await chat.advance(timedelta(minutes=2))
        # Left due and not run: the scheduler's lag shows it; two deliveries wait.
        await app.scheduler.schedule("idle", app.clock.now() - timedelta(minutes=2))
        await app.outbox.enqueue("later", Message.of("nanti"), recipients[:2])

        found = samples(await scrape(app))

    updates = "guyub_updates_received_total"
    assert value(found, updates, platform="fake", type="CommandInvoked") == 7
    assert value(found, updates, platform="fake", type="MessageReceived") == 1
    assert value(found, updates, platform="fake", type="MemberJoined") == 1
    handled = "guyub_update_handling_seconds_count"
    assert value(found, handled, type="CommandInvoked") == 7
    assert value(found, handled, type="MemberJoined") == 1
    assert value(found, "guyub_updates_in_flight") == 0

    commands = "guyub_commands_total"
    assert value(found, commands, command="ping", outcome="ok") == 2
    assert value(found, commands, command="unknown", outcome="unknown_command") == 1
    assert value(found, commands, command="add", outcome="usage_error") == 1
    assert value(found, commands, command="boom", outcome="internal_error") == 1
    assert value(found, commands, command="badsql", outcome="internal_error") == 1
    assert value(found, commands, command="secret", outcome="refused") == 1

    hook = {"plugin": "probe"}
    assert value(found, "guyub_plugin_hook_errors_total", hook="guyub_on_message", **hook) == 1
    assert (
        value(found, "guyub_plugin_hook_timeouts_total", hook="guyub_on_member_joined", **hook) == 1
    )

    deliveries = "guyub_deliveries_total"
    # Every message the platform got, replies and outbox deliveries alike.
    assert value(found, deliveries, platform="fake", result="delivered") == len(platform.sent)
    assert len([s for s in platform.sent if "pengumuman" in s.text]) == 2
    assert value(found, deliveries, platform="fake", result="deferred") == 1
    assert value(found, deliveries, platform="fake", result="unreachable") == 1
    assert value(found, "guyub_rate_limited_total", platform="fake") == 1
    assert value(found, "guyub_outbox_queue_depth", status="due") == 2
    assert value(found, "guyub_outbox_queue_depth", status="sending") == 0

    assert value(found, "guyub_scheduler_jobs_total", kind="flaky", result="retry") == 1
    assert value(found, "guyub_scheduler_jobs_total", kind="flaky", result="done") == 1
    assert value(found, "guyub_scheduler_job_failures_total", kind="flaky") == 1
    assert value(found, "guyub_scheduler_due_jobs") == 1
    assert value(found, "guyub_scheduler_lag_seconds") == pytest.approx(120.0)

    assert value(found, "guyub_database_errors_total", where="dispatch") == 1
    assert value(found, "guyub_worker_start_time_seconds") > 0


async def test_each_app_has_its_own_registry(make_app):
    async with (
        make_app(discover_plugins=False, settings=test_settings(worker={"name": "w1"})) as one,
        make_app(discover_plugins=False, settings=test_settings(worker={"name": "w1"})) as two,
    ):
        one.metrics.command("help", "ok")
        assert b"guyub_commands_total" in one.metrics.exposition()
        assert 'command="help"' not in two.metrics.exposition().decode()


def test_database_errors_are_told_from_lookups_that_found_nothing():
    from tortoise.exceptions import DoesNotExist, OperationalError

    assert is_database_error(OperationalError("no such table"))
    wrapped = RuntimeError("wrapped")
    wrapped.__cause__ = OperationalError("connection reset")
    assert is_database_error(wrapped)
    assert not is_database_error(DoesNotExist(Member))
    assert not is_database_error(ValueError("x"))


def test_counts_held_on_the_hot_path_reach_every_collection() -> None:
    """What every update counts is held in plain dicts and handed over when the registry is
    collected (a scrape, or any direct collection): counted once, never twice."""
    from core._metrics import Metrics

    metrics = Metrics("w1")
    for _ in range(3):
        metrics.update_received("telegram", "CommandInvoked")
    metrics.command("help", "ok")
    metrics.delivery("telegram", "delivered")
    metrics.handling_started()
    metrics.update_handled("CommandInvoked", 0.02)
    value = metrics.registry.get_sample_value
    labels = {"worker": "w1", "platform": "telegram", "type": "CommandInvoked"}
    for _ in range(2):  # a second collection counts nothing again
        assert value("guyub_updates_received_total", labels) == 3
        assert (
            value("guyub_commands_total", {"worker": "w1", "command": "help", "outcome": "ok"}) == 1
        )
        assert (
            value(
                "guyub_deliveries_total",
                {"worker": "w1", "platform": "telegram", "result": "delivered"},
            )
            == 1
        )
        assert value("guyub_updates_in_flight", {"worker": "w1"}) == 1
        handled = {"worker": "w1", "type": "CommandInvoked"}
        assert value("guyub_update_handling_seconds_count", handled) == 1
        assert value("guyub_update_handling_seconds_bucket", {**handled, "le": "0.025"}) == 1
        assert value("guyub_update_handling_seconds_bucket", {**handled, "le": "0.01"}) == 0
    metrics.handling_ended()
    assert value("guyub_updates_in_flight", {"worker": "w1"}) == 0


def test_handling_times_held_stay_few_when_nobody_scrapes(monkeypatch) -> None:
    import core._metrics
    from core._metrics import Metrics

    monkeypatch.setattr(core._metrics, "_HANDLED_HELD", 100)
    metrics = Metrics("w1")
    for _ in range(1_000):
        metrics.update_handled("MessageReceived", 0.001)
        assert len(metrics._handled) < 100
    count = {"worker": "w1", "type": "MessageReceived"}
    assert metrics.registry.get_sample_value("guyub_update_handling_seconds_count", count) == 1_000
