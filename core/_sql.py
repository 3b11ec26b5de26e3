"""The few statements the ORM cannot express, in one place: the triggers that tell the
dispatch caches what changed, and batched writes (many rows, one statement).

Every statement here is built from constants of this module and placeholder counts only;
values always travel as parameters, never inside the SQL text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise import connections
from tortoise.transactions import in_transaction

from core.models import Account

__all__ = [
    "CACHE_CHANNEL",
    "CHANGES_SINCE",
    "changes_since",
    "install_triggers",
    "last_change",
    "mark_active",
    "postgres_triggers",
    "prune_changes",
    "scrub_changes",
    "sqlite_triggers",
    "table_names",
]

#: The PostgreSQL notification channel the cache triggers write to.
CACHE_CHANNEL = "guyub_cache"
#: Trigger set version: bump when the definitions below change.
_VERSION = 1
#: The change-log rows after a given id (SQLite).
CHANGES_SINCE = "SELECT id, key FROM core_cache_change WHERE id > ? ORDER BY id"


def _client() -> Any:
    return connections.get("default")


# --- cache triggers ------------------------------------------------------------------------

# (table, events, the key expressions a row yields: m: member id, c: chat key)
_WATCHED: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "core_member",
        "UPDATE OF display_name, language, region_code, registered_at",
        ("'m:' || {row}.id",),
        (),
    ),
    ("core_member", "DELETE", ("'m:' || {row}.id",), ()),
    (
        "core_account",
        "UPDATE OF member_id, platform, platform_user_id, username, display_name, language, "
        "dm_open",
        ("'m:' || {row}.member_id",),
        (),
    ),
    ("core_account", "DELETE", ("'m:' || {row}.member_id",), ()),
    ("core_role_grant", "INSERT", ("'m:' || {row}.member_id",), ()),
    ("core_role_grant", "UPDATE", ("'m:' || {row}.member_id",), ()),
    ("core_role_grant", "DELETE", ("'m:' || {row}.member_id",), ()),
    ("core_consent", "INSERT", ("'m:' || {row}.member_id",), ()),
    ("core_consent", "UPDATE", ("'m:' || {row}.member_id",), ()),
    ("core_consent", "DELETE", ("'m:' || {row}.member_id",), ()),
    ("core_conversation", "INSERT", (), ("'c:' || {row}.chat_key",)),
    ("core_conversation", "UPDATE OF chat_key", (), ("'c:' || {row}.chat_key",)),
    ("core_conversation", "DELETE", (), ("'c:' || {row}.chat_key",)),
)


def _rows(events: str) -> tuple[str, ...]:
    op = events.split()[0]
    return {"INSERT": ("NEW",), "DELETE": ("OLD",)}.get(op, ("OLD", "NEW"))


def _trigger_name(table: str, events: str) -> str:
    return f"guyub_cache{_VERSION}_{table}_{events.split()[0].lower()}"


def sqlite_triggers() -> list[str]:
    out = []
    for table, events, members, chats in _WATCHED:
        body = " ".join(
            f"INSERT INTO core_cache_change (key) VALUES ({expr.format(row=row)});"
            for row in _rows(events)
            for expr in (*members, *chats)
        )
        name = _trigger_name(table, events)
        out.append(
            f"CREATE TRIGGER IF NOT EXISTS {name} AFTER {events} ON {table} "
            f"FOR EACH ROW BEGIN {body} END"
        )
    return out


def postgres_triggers() -> list[str]:
    out = []
    for table, events, members, chats in _WATCHED:
        name = _trigger_name(table, events)
        exprs = [e.format(row=row) for row in _rows(events) for e in (*members, *chats)]
        function = f"{name}_fn"
        body = " ".join(f"PERFORM pg_notify('{CACHE_CHANNEL}', {e});" for e in exprs)
        out.append(
            f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {body} RETURN NULL; END $$"
        )
        out.append(
            f"CREATE OR REPLACE TRIGGER {name} AFTER {events} ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}()"
        )
    return out


async def install_triggers(dialect: str) -> None:
    """Create the cache triggers if they are missing (idempotent, safe at every start)."""
    if dialect == "sqlite":
        for statement in sqlite_triggers():
            await _client().execute_script(statement)
    elif dialect == "postgres":
        # Several workers may start at once: one installs, the others wait for it.
        async with in_transaction() as tx:
            await tx.execute_query("SELECT pg_advisory_xact_lock(727167)")
            for statement in postgres_triggers():
                await tx.execute_script(statement)


async def last_change() -> int:
    rows = await _client().execute_query_dict("SELECT MAX(id) AS top FROM core_cache_change")
    return int(rows[0]["top"] or 0)


async def changes_since(seen: int) -> list[tuple[int, str]]:
    _, rows = await _client().execute_query(CHANGES_SINCE, [seen])
    return [(int(r[0]), str(r[1])) for r in rows]


async def scrub_changes(keys: list[str]) -> None:
    """Replace change-log rows naming ``keys`` by ``*`` (empty the whole cache)."""
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        await _client().execute_query(
            f"UPDATE core_cache_change SET key = '*' WHERE key IN ({marks})", chunk
        )


async def prune_changes(keep: int) -> None:
    await _client().execute_query(
        "DELETE FROM core_cache_change WHERE id <= (SELECT MAX(id) FROM core_cache_change) - ?",
        [keep],
    )


# --- schema --------------------------------------------------------------------------

#: Every table in the database, one query per dialect (the start-up check that the
#: migrations made each model's table).
_TABLES = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'table'",
    "postgres": (
        "SELECT tablename AS name FROM pg_tables WHERE schemaname = ANY(current_schemas(false))"
    ),
}


async def table_names(client: Any, dialect: str) -> set[str] | None:
    """The names of the tables ``client`` sees, lowercased; None for another dialect."""
    sql = _TABLES.get(dialect)
    if sql is None:
        return None
    return {str(row["name"]).lower() for row in await client.execute_query_dict(sql)}


# --- activity ------------------------------------------------------------------------


async def mark_active(dialect: str, chunk: list[tuple[tuple[str, str], datetime]]) -> None:
    """Write last-seen times of many users: two statements, whatever their number."""
    to_db = Account._meta.fields_map["last_seen_at"].to_db_value
    params: list[Any] = []
    for (platform, user_id), at in chunk:
        params.extend((platform, user_id, to_db(at, Account)))
    if dialect == "postgres":
        rows = ", ".join(
            f"(${3 * i + 1}, ${3 * i + 2}, ${3 * i + 3}::timestamptz)" for i in range(len(chunk))
        )
    else:
        rows = ", ".join("(?, ?, ?)" for _ in chunk)
    seen = f"WITH v (platform, uid, at) AS (VALUES {rows}) "
    async with in_transaction() as tx:
        await tx.execute_query(
            seen + "UPDATE core_account SET last_seen_at = v.at FROM v "
            "WHERE core_account.platform = v.platform AND core_account.platform_user_id = v.uid"
            " AND (core_account.last_seen_at IS NULL OR core_account.last_seen_at < v.at)",
            params,
        )
        await tx.execute_query(
            seen + "UPDATE core_member SET last_active_at = v.at FROM v "
            "JOIN core_account a ON a.platform = v.platform AND a.platform_user_id = v.uid "
            "WHERE core_member.id = a.member_id"
            " AND (core_member.last_active_at IS NULL OR core_member.last_active_at < v.at)",
            params,
        )


# --- rate counters -------------------------------------------------------------------


async def add_counts(dialect: str, counts: list[tuple[str, datetime, int]]) -> dict[str, int]:
    """Add to many rate counters in one statement; returns each bucket's new total."""
    from core.privacy.models import RateCounter

    if not counts:
        return {}
    to_db = RateCounter._meta.fields_map["window_start"].to_db_value
    params: list[Any] = []
    for bucket, start, count in counts:
        params.extend((bucket, to_db(start, RateCounter), count))
    if dialect == "postgres":
        rows = ", ".join(
            f"(${3 * i + 1}, ${3 * i + 2}::timestamptz, ${3 * i + 3})" for i in range(len(counts))
        )
    else:
        rows = ", ".join("(?, ?, ?)" for _ in counts)
    found = await _client().execute_query_dict(
        f"INSERT INTO core_rate_counter (bucket, window_start, count) VALUES {rows} "
        "ON CONFLICT (bucket, window_start) DO UPDATE "
        "SET count = core_rate_counter.count + excluded.count RETURNING bucket, count",
        params,
    )
    return {str(r["bucket"]): int(r["count"]) for r in found}


# --- jobs ----------------------------------------------------------------------------

#: Columns written when scheduling (the rest take their defaults).
_JOB_INSERT = (
    "kind",
    "payload",
    "due_at",
    "tz",
    "status",
    "attempts",
    "max_attempts",
    "late_after_seconds",
    "idempotency_key",
    "created_at",
)
#: Columns a claim returns (what running a job needs).
_JOB_CLAIMED = "id, kind, payload, due_at, tz, attempts, max_attempts, late_after_seconds"
#: Jobs written per statement (ten parameters each).
JOB_CHUNK = 1_000


async def upsert_jobs(
    dialect: str, rows: list[tuple[Any, ...]], *, returning: bool = False
) -> list[dict[str, Any]]:
    """Insert jobs (tuples in ``_JOB_INSERT`` order, values as the database takes them) in
    one statement; a job whose key exists moves (payload, due time, zone) while pending and
    stays as it is otherwise. With ``returning``, the rows written come back."""
    width = len(_JOB_INSERT)
    if dialect == "postgres":
        casts = {1: "::jsonb", 2: "::timestamptz", 9: "::timestamptz"}
        values = ", ".join(
            "(" + ", ".join(f"${width * r + c + 1}{casts.get(c, '')}" for c in range(width)) + ")"
            for r in range(len(rows))
        )
    else:
        one = "(" + ", ".join("?" for _ in range(width)) + ")"
        values = ", ".join(one for _ in rows)
    params = [value for row in rows for value in row]
    statement = (
        f"INSERT INTO core_job ({', '.join(_JOB_INSERT)}) VALUES {values} "
        "ON CONFLICT (idempotency_key) DO UPDATE SET payload = excluded.payload, "
        "due_at = excluded.due_at, tz = excluded.tz WHERE core_job.status = 'pending'"
    )
    if returning:
        statement += " RETURNING *"
        return list(await _client().execute_query_dict(statement, params))
    await _client().execute_query(statement, params)
    return []


async def claim_jobs(
    dialect: str, worker: str, lease: Any, now: Any, due_by: Any, limit: int
) -> list[dict[str, Any]]:
    """Claim up to ``limit`` jobs due by ``due_by``, oldest first, in one statement; then,
    if the batch is not full, jobs whose lease ran out (a worker died) in a second one. Each
    condition alone follows the ``(status, due_at)`` index; an OR of the two does not."""
    rows = await _claim(dialect, "status = 'pending' AND due_at <=", worker, lease, due_by, limit)
    if len(rows) < limit:
        rows += await _claim(
            dialect, "status = 'running' AND locked_until <", worker, lease, now, limit - len(rows)
        )
    return rows


async def _claim(
    dialect: str, condition: str, worker: str, lease: Any, bound: Any, limit: int
) -> list[dict[str, Any]]:
    if dialect == "postgres":
        # A CTE runs once: an ``IN (subquery ... SKIP LOCKED)`` may be rescanned by the
        # planner and claim more rows than the limit.
        returning = ", ".join(f"j.{column}" for column in _JOB_CLAIMED.split(", "))
        statement = (
            f"WITH picked AS (SELECT id FROM core_job WHERE {condition} $3"
            " ORDER BY due_at, id LIMIT $4 FOR UPDATE SKIP LOCKED) "
            "UPDATE core_job j SET status = 'running', locked_by = $1, locked_until = $2, "
            f"attempts = j.attempts + 1 FROM picked WHERE j.id = picked.id RETURNING {returning}"
        )
    else:
        statement = (
            "UPDATE core_job SET status = 'running', locked_by = ?, locked_until = ?, "
            f"attempts = attempts + 1 WHERE id IN (SELECT id FROM core_job WHERE {condition} ?"
            f" ORDER BY due_at, id LIMIT ?) RETURNING {_JOB_CLAIMED}"
        )
    return list(await _client().execute_query_dict(statement, [worker, lease, bound, limit]))


async def analyze_jobs(dialect: str) -> None:
    """Fresh planner statistics after a bulk load (PostgreSQL keeps plans made while the
    table was small otherwise)."""
    if dialect == "postgres":
        await _client().execute_script("ANALYZE core_job")
