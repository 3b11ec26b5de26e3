"""The dispatch cache across worker processes: a change made by one worker (role grants,
consent, language, merges, forgetting, flows starting and finishing) is seen by the next update
another worker handles. Each worker is its own App on the same database, in its own task (its
own tortoise context), exactly as two processes would share it."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from core import Command, Context, Flow, PluginInfo, hookimpl
from core.models import Member
from core.privacy.models import ConsentRecord
from core.testing import FakeChat, make_app, test_settings
from core.testing._memory import MemoryAdapter


class Probe:
    """Answers /whoami with what dispatch knows about the sender; a group flow echoes."""

    PLUGIN = PluginInfo("probe")

    @staticmethod
    async def whoami(ctx: Context) -> None:
        assert ctx.member is not None
        role = await ctx.app.roles.highest(ctx.member.id)
        await ctx.reply(f"member={ctx.member.id} role={role.label} lang={ctx.lang}")

    @staticmethod
    async def echo(ctx: Context, text: str) -> None:
        await ctx.reply(f"flow got {text}")

    @hookimpl
    def guyub_register_commands(self) -> list[Command]:
        return [Command("whoami", self.whoami, "probe.cmd")]

    @hookimpl
    def guyub_register_flows(self) -> list[Flow]:
        return [Flow("echo", self.echo, groups=True)]

    @hookimpl
    def guyub_register_texts(self) -> dict[str, dict[str, str]]:
        return {"id": {"probe.cmd": "Siapa saya"}, "en": {"probe.cmd": "Who am I"}}


class Worker:
    """One App in its own task; ``call`` runs a coroutine function inside it."""

    def __init__(self, url: str, *, first: bool, last: bool) -> None:
        self.url = url
        self.first, self.last = first, last
        self._calls: asyncio.Queue[Any] = asyncio.Queue()
        self._ready = asyncio.Event()
        self.chat: FakeChat
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._main())
        await asyncio.wait_for(self._ready.wait(), 60)

    async def _main(self) -> None:
        async with make_app(
            plugins=[Probe()],
            discover_plugins=False,
            settings=test_settings(database={"url": self.url}),
            create_database=self.first,
            drop_database=self.last,
        ) as app:
            self.chat = FakeChat(app, [MemoryAdapter("telegram"), MemoryAdapter("discord")])
            self._ready.set()
            while True:
                call, done = await self._calls.get()
                if call is None:
                    return
                try:
                    done.set_result(await call())
                except BaseException as exc:  # handed to the caller
                    done.set_exception(exc)

    async def call(self, fn: Callable[[], Awaitable[Any]]) -> Any:
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._calls.put_nowait((fn, done))
        return await asyncio.wait_for(done, 60)

    async def whoami(self, name: str, platform: str = "telegram") -> str:
        user = self.chat.user(name, platform=platform)
        await self.call(lambda: user.says(self.chat.group("Aceh", platform=platform), "/whoami"))
        return "\n".join(sent.text for sent in self.chat.since_last_action())

    async def stop(self) -> None:
        self._calls.put_nowait((None, None))
        assert self._task is not None
        await self._task


def _database_url(tmp_path: Path) -> str:
    base = os.environ.get("GUYUB_TEST_POSTGRES_URL")
    if base:
        from core._db import throwaway_url

        return throwaway_url(base)
    return f"sqlite://{tmp_path}/guyub.sqlite3"


@pytest.fixture
async def workers(tmp_path: Path) -> AsyncIterator[tuple[Worker, Worker]]:
    url = _database_url(tmp_path)
    one = Worker(url, first=True, last=False)
    await one.start()
    two = Worker(url, first=False, last=True)
    await two.start()
    try:
        yield one, two
    finally:
        await one.stop()
        await two.stop()


async def _settled(worker: Worker, before: int) -> None:
    """On PostgreSQL, wait for the change's notification to reach the worker (the window the
    cache documents); on SQLite the next update checks the database's version itself."""
    cache = worker.chat.app.cache
    if cache.dialect != "postgres":
        return
    for _ in range(500):
        if cache.notifications > before:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("no change notification arrived")


async def _member_id(worker: Worker, name: str, platform: str = "telegram") -> int:
    text = await worker.whoami(name, platform)
    return int(text.split()[0].removeprefix("member="))


async def test_a_change_in_one_worker_is_seen_by_the_next_update_in_another(
    workers: tuple[Worker, Worker],
) -> None:
    one, two = workers
    cache = two.chat.app.cache

    # Both workers know Siti as a member who speaks Indonesian.
    siti = await _member_id(one, "siti")
    assert await two.whoami("siti") == f"member={siti} role=member lang=id"
    assert await two.whoami("siti") == f"member={siti} role=member lang=id"
    assert cache.hits >= 1  # the second update was answered from the cache

    # A role granted by the first worker.
    before = cache.notifications
    await one.call(lambda: one.chat.app.roles.grant(siti, _role("captain"), "11.08"))
    await _settled(two, before)
    assert await two.whoami("siti") == f"member={siti} role=captain lang=id"

    # The language, written the way any plugin might (a queryset update, no core call).
    before = cache.notifications
    await one.call(lambda: Member.filter(id=siti).update(language="en"))
    await _settled(two, before)
    assert await two.whoami("siti") == f"member={siti} role=captain lang=en"

    # Consent withdrawn: the other worker stops processing her commands.
    before = cache.notifications
    await one.call(lambda: one.chat.app.privacy.record_consent(siti, "withdrawn", "telegram"))
    await _settled(two, before)
    reply = await two.whoami("siti")
    assert "member=" not in reply
    assert reply  # she is told (privately) how to give consent again
    assert await two.call(lambda: ConsentRecord.filter(member_id=siti).count()) == 1

    # Role revoked and consent given again.
    before = cache.notifications
    await one.call(lambda: one.chat.app.roles.revoke(siti, _role("captain"), "11.08"))
    await one.call(lambda: one.chat.app.privacy.record_consent(siti, "given", "telegram"))
    await _settled(two, before)
    assert await two.whoami("siti") == f"member={siti} role=member lang=en"


async def test_merges_and_forgetting_reach_the_other_worker(
    workers: tuple[Worker, Worker],
) -> None:
    one, two = workers
    cache = two.chat.app.cache
    on_telegram = await _member_id(two, "budi", "telegram")
    on_discord = await _member_id(two, "budi", "discord")
    assert on_telegram != on_discord

    before = cache.notifications

    async def merge() -> None:
        kept = await Member.get(id=on_telegram)
        merged = await Member.get(id=on_discord)
        await one.chat.app.privacy.merge(kept, merged)

    await one.call(merge)
    await _settled(two, before)
    assert await _member_id(two, "budi", "discord") == on_telegram

    before = cache.notifications

    async def forget() -> None:
        await one.chat.app.privacy.forget(await Member.get(id=on_telegram))

    await one.call(forget)
    await _settled(two, before)
    fresh = await _member_id(two, "budi", "telegram")
    assert fresh != on_telegram  # a new member: the cached, deleted one is gone
    assert await two.call(lambda: Member.filter(id=on_telegram).exists()) is False


async def test_a_flow_started_and_finished_elsewhere_routes_group_messages(
    workers: tuple[Worker, Worker],
) -> None:
    one, two = workers
    cache = two.chat.app.cache
    group = two.chat.group("Aceh", platform="telegram")
    dewi = two.chat.user("dewi", platform="telegram")
    dewi_id = await _member_id(two, "dewi")

    await two.call(lambda: dewi.says(group, "halo semua"))
    two.chat.expect_nothing()  # plain chatter; the worker now knows no flow runs here

    before = cache.notifications
    await one.call(lambda: one.chat.app.conversations.start(dewi_id, group.key, "echo", "one", {}))
    await _settled(two, before)
    await two.call(lambda: dewi.says(group, "langkah satu"))
    two.chat.expect_sent(group, contains="flow got langkah satu")

    before = cache.notifications
    await one.call(lambda: one.chat.app.conversations.finish(dewi_id, group.key))
    await _settled(two, before)
    await two.call(lambda: dewi.says(group, "sudah selesai"))
    two.chat.expect_nothing()


def _role(name: str) -> Any:
    from core import Role

    return Role[name.upper()]
