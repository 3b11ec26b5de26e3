"""The outbox's hot statements, written by hand: a drain costs a few statements per wave
of sends, not one ORM query (and one model object) per delivery.

Every statement is built from constants of this module; values always travel as
parameters. A list of ids is one parameter (a JSON array on SQLite, an array on
PostgreSQL), so each statement has one text whatever the list's length.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.outbox.models import Delivery

__all__ = [
    "Claimed",
    "active_batches",
    "claim",
    "database_now",
    "finished_batches",
    "lease_slots",
    "mark_wave",
    "record_sent",
]

_TABLE = "core_outbox_delivery"
_CLAIMED = "id, batch_id, platform, chat_kind, target, account_id, attempts"
_CLAIMED_D = ", ".join(f"d.{c.strip()}" for c in _CLAIMED.split(","))


@dataclass(slots=True)
class Claimed:
    """A delivery row claimed by this worker (a plain record: no model object per row)."""

    id: int
    batch_id: int
    platform: str
    chat_kind: str
    target: str
    account_id: int | None
    attempts: int
    locked_by: str


def _db() -> Any:
    # The connection of the current context (a transaction when inside one).
    return Delivery._meta.db


class _Marks:
    """Numbered placeholders (``$n`` on PostgreSQL, ``?n`` on SQLite): one may be used
    several times in a statement."""

    def __init__(self, dialect: str) -> None:
        self.postgres = dialect == "postgres"
        self.values: list[Any] = []

    def __call__(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}" if self.postgres else f"?{len(self.values)}"

    def time(self, value: datetime) -> str:
        """A timestamp (typed on PostgreSQL, where a bare parameter in a CASE is text)."""
        return f"{self(value)}::timestamptz" if self.postgres else self(value)

    def id_in(self, ids: Sequence[int]) -> str:
        """``id`` is one of ``ids``, from one parameter. On PostgreSQL ``= ANY(array)``, which
        the planner answers from the primary key even inside an ``OR`` (an ``IN (SELECT
        unnest(...))`` there read the whole table per statement: a wave cost grew with the
        batch, 98 deliveries a second at 440,287)."""
        if self.postgres:
            return f"id = ANY({self(list(ids))}::bigint[])"
        return f"id IN (SELECT value FROM json_each({self(json.dumps(list(ids)))}))"


async def active_batches() -> list[int]:
    rows = await _db().execute_query_dict(
        "SELECT id FROM core_outbox_batch WHERE status = 'active' ORDER BY id"
    )
    return [int(r["id"]) for r in rows]


async def claim(
    dialect: str, batch_id: int, token: str, lease_until: datetime, now: datetime, limit: int
) -> list[Claimed]:
    """Lease the oldest ``limit`` due rows of one batch in one statement (``FOR UPDATE
    SKIP LOCKED`` on PostgreSQL: workers never wait for each other's rows; SQLite runs one
    writer at a time, and the condition is checked inside the UPDATE). The rows come back
    in no particular order: the caller sorts those of all its batches together."""
    m = _Marks(dialect)
    token_mark, until_mark = m(token), m(lease_until)
    now_mark, batch_mark, limit_mark = m(now), m(batch_id), m(limit)
    claimable = (
        f"status = 'pending' AND next_attempt_at <= {now_mark}"
        f" AND (locked_until IS NULL OR locked_until < {now_mark})"
    )
    picked = (
        f"SELECT id FROM {_TABLE} WHERE batch_id = {batch_mark} AND {claimable}"
        f" ORDER BY id LIMIT {limit_mark}"
    )
    if m.postgres:
        # A CTE runs once: an ``IN (subquery ... SKIP LOCKED)`` may be rescanned by the
        # planner and take more rows than the limit.
        statement = (
            f"WITH picked AS ({picked} FOR UPDATE SKIP LOCKED) "
            f"UPDATE {_TABLE} d SET locked_by = {token_mark}, locked_until = {until_mark}"
            f" FROM picked WHERE d.id = picked.id RETURNING {_CLAIMED_D}"
        )
    else:
        statement = (
            f"UPDATE {_TABLE} SET locked_by = {token_mark}, locked_until = {until_mark}"
            f" WHERE id IN ({picked}) AND {claimable} RETURNING {_CLAIMED}"
        )
    # execute_query_dict: tortoise's execute_query drops the rows an UPDATE returns on
    # PostgreSQL.
    rows = await _db().execute_query_dict(statement, m.values)
    return [
        Claimed(
            int(r["id"]),
            int(r["batch_id"]),
            str(r["platform"]),
            str(r["chat_kind"]),
            str(r["target"]),
            None if r["account_id"] is None else int(r["account_id"]),
            int(r["attempts"]),
            token,
        )
        for r in rows
    ]


async def mark_wave(
    dialect: str,
    token: str,
    wave: Sequence[int],
    sent: Sequence[int],
    now: datetime,
    until: datetime,
) -> set[int]:
    """In one statement: record the sends answered since the last wave as ``sent``, and
    mark the next wave ``sending`` (durably, before any of it goes out). Rows cancelled or
    taken over since the claim are left out. Returns the ids marked ``sending``.

    Rows left ``sending`` by a crash are therefore only the wave in flight: recording
    and marking in one statement keeps them to at most one wave (``concurrency``)."""
    m = _Marks(dialect)
    sent_ids = m.id_in(sent)
    statement = (
        f"UPDATE {_TABLE} SET"
        f" status = CASE WHEN status = 'sending' THEN 'sent' ELSE 'sending' END,"
        f" attempts = CASE WHEN status = 'sending' THEN attempts ELSE attempts + 1 END,"
        f" sent_at = CASE WHEN status = 'sending' THEN {m.time(now)} ELSE sent_at END,"
        f" locked_until = CASE WHEN status = 'sending' THEN NULL ELSE {m.time(until)} END"
        f" WHERE (status = 'sending' AND {sent_ids})"
        f" OR (status = 'pending' AND locked_by = {m(token)} AND {m.id_in(wave)}"
        " AND batch_id IN (SELECT id FROM core_outbox_batch WHERE status = 'active'))"
        " RETURNING id, status"
    )
    rows = await _db().execute_query_dict(statement, m.values)
    return {int(r["id"]) for r in rows if r["status"] == "sending"}


async def record_sent(dialect: str, sent: Sequence[int], now: datetime) -> None:
    m = _Marks(dialect)
    statement = (
        f"UPDATE {_TABLE} SET status = 'sent', sent_at = {m(now)}, locked_until = NULL"
        f" WHERE status = 'sending' AND {m.id_in(sent)}"
    )
    await _db().execute_query(statement, m.values)


async def finished_batches() -> list[int]:
    """Active batches with nothing left to send."""
    rows = await _db().execute_query_dict(
        "SELECT b.id FROM core_outbox_batch b WHERE b.status = 'active' AND NOT EXISTS"
        f" (SELECT 1 FROM {_TABLE} d WHERE d.batch_id = b.id"
        " AND d.status IN ('pending', 'sending'))"
    )
    return [int(r["id"]) for r in rows]


async def lease_slots(key: str, count: int, interval: float) -> tuple[float, float]:
    """PostgreSQL only: reserve ``count`` send slots ``interval`` seconds apart on the
    shared schedule ``key`` (one bot token's global rate), in one statement.

    The row holds the schedule's next free time (GCRA's "theoretical arrival time") on
    the database's clock. Returns ``(first, db_now)``: the slots are ``first``,
    ``first + interval``, ... in the database's seconds; ``db_now`` maps them to the
    caller's clock. Nothing is held: a worker that dies simply never uses its slots."""
    statement = (
        "WITH clock AS (SELECT EXTRACT(EPOCH FROM clock_timestamp())::float8 AS now) "
        "INSERT INTO core_outbox_rate AS r (key, next_free) "
        "SELECT $1, clock.now + $2::float8 FROM clock "
        "ON CONFLICT (key) DO UPDATE SET next_free = "
        "GREATEST(r.next_free, (SELECT now FROM clock)) + $2::float8 "
        "RETURNING r.next_free - $2::float8 AS first, (SELECT now FROM clock) AS now"
    )
    rows = await _db().execute_query_dict(statement, [key, count * interval])
    return float(rows[0]["first"]), float(rows[0]["now"])


async def database_now() -> float:
    """PostgreSQL's clock, in seconds since the epoch."""
    rows = await _db().execute_query_dict(
        "SELECT EXTRACT(EPOCH FROM clock_timestamp())::float8 AS now"
    )
    return float(rows[0]["now"])
