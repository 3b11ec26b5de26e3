"""Benchmark: the per-region result table of a poll, from its result cells, against a naive
Python count of the ballots.

1,000,000 ballots from 200,000 members over 514 kabupaten/kota (38 provinces): five waves of
the incentive poll, every member answering each wave (multi-select, shares close to the
programme's published ones), plus one national poll of 10,000,000 ballots (``--ballots``).
Results read the poll's result cells (one per region and answer set), which every ballot
change keeps up to date in its own transaction; the bulk load here bypasses the plugin, so
the cells are built afterwards with the statement migration 0002 uses. Timed:

* the per-kabupaten and per-province result table of one wave (200,000 ballots), and of the
  national poll (the stress case);
* a naive baseline that loads the ballots into Python and counts them, and the ratio;
* votes recorded per second through the plugin (``record_vote``) and through the whole chat
  path (a button press in FakeChat: identity, button, ballot, private confirmation).

Runs on SQLite (a temporary file) and, when ``GUYUB_TEST_POSTGRES_URL`` or ``--postgres URL``
is given, on a throw-away PostgreSQL database too. Goal: the table in under one second.

    .venv/bin/python bench/poll_tally.py [--postgres postgres://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import App, Member, Role
from core.testing import TEST_START, FakeChat, MemoryAdapter, make_app
from plugins.polls.ballots import record_vote
from plugins.polls.models import Ballot, Poll, TallyCell
from plugins.polls.tally import By, tally

MEMBERS = 200_000
WAVES = 5  # 5 waves x 200,000 members = 1,000,000 ballots
PROVINCES = 38
KABUPATEN = 514
OPTIONS = 6
# Chance of each answer, close to the programme's published shares (83% food, 69% capital...).
CHANCES = (0.83, 0.69, 0.63, 0.69, 0.55, 0.08)
VOTES_DIRECT = 1_000
VOTES_CHAT = 200
REPEAT = 3
CHUNK = 50_000


def regions() -> list[tuple[str, str]]:
    """514 (kabupaten code, province code) pairs spread over 38 provinces."""
    out = []
    for i in range(KABUPATEN):
        province = 11 + i % PROVINCES
        out.append((f"{province}.{i // PROVINCES + 1:02d}", str(province)))
    return out


def population(seed: int = 7) -> list[tuple[str, str]]:
    """Each member's region, skewed like real alumni counts (a few big regions, a long tail
    of small ones that get folded into "other regions")."""
    rng = random.Random(seed)
    places = regions()
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(places))]
    return rng.choices(places, weights=weights, k=MEMBERS)


def mask(rng: random.Random) -> int:
    bits = 0
    for i, chance in enumerate(CHANCES):
        if rng.random() < chance:
            bits |= 1 << i
    return bits or 1 << (OPTIONS - 1)


async def make_poll(template: str | None, wave: int) -> Poll:
    return await Poll.create(
        template=template,
        wave=wave,
        question={"id": "Untuk apa insentif Prakerja Anda gunakan?"},
        options=[{"id": f"opsi {i}"} for i in range(OPTIONS)],
        multiple=True,
        created_at=TEST_START,
    )


async def bulk_insert(app: App, rows: list[tuple[Any, ...]]) -> None:
    """Set-up only: straight into the table (COPY on PostgreSQL, executemany on SQLite)."""
    client = Ballot._meta.db
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
    if app.database.dialect == "postgres":
        async with client.acquire_connection() as connection:
            await connection.copy_records_to_table("polls_ballot", records=rows, columns=columns)
        return
    sql = f"INSERT INTO polls_ballot ({', '.join(columns)}) VALUES ({', '.join('?' * 8)})"
    for start in range(0, len(rows), CHUNK):
        await client.execute_many(sql, [list(r) for r in rows[start : start + CHUNK]])


async def drop_indexes(app: App) -> list[str]:
    """Set-up only: drop the ballot table's plain indexes before the bulk load (building
    them once afterwards is much faster than keeping them up to date row by row); returns
    the statements that recreate them."""
    client = Ballot._meta.db
    if app.database.dialect == "postgres":
        rows = await client.execute_query_dict(
            "SELECT indexname AS name, indexdef AS sql FROM pg_indexes "
            "WHERE tablename = 'polls_ballot' AND indexdef NOT LIKE 'CREATE UNIQUE%'"
        )
    else:
        rows = await client.execute_query_dict(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
            "AND tbl_name = 'polls_ballot' AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'"
        )
    for row in rows:
        await client.execute_script(f'DROP INDEX "{row["name"]}"')
    return [str(row["sql"]) for row in rows]


async def analyze(app: App) -> None:
    client = Ballot._meta.db
    if app.database.dialect == "postgres":
        # What autovacuum does after a bulk load; it lets PostgreSQL scan the index only.
        await client.execute_script("VACUUM ANALYZE polls_ballot")
    else:
        await client.execute_script("ANALYZE")


async def naive(poll_id: int, by: By) -> dict[str | None, list[int]]:
    """The baseline: every ballot into Python, counted in a loop."""
    column = "province_code" if by is By.PROVINCE else "region_code"
    counts: dict[str | None, list[int]] = {}
    for region, choices, weight in await Ballot.filter(poll_id=poll_id).values_list(
        column, "choices", "weight"
    ):
        row = counts.setdefault(region, [0] * (OPTIONS + 1))
        row[0] += weight
        for i in range(OPTIONS):
            if choices >> i & 1:
                row[i + 1] += weight
    return counts


async def timed(make: Callable[[], Awaitable[Any]], repeat: int = REPEAT) -> tuple[float, Any]:
    """Median seconds of ``repeat`` runs, and the last result."""
    times = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = await make()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


#: Ballots in the national stress poll (``--ballots``).
STRESS = 10_000_000
#: The naive count loads every ballot into Python: not attempted above this.
NAIVE_MAX = 1_000_000


async def build_cells() -> float:
    """What migration 0002 does: the result cells of ballots loaded behind the plugin's back."""
    started = time.perf_counter()
    await Ballot._meta.db.execute_script(
        "INSERT INTO polls_tally (poll_id, region_code, province_code, choices, weight) "
        "SELECT poll_id, region_code, province_code, choices, SUM(weight) FROM polls_ballot "
        "GROUP BY poll_id, region_code, province_code, choices"
    )
    return time.perf_counter() - started


async def run(url: str, label: str, stress_size: int = STRESS) -> None:
    print(f"\n== {label} ==")
    async with make_app(database={"url": url}, clock=None) as app:
        people = population()
        rng = random.Random(11)
        started = time.perf_counter()
        member_ids = list(range(1, MEMBERS + 1))  # ballots keep no tie to core_member rows
        at = TEST_START
        waves = [await make_poll("incentive", w + 1) for w in range(WAVES)]
        indexes = await drop_indexes(app)
        for poll in waves:
            rows = [
                (poll.id, member_ids[i], mask(rng), 1, *people[i], "telegram", at)
                for i in range(MEMBERS)
            ]
            await bulk_insert(app, rows)
        stress = await make_poll(None, 1)
        # One national poll (member ids left out: the unique key allows it), in chunks.
        for first in range(0, stress_size, CHUNK * 10):
            rows = [
                (stress.id, None, mask(rng), 1, *people[i % MEMBERS], None, at)
                for i in range(first, min(stress_size, first + CHUNK * 10))
            ]
            await bulk_insert(app, rows)
        del rows
        for statement in indexes:
            await Ballot._meta.db.execute_script(statement)
        cells_s = await build_cells()
        await analyze(app)
        total = await Ballot.filter(poll_id__in=[p.id for p in waves]).count()
        print(
            f"set-up: {total:,} ballots ({WAVES} waves x {MEMBERS:,} members over {KABUPATEN} "
            f"kabupaten/kota), plus {stress_size:,} in one national poll, "
            f"{time.perf_counter() - started:.1f}s (result cells built in {cells_s:.1f}s, "
            f"{await TallyCell.all().count():,} cells)"
        )

        for name, poll, size in (
            ("one wave", waves[0], MEMBERS),
            (f"national poll of {stress_size:,}", stress, stress_size),
        ):
            for by in (By.KABUPATEN, By.PROVINCE):
                sql_s, table = await timed(lambda p=poll, b=by: tally(p.id, OPTIONS, b, 5))
                assert table.overall.respondents == size
                shown = len(table.rows)
                folded = len(table.folded)
                line = (
                    f"{name} per {by.value}: from cells {sql_s * 1000:.1f} ms"
                    f" ({shown} groups shown, {folded} folded)"
                )
                if size <= NAIVE_MAX:
                    naive_s, counts = await timed(lambda p=poll, b=by: naive(p.id, b), repeat=1)
                    assert sum(r[0] for r in counts.values()) == size
                    line += (
                        f" | naive Python {naive_s * 1000:.0f} ms"
                        f" | ratio naive/cells {naive_s / sql_s:.0f}x"
                    )
                print(f"{line} | goal <1 s: {'met' if sql_s < 1 else 'NOT met'}")

        # Votes through the plugin: new members, each recording a ballot.
        poll = await make_poll(None, 1)
        voters = [
            Member(display_name=f"v{i}", region_code=people[i][0]) for i in range(VOTES_DIRECT)
        ]
        await Member.bulk_create(voters, batch_size=1_000)
        voters = await Member.filter(display_name__startswith="v").order_by("id")
        started = time.perf_counter()
        for voter in voters:
            await record_vote(poll, voter, [0, 2], "telegram", TEST_START + timedelta(hours=1))
        elapsed = time.perf_counter() - started
        print(
            f"votes through record_vote: {len(voters) / elapsed:,.0f}/s "
            f"({len(voters):,} votes in {elapsed:.2f}s)"
        )

        chat = FakeChat(app, [MemoryAdapter("telegram")])
        group = chat.group("Bench")
        pmo = chat.user("pmo")
        account = await app.identity.ensure(pmo.ref, "pmo")
        await app.roles.grant(account.member_id, Role.ADMIN)
        await pmo.says(group, "/poll_new incentive")
        users = [chat.user(f"c{i}") for i in range(VOTES_CHAT)]
        for user in users:  # accounts first: the timing is of votes, not of sign-ups
            await app.identity.ensure(user.ref, user.name)
        started = time.perf_counter()
        for user in users:
            await user.presses("Bahan pangan", group)
        elapsed = time.perf_counter() - started
        print(
            f"votes through the chat (button press, ballot, private confirmation): "
            f"{len(users) / elapsed:,.0f}/s ({len(users)} votes in {elapsed:.2f}s)"
        )


def throwaway(base: str) -> str:
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/guyub_bench_{uuid.uuid4().hex[:10]}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--postgres", help="PostgreSQL server URL (a throw-away database)")
    parser.add_argument("--database", help=argparse.SUPPRESS)  # one run, in this process
    parser.add_argument("--label", help=argparse.SUPPRESS)
    parser.add_argument("--ballots", type=int, default=STRESS, help="ballots in the national poll")
    args = parser.parse_args()
    if args.database:
        asyncio.run(run(args.database, args.label or args.database, args.ballots))
        return
    python = sys.version.split()[0]
    print(
        f"poll_tally: {os.cpu_count()} CPUs, shared with other sessions (figures are "
        f"indicative), Python {python}",
        flush=True,
    )
    started = time.perf_counter()
    runs: list[tuple[str, str]] = []
    folder = tempfile.mkdtemp(prefix="guyub_bench_")
    runs.append((f"sqlite://{folder}/bench.sqlite3", "SQLite (file, WAL)"))
    base = args.postgres or os.environ.get("GUYUB_TEST_POSTGRES_URL")
    if base:
        runs.append((throwaway(base), "PostgreSQL"))
    # Each database in its own process: tortoise caches per-model SQL for the first dialect.
    for url, label in runs:
        command = [sys.executable, __file__, "--database", url, "--label", label]
        command += ["--ballots", str(args.ballots)]
        code = subprocess.run(command, check=False).returncode
        if code:
            sys.exit(code)
    shutil.rmtree(folder, ignore_errors=True)
    if not base:
        print("\n(PostgreSQL skipped: pass --postgres URL or set GUYUB_TEST_POSTGRES_URL)")
    print(f"\ntotal {time.perf_counter() - started:.0f}s")


if __name__ == "__main__":
    main()
