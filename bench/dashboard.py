"""Benchmark: the dashboard's server time per page at the scale of Aceh, beside the chat
commands that give the same figures.

440,287 members across Aceh's 23 kabupaten/kota (each on Telegram, a quarter on Discord too;
official recipient counts imported) and
1,000,000 ballots of the incentive poll (three waves: 440,287 + 440,287 + 119,426) on
PostgreSQL; a tenth of that on SQLite (a temporary file) by default. For each page, the p95
of the handler's own time (an aiohttp middleware around it: database, templates, no network)
over repeated requests of a signed-in PMO admin (the overview both counted afresh,
``?fresh=1``, and with its figures reused within ``web.figures_cache_seconds``); then the p95 of the chat commands for the
same scope (``/stats``, ``/regions 11``, ``/poll_results``) through FakeChat, and the ratio.
Goal: overview and poll page p95 ≤ 200 ms.

    .venv/bin/python bench/dashboard.py [--postgres postgres://postgres@127.0.0.1:5432/test]
        [--scale 0.1] [--repeat 15]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from aiohttp import web
from tortoise.models import Model

from core import Account, App, Member, Role
from core._db import throwaway_url
from core.testing import TEST_START, FakeChat, make_app
from core.web._auth import open_session
from core.web._pages import SESSION_COOKIE
from plugins.polls.models import Ballot, Poll
from plugins.regions._gazetteer import gazetteer
from plugins.regions.models import RecipientCount

ACEH = 440_287
BALLOTS = 1_000_000
# Chance of each answer, close to the programme's published shares (83% food, 69% capital...).
CHANCES = (0.83, 0.69, 0.63, 0.69, 0.55)
CHUNK = 20_000


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def seed(app: App, scale: float) -> tuple[int, int]:
    """Members and ballots; returns (members, the first wave's poll id)."""
    rng = random.Random(17)
    book = gazetteer()
    kabupaten = [r.code for r in book.children("11")]
    members = int(ACEH * scale)
    weights = [1 / (i + 1) ** 0.6 for i in range(len(kabupaten))]
    places = rng.choices(kabupaten, weights=weights, k=members)
    now = TEST_START
    rows = [
        (
            f"alumni {i}",
            "id",
            places[i],
            now - timedelta(days=rng.randrange(120)) if rng.random() < 0.8 else None,
            now - timedelta(days=rng.randrange(200)),
            now - timedelta(days=rng.randrange(60)) if rng.random() < 0.5 else None,
        )
        for i in range(members)
    ]
    columns = [
        "display_name",
        "language",
        "region_code",
        "registered_at",
        "created_at",
        "last_active_at",
    ]
    await _load(app, Member, columns, rows)
    ids = [int(i) for i in await Member.all().order_by("id").values_list("id", flat=True)]
    await _accounts(app, ids, [row[5] for row in rows], rng)
    for code in kabupaten:
        await RecipientCount.create(
            region_code=code, recipients=ACEH // len(kabupaten), imported_at=now
        )
    remaining = int(BALLOTS * scale)
    first = 0
    wave = 1
    while remaining > 0:
        poll = await Poll.create(
            template="insentif",
            wave=wave,
            question={"id": "Untuk apa insentif Prakerja Anda gunakan?"},
            options=[{"id": f"opsi {i}"} for i in range(len(CHANCES))],
            multiple=True,
            created_at=now,
        )
        first = first or poll.id
        voters = ids[: min(len(ids), remaining)]
        remaining -= len(voters)
        ballots = []
        for member_id in voters:
            mask = sum(1 << i for i, c in enumerate(CHANCES) if rng.random() < c) or 1
            code = places[member_id - ids[0]] if member_id - ids[0] < len(places) else "11.08"
            ballots.append((poll.id, member_id, mask, 1, code, "11", "telegram", now))
        await _ballots(app, ballots)
        wave += 1
    await _cells()
    await _analyze(app)
    return members, first


async def _accounts(
    app: App, ids: list[int], seen: list[datetime | None], rng: random.Random
) -> None:
    """Every member on Telegram; one in four on Discord too (the overview counts per platform),
    each account last seen when its member was last active."""
    now = TEST_START
    rows = [
        ("telegram", str(10_000_000 + i), i, f"alumni {i}", False, now, at)
        for i, at in zip(ids, seen, strict=True)
    ]
    rows += [
        ("discord", str(9 * 10**17 + i), i, f"alumni {i}", False, now, at)
        for i, at in zip(ids, seen, strict=True)
        if rng.random() < 0.25
    ]
    columns = [
        "platform",
        "platform_user_id",
        "member_id",
        "display_name",
        "dm_open",
        "created_at",
        "last_seen_at",
    ]
    await _load(app, Account, columns, rows)


async def _load(
    app: App, model: type[Model], columns: list[str], rows: list[tuple[Any, ...]]
) -> None:
    """Rows into the model's table: COPY on PostgreSQL, bulk inserts on SQLite."""
    if app.database.dialect == "postgres":
        async with model._meta.db.acquire_connection() as connection:
            await connection.copy_records_to_table(
                model._meta.db_table, records=rows, columns=columns
            )
        return
    for start in range(0, len(rows), CHUNK):
        await model.bulk_create(
            [model(**dict(zip(columns, row, strict=True))) for row in rows[start : start + CHUNK]]
        )


async def _ballots(app: App, rows: list[tuple[Any, ...]]) -> None:
    columns = [
        "poll_id",
        "member_id",
        "choices",
        "weight",
        "region_code",
        "province_code",
        "platform",
        "voted_at",
    ]
    await _load(app, Ballot, columns, rows)


async def _cells() -> None:
    """The result cells of ballots loaded behind the plugin's back, as migration 0002 builds
    them (the plugin keeps them with every ballot change)."""
    await Ballot._meta.db.execute_script(
        "INSERT INTO polls_tally (poll_id, region_code, province_code, choices, weight) "
        "SELECT poll_id, region_code, province_code, choices, SUM(weight) FROM polls_ballot "
        "GROUP BY poll_id, region_code, province_code, choices"
    )


async def _analyze(app: App) -> None:
    client = Ballot._meta.db
    if app.database.dialect == "postgres":
        await client.execute_script("VACUUM ANALYZE")
    else:
        await client.execute_script("ANALYZE")


async def run(url: str, label: str, scale: float, repeat: int) -> None:
    print(f"\n== {label}, scale {scale:g}")
    async with make_app(database={"url": url}, web={"listen": "127.0.0.1:0"}) as app:
        started = time.perf_counter()
        members, poll_id = await seed(app, scale)
        ballots = await Ballot.all().count()
        print(
            f"set-up: {members:,} members, {ballots:,} ballots in {time.perf_counter() - started:.0f} s"
        )

        timings: dict[str, list[float]] = {}

        @web.middleware
        async def clock(request: web.Request, handler: Callable[..., Awaitable[Any]]) -> Any:
            begun = time.perf_counter()
            try:
                return await handler(request)
            finally:
                key = str(request.get("bench", request.path))
                timings.setdefault(key, []).append(time.perf_counter() - begun)

        app.web.add_middleware(clock)
        await app.web.start()
        chat = FakeChat(app)
        pmo = chat.user("pmo")
        await pmo.says("/help")
        account = await app.identity.account_for(pmo.ref)
        assert account is not None
        await app.roles.grant(account.member_id, Role.ADMIN)
        cookie = await open_session(app, account.member_id)
        pages = {
            "overview": "/dasbor?fresh=1",
            "overview (reused)": "/dasbor",
            "regions": "/dasbor/regions",
            "province 11": "/dasbor/regions/11",
            "kabupaten 11.08": "/dasbor/regions/11.08",
            "polls list": "/dasbor/polls",
            "poll by kabupaten": f"/dasbor/polls/{poll_id}?by=kabupaten",
            "poll CSV export": f"/dasbor/polls/{poll_id}/export.csv?by=kabupaten",
            "audit log": "/dasbor/audit",
        }
        results: dict[str, float] = {}
        async with aiohttp.ClientSession(cookies={SESSION_COOKIE: cookie}) as http:
            for name, path in pages.items():
                # One request first, unmeasured: templates compile once per process.
                async with http.get(f"{app.web.url}{path}") as response:
                    await response.read()
                timings.clear()
                for _ in range(repeat):
                    async with http.get(f"{app.web.url}{path}", allow_redirects=False) as response:
                        assert response.status == 200, (path, response.status)
                        await response.read()
                samples = [s for values in timings.values() for s in values]
                results[name] = p95(samples)
        await app.web.stop()

        chats: dict[str, float] = {}
        for name, command in (
            ("/stats", "/stats"),
            ("/regions 11", "/regions aceh"),
            ("/poll_results", f"/poll_results {poll_id} kabupaten"),
        ):
            samples = []
            await pmo.says(command)  # warm-up, as for the pages
            for _ in range(max(3, repeat // 3)):
                begun = time.perf_counter()
                await pmo.says(command)
                samples.append(time.perf_counter() - begun)
            chats[name] = p95(samples)

        print(f"{'page':<22} {'p95 ms':>8}")
        for name, value in results.items():
            goal = "  (goal ≤ 200 ms)" if name in ("overview", "poll by kabupaten") else ""
            if name == "overview (reused)":
                goal = f"  (figures reused up to {app.settings.web.figures_cache_seconds:g} s)"
            print(f"{name:<22} {value * 1000:>8.1f}{goal}")
        print(f"{'chat command':<22} {'p95 ms':>8}")
        for name, value in chats.items():
            print(f"{name:<22} {value * 1000:>8.1f}")
        print("ratios (page p95 / chat p95, same figures):")
        print(f"  overview / /stats           {results['overview'] / chats['/stats']:.2f}")
        print(f"  province 11 / /regions 11   {results['province 11'] / chats['/regions 11']:.2f}")
        print(
            f"  poll page / /poll_results   {results['poll by kabupaten'] / chats['/poll_results']:.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--postgres", help="PostgreSQL server URL (a throw-away database)")
    parser.add_argument("--scale", type=float, default=None, help="share of full scale")
    parser.add_argument("--repeat", type=int, default=15, help="requests per page")
    parser.add_argument("--database", help=argparse.SUPPRESS)  # one run, in this process
    parser.add_argument("--label", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.database:
        asyncio.run(run(args.database, args.label, args.scale, args.repeat))
        return
    # Each database runs in its own process: tortoise caches SQL per model class.
    base = args.postgres or os.environ.get("GUYUB_TEST_POSTGRES_URL")
    with tempfile.TemporaryDirectory() as folder:
        runs = [(f"sqlite://{folder}/bench.sqlite3", "SQLite (file)", args.scale or 0.1)]
        if base:
            runs.append((throwaway_url(base), "PostgreSQL", args.scale or 1.0))
        for url, label, scale in runs:
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--database",
                    url,
                    "--label",
                    label,
                    "--scale",
                    str(scale),
                    "--repeat",
                    str(args.repeat),
                ],
                check=True,
            )
    if not base:
        print("\n(PostgreSQL skipped: pass --postgres URL or set GUYUB_TEST_POSTGRES_URL)")
    print("\n2-core machine, shared with other work: figures vary from run to run.")


if __name__ == "__main__":
    main()
