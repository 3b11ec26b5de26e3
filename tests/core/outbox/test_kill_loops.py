"""Kill loops: the real bot (``guyub run``: every plugin, the Telegram adapter over PTB's real
HTTP stack, a real SQLite file) is SIGKILLed at random points of a 1,500-recipient broadcast
and of a 2,000-RSVP event reminder, ten times each, and started again at once.

The loopback fake Bot API lives in the test process, so it outlives every kill: what it
received is what members got. Afterwards nobody got a message twice, everybody got it or is
recorded ``unknown`` (a send in flight when the process died), every row recorded ``sent``
did arrive, and the captain's report says exactly that ("terkirim / gagal / tidak pasti")."""

from __future__ import annotations

import asyncio
import os
import random
import re
import sqlite3
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.telegram.testing import BOT_ID, TOKEN, FakeBotApi
from core import Account, App, Member, SystemClock
from core.outbox._outbox import INTERRUPTED
from core.testing import test_settings
from plugins.events._service import schedule_reminders
from plugins.events.models import Event, Rsvp

GUYUB = Path(sys.executable).with_name("guyub")
CAPTAIN = 7_000_001
FIRST_MEMBER = 8_000_000
KILLS = 10
#: The outbox's sends in flight per process (``[outbox] concurrency``, the default).
CONCURRENCY = 8
#: Rows a crash may leave "sending" (docs/delivery.md): the sends in flight, never more, as
#: a wave's results and the next wave are written in one statement.
INTERRUPTED_PER_CRASH = CONCURRENCY

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        bool(os.environ.get("GUYUB_TEST_POSTGRES_URL")),
        reason="process tests run once, on SQLite",
    ),
]


def config(db: Path) -> str:
    """The operator's guyub.toml: short leases so a restart takes over quickly, and a fake
    Bot API that takes any rate (the pace is not what this test is about)."""
    return f"""
admins = ["telegram:{CAPTAIN}"]

[database]
url = "sqlite://{db}"

[web]
listen = ""

[scheduler]
poll_interval = 0.5
lease_seconds = 5.0

[outbox]
poll_interval = 0.2
lease_seconds = 3.0
send_timeout = 5.0
progress_every_seconds = 0.5

[outbox.rate_limits.telegram]
overall_per_second = 100000.0
dm_per_second = 100000.0
"""


class Bot:
    """``guyub run`` in ``home``, one life after another; each life logs to its own file."""

    def __init__(self, home: Path, api: FakeBotApi) -> None:
        self.home = home
        self.env = {
            **os.environ,
            "GUYUB_TELEGRAM__TOKEN": TOKEN,
            "GUYUB_TELEGRAM__API_BASE_URL": api.root,
        }
        self.lives = 0
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> asyncio.subprocess.Process:
        self.lives += 1
        with (self.home / f"life-{self.lives}.log").open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                str(GUYUB),
                "run",
                cwd=self.home,
                env=self.env,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
        return self.process

    async def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        await self.process.wait()

    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    def ended(self) -> str:
        """How the current life ended: its exit code and the end of its log."""
        code = self.process.returncode if self.process is not None else None
        return f"exit code {code}\n{self.last_log()}"

    def last_log(self) -> str:
        path = self.home / f"life-{self.lives}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


@dataclass
class Kills:
    """What each kill left behind: the counts received when it fell, and the rows it left
    ``sending`` (maybe sent: they become ``unknown``)."""

    seed: int
    at: list[int] = field(default_factory=list)
    interrupted: list[int] = field(default_factory=list)

    def __str__(self) -> str:
        return f"seed {self.seed}: kills at {self.at}, rows interrupted {self.interrupted}"


def sending(db: Path) -> set[int]:
    with sqlite3.connect(db) as conn:
        return {int(r[0]) for r in conn.execute(SENDING)}


SENDING = "SELECT id FROM core_outbox_delivery WHERE status = 'sending'"


async def kill_loop(bot: Bot, db: Path, received: Callable[[], int], total: int) -> Kills:
    """Kill the bot ``KILLS`` times while it sends (each time once it has delivered something
    in this life and the count has reached a random point), restarting it at once; the last
    life is left running."""
    kills = Kills(random.randrange(2**32))
    rng = random.Random(kills.seed)
    points = sorted(rng.sample(range(total // 20, total - total // 10), KILLS))
    left: set[int] = set()
    for point in points:
        if not bot.alive():
            await bot.start()
        before = received()
        async with asyncio.timeout(120):
            while received() <= before or received() < point:
                assert bot.alive(), f"the bot ended on its own:\n{bot.last_log()}"
                await asyncio.sleep(0.002)
        # A little further at random: anywhere in a wave of sends or its database writes.
        await asyncio.sleep(rng.uniform(0, 0.05))
        await bot.kill()
        kills.at.append(received())
        # The process is dead: its rows left "sending" stay so until the next life recovers
        # them (rows of an earlier kill not recovered yet are not counted again).
        now_sending = sending(db)
        kills.interrupted.append(len(now_sending - left))
        left = now_sending
    await bot.start()
    return kills


async def stop(bot: Bot) -> None:
    assert bot.process is not None
    assert bot.alive(), f"the bot ended on its own:\n{bot.last_log()}"
    bot.process.terminate()
    assert await asyncio.wait_for(bot.process.wait(), 60) == 0, bot.last_log()


def dms(api: FakeBotApi) -> Counter[int]:
    """Messages each member received (the captain's chat aside)."""
    return Counter(
        int(c.params["chat_id"])
        for c in api.called("sendMessage")
        if int(c.params["chat_id"]) >= FIRST_MEMBER
    )


def delivery_rows(db: Path) -> dict[int, str]:
    with sqlite3.connect(db) as conn:
        return {
            int(target): str(status)
            for target, status in conn.execute(
                "SELECT target, status FROM core_outbox_delivery WHERE target >= ?",
                (str(FIRST_MEMBER),),
            )
        }


def interrupted(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        found = conn.execute(
            "SELECT count(*) FROM core_outbox_delivery WHERE status = 'unknown' AND last_error = ?",
            (INTERRUPTED,),
        ).fetchone()
    return int(found[0])


def check_deliveries(db: Path, received: Counter[int], total: int, kills: Kills) -> dict[int, str]:
    """The promises of docs/delivery.md; returns each member's row status."""
    rows = delivery_rows(db)
    assert len(rows) == total
    assert not received or max(received.values()) == 1, "someone got the message twice"
    sent = {t for t, s in rows.items() if s == "sent"}
    unknown = {t for t, s in rows.items() if s == "unknown"}
    assert sent | unknown == set(rows), Counter(rows.values())
    assert sent <= set(received), "a row recorded sent never arrived"
    # Nobody lost: whoever did not get it is reported unknown.
    assert set(rows) - set(received) <= unknown
    # The rows each kill left "sending" became unknown ("interrupted"; any other unknown is
    # a send that timed out), and each kill left at most the waves in hand (docs/delivery.md).
    assert interrupted(db) == sum(kills.interrupted), str(kills)
    assert max(kills.interrupted) <= INTERRUPTED_PER_CRASH, str(kills)
    return rows


async def seed_members(app: App, count: int, region: str) -> list[int]:
    """``count`` alumni of ``region``, each with a Telegram account open for DMs."""
    now = datetime.now(UTC)
    await Member.bulk_create(
        [
            Member(display_name=f"Alumni {i}", language="id", region_code=region, registered_at=now)
            for i in range(count)
        ],
        batch_size=500,
    )
    ids = list(await Member.filter(region_code=region).order_by("id").values_list("id", flat=True))
    await Account.bulk_create(
        [
            Account(
                platform="telegram",
                platform_user_id=str(FIRST_MEMBER + i),
                member_id=member_id,
                display_name=f"Alumni {i}",
                dm_open=True,
            )
            for i, member_id in enumerate(ids)
        ],
        batch_size=500,
    )
    return [int(i) for i in ids]


def seeded_app(db: Path) -> App:
    return App(
        test_settings(database={"url": f"sqlite://{db}"}),
        clock=SystemClock(),
        schema="migrate",
    )


def private(text: str, message_id: int) -> dict[str, Any]:
    captain = {"id": CAPTAIN, "is_bot": False, "first_name": "Kapten", "language_code": "id"}
    message: dict[str, Any] = {
        "message_id": message_id,
        "from": captain,
        "chat": {"id": CAPTAIN, "type": "private", "first_name": "Kapten"},
        "date": 1795000000,
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]
    return {"message": message}


def to_captain(text: str) -> Callable[[dict[str, Any]], bool]:
    return lambda p: int(p.get("chat_id", 0)) == CAPTAIN and text in str(p.get("text", ""))


async def start_broadcast(api: FakeBotApi) -> None:
    """The captain's part, as Telegram delivers it: /siaran, the text, then Kirim."""
    await api.wait_for("getUpdates", within=60)
    api.push_update(private("/siaran Aceh Utara", 1))
    await api.wait_for("sendMessage", to_captain("Tulis pesan siaran"), within=30)
    api.push_update(private("Temu alumni hari Sabtu jam 09.00", 2))
    preview = await api.wait_for("sendMessage", to_captain("Pratinjau siaran"), within=30)
    keyboard = preview.params["reply_markup"]["inline_keyboard"]
    send = next(b for row in keyboard for b in row if "Kirim" in b["text"])
    api.push_update(
        {
            "callback_query": {
                "id": "1",
                "from": {"id": CAPTAIN, "is_bot": False, "first_name": "Kapten"},
                "chat_instance": "1",
                "data": send["callback_data"],
                "message": {
                    "message_id": preview.result["message_id"],
                    "date": 1795000000,
                    "chat": {"id": CAPTAIN, "type": "private", "first_name": "Kapten"},
                    "from": {"id": BOT_ID, "is_bot": True, "first_name": "Guyub"},
                    "text": preview.params["text"],
                },
            }
        }
    )


def told_done(api: FakeBotApi) -> list[str]:
    """What the captain was shown (sent, or the progress message edited) saying "done"."""
    return [
        str(c.params.get("text", ""))
        for c in api.calls
        if c.status == 200
        and c.method in ("sendMessage", "editMessageText")
        and int(c.params.get("chat_id", 0)) == CAPTAIN
        and "Siaran selesai" in str(c.params.get("text", ""))
    ]


def captain_report(api: FakeBotApi) -> dict[str, int]:
    """The figures of the last "Siaran selesai" the captain was shown."""
    texts = told_done(api)
    assert texts, "the captain was never told the broadcast is done"
    found = re.search(
        r"(\d+) terkirim, (\d+) gagal, (\d+) tidak pasti, (\d+) tidak terjangkau \(dari (\d+)\)",
        texts[-1],
    )
    assert found is not None, texts[-1]
    names = ("sent", "failed", "unknown", "unreachable", "total")
    return dict(zip(names, map(int, found.groups()), strict=True))


async def test_broadcast_to_1500_survives_ten_sigkills(tmp_path: Path) -> None:
    total = 1500
    db = tmp_path / "guyub.sqlite3"
    (tmp_path / "guyub.toml").write_text(config(db))
    async with seeded_app(db) as app:
        await seed_members(app, total, "11.08")
    async with FakeBotApi() as api:
        bot = Bot(tmp_path, api)
        await bot.start()
        await start_broadcast(api)
        # The life the captain pressed Kirim in is the first one killed.
        kills = await kill_loop(bot, db, lambda: sum(dms(api).values()), total)
        async with asyncio.timeout(120):
            while not told_done(api):
                assert bot.alive(), bot.ended()
                await asyncio.sleep(0.1)
        await stop(bot)
        received = dms(api)
        report = captain_report(api)
    rows = check_deliveries(db, received, total, kills)
    # Rows that arrived yet read "unknown": their answer was lost with the process.
    misrecorded = {t for t, s in rows.items() if s == "unknown"} & set(received)
    sent = sum(1 for s in rows.values() if s == "sent")
    unknown = sum(1 for s in rows.values() if s == "unknown")
    # The captain reads what members got: "terkirim" arrived; "tidak pasti" are the sends in
    # flight at a kill (some of them arrived: nobody can know which); nothing else.
    assert report == {
        "sent": sent,
        "failed": 0,
        "unknown": unknown,
        "unreachable": 0,
        "total": total,
    }, str(kills)
    assert report["sent"] == len(received) - len(misrecorded)
    print(f"{kills}; {sent} sent, {unknown} unknown ({len(misrecorded)} of which arrived)")


async def test_reminder_to_2000_rsvps_survives_ten_sigkills(tmp_path: Path) -> None:
    total = 2000
    db = tmp_path / "guyub.sqlite3"
    (tmp_path / "guyub.toml").write_text(config(db))
    async with seeded_app(db) as app:
        members = await seed_members(app, total, "11.08")
        now = app.clock.now()
        # The 1-hour reminder falls due as the bot starts.
        event = await Event.create(
            title="Temu alumni",
            region_code="11.08",
            place="Aula kantor bupati",
            starts_at=now + timedelta(minutes=60, seconds=3),
            reminder_minutes=[60],
        )
        await Rsvp.bulk_create(
            [
                Rsvp(event=event, member_id=m, status="going", created_at=now, updated_at=now)
                for m in members
            ],
            batch_size=500,
        )
        assert await schedule_reminders(app, event) == 1
    async with FakeBotApi() as api:
        bot = Bot(tmp_path, api)
        kills = await kill_loop(bot, db, lambda: sum(dms(api).values()), total)
        async with asyncio.timeout(120):
            while any(s in ("pending", "sending") for s in delivery_rows(db).values()):
                assert bot.alive(), bot.ended()
                await asyncio.sleep(0.2)
        await stop(bot)
        received = dms(api)
    rows = check_deliveries(db, received, total, kills)
    # Rows that arrived yet read "unknown": their answer was lost with the process.
    misrecorded = {t for t, s in rows.items() if s == "unknown"} & set(received)
    texts = {
        str(c.params["text"])
        for c in api.called("sendMessage")
        if int(c.params["chat_id"]) >= FIRST_MEMBER
    }
    assert all("Pengingat" in t for t in texts)
    # The outbox's report (what a captain reads on the dashboard) matches what arrived.
    sent = sum(1 for s in rows.values() if s == "sent")
    assert sent == len(received) - len(misrecorded), str(kills)
    print(f"{kills}; {sent} sent, {total - sent} unknown ({len(misrecorded)} of which arrived)")
