"""Member counts kept by the database itself: members and registered members per region
(``core_member_tally``), registrations per region and UTC day (``core_registration_day``)
and accounts per platform and region (``core_platform_tally``).

Triggers on ``core_member`` and ``core_account`` change them in the statement that inserts,
deletes or moves a member or an account or completes a registration, whoever writes it (the
App, the CLI, a bulk load, a ``COPY``): the figures are exact at every commit, and reading a
region's totals is one row, not a count over its members. Activity updates
(``last_active_at``, ``last_seen_at``) change nothing here.

On PostgreSQL the triggers run once per statement over its transition tables (a bulk load of
400,000 members updates each region's row once); on SQLite once per row. A member's accounts
are taken off the platform tally just before the member is deleted (the deletion then takes
the accounts with it, when nothing is left to count).

Installed by core migration 0007 (on existing data) and by ``create_schema`` (tests).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.models import Member, MemberTally

__all__ = ["install_tallies", "last_activity", "member_counts"]

_TABLES = ("core_member_tally", "core_registration_day", "core_platform_tally")
_PG_DAY = "(registered_at AT TIME ZONE 'UTC')::date"
_SQLITE_DAY = "date(registered_at)"


def _apply(changes: str, day: str) -> list[str]:
    """Add ``changes`` to the member tallies. ``changes`` is a query of rows
    ``(region_code, registered_at, n)``, n = 1 or -1; they are summed per key first.

    Rows are upserted in key order, so two statements moving members between the same
    regions in opposite directions take the tally rows' locks in the same order (one waits
    for the other)."""
    return [
        "INSERT INTO core_member_tally (region_code, members, registered) "
        "SELECT COALESCE(region_code, ''), SUM(n), "
        "SUM(CASE WHEN registered_at IS NULL THEN 0 ELSE n END) "
        f"FROM ({changes}) AS c WHERE 1 = 1 GROUP BY COALESCE(region_code, '') "
        "ORDER BY 1 "
        "ON CONFLICT (region_code) DO UPDATE "
        "SET members = core_member_tally.members + excluded.members, "
        "registered = core_member_tally.registered + excluded.registered",
        "INSERT INTO core_registration_day (region_code, day, registered) "
        f"SELECT COALESCE(region_code, ''), {day}, SUM(n) "
        f"FROM ({changes}) AS c WHERE registered_at IS NOT NULL "
        f"GROUP BY COALESCE(region_code, ''), {day} ORDER BY 1, 2 "
        "ON CONFLICT (region_code, day) DO UPDATE "
        "SET registered = core_registration_day.registered + excluded.registered",
    ]


def _apply_platforms(changes: str) -> str:
    """Add ``changes`` (rows ``(platform, region_code, registered_at, n)``) to the platform
    tally, summed per key first."""
    return (
        "INSERT INTO core_platform_tally (platform, region_code, accounts, registered) "
        "SELECT platform, COALESCE(region_code, ''), SUM(n), "
        "SUM(CASE WHEN registered_at IS NULL THEN 0 ELSE n END) "
        f"FROM ({changes}) AS c WHERE 1 = 1 GROUP BY platform, COALESCE(region_code, '') "
        "ORDER BY 1, 2 "
        "ON CONFLICT (platform, region_code) DO UPDATE "
        "SET accounts = core_platform_tally.accounts + excluded.accounts, "
        "registered = core_platform_tally.registered + excluded.registered"
    )


_MEMBER_CHANGED = (
    "o.region_code IS DISTINCT FROM w.region_code "
    "OR o.registered_at IS DISTINCT FROM w.registered_at"
)


def _accounts_of(rows: str, n: int) -> str:
    """Account rows ``rows`` (with ``member_id``) joined to their members."""
    return (
        f"SELECT a.platform, m.region_code, m.registered_at, {n} AS n FROM {rows} a "
        "JOIN core_member m ON m.id = a.member_id"
    )


def _postgres() -> list[str]:
    moved = (
        "SELECT {cols_o}, -1 AS n FROM old_rows o JOIN new_rows w ON w.id = o.id {join_o}"
        f"WHERE {_MEMBER_CHANGED} UNION ALL "
        "SELECT {cols_w}, 1 FROM old_rows o JOIN new_rows w ON w.id = o.id {join_w}"
        f"WHERE {_MEMBER_CHANGED}"
    )
    member_moved = moved.format(
        cols_o="o.region_code, o.registered_at",
        cols_w="w.region_code, w.registered_at",
        join_o="",
        join_w="",
    )
    accounts_moved = moved.format(
        cols_o="a.platform, o.region_code, o.registered_at",
        cols_w="a.platform, w.region_code, w.registered_at",
        join_o="JOIN core_account a ON a.member_id = o.id ",
        join_w="JOIN core_account a ON a.member_id = w.id ",
    )
    account_moved = (
        "SELECT a.platform, m.region_code, m.registered_at, -1 AS n FROM old_rows a "
        "JOIN new_rows w ON w.id = a.id JOIN core_member m ON m.id = a.member_id "
        "WHERE a.member_id <> w.member_id OR a.platform <> w.platform UNION ALL "
        "SELECT w.platform, m.region_code, m.registered_at, 1 FROM old_rows a "
        "JOIN new_rows w ON w.id = a.id JOIN core_member m ON m.id = w.member_id "
        "WHERE a.member_id <> w.member_id OR a.platform <> w.platform"
    )
    triggers = (
        # (table, event, transition tables, statements)
        (
            "core_member",
            "INSERT",
            "NEW TABLE AS new_rows",
            _apply("SELECT region_code, registered_at, 1 AS n FROM new_rows", _PG_DAY),
        ),
        (
            "core_member",
            "DELETE",
            "OLD TABLE AS old_rows",
            _apply("SELECT region_code, registered_at, -1 AS n FROM old_rows", _PG_DAY),
        ),
        (
            "core_member",
            "UPDATE",
            "OLD TABLE AS old_rows NEW TABLE AS new_rows",
            [*_apply(member_moved, _PG_DAY), _apply_platforms(accounts_moved)],
        ),
        (
            "core_account",
            "INSERT",
            "NEW TABLE AS new_rows",
            [_apply_platforms(_accounts_of("new_rows", 1))],
        ),
        (
            "core_account",
            "DELETE",
            "OLD TABLE AS old_rows",
            [_apply_platforms(_accounts_of("old_rows", -1))],
        ),
        (
            "core_account",
            "UPDATE",
            "OLD TABLE AS old_rows NEW TABLE AS new_rows",
            [_apply_platforms(account_moved)],
        ),
    )
    statements = []
    for table, event, tables, body in triggers:
        name = f"guyub_tally_{table.removeprefix('core_')}_{event.lower()}"
        code = ";\n  ".join(body)
        statements += [
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n  {code};\n  RETURN NULL;\nEND $$",
            f"DROP TRIGGER IF EXISTS {name} ON {table}",
            f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {tables} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
        ]
    # Before a member goes, their accounts leave the platform tally (the deletion takes the
    # accounts with it, and then there is no member left to find their region).
    leaving = _apply_platforms(
        "SELECT a.platform, OLD.region_code, OLD.registered_at, -1 AS n FROM core_account a "
        "WHERE a.member_id = OLD.id"
    )
    statements += [
        "CREATE OR REPLACE FUNCTION guyub_tally_member_leaving() RETURNS trigger "
        f"LANGUAGE plpgsql AS $$\nBEGIN\n  {leaving};\n  RETURN OLD;\nEND $$",
        "DROP TRIGGER IF EXISTS guyub_tally_member_leaving ON core_member",
        "CREATE TRIGGER guyub_tally_member_leaving BEFORE DELETE ON core_member "
        "FOR EACH ROW EXECUTE FUNCTION guyub_tally_member_leaving()",
    ]
    return statements


def _sqlite() -> list[str]:
    def row(ref: str, n: int) -> str:
        return (
            f"SELECT {ref}.region_code AS region_code, "
            f"{ref}.registered_at AS registered_at, {n} AS n"
        )

    def accounts_of_member(ref: str, n: int) -> str:
        return (
            f"SELECT a.platform, {ref}.region_code AS region_code, "
            f"{ref}.registered_at AS registered_at, {n} AS n FROM core_account a "
            f"WHERE a.member_id = {ref}.id"
        )

    def member_of_account(ref: str, n: int) -> str:
        return (
            f"SELECT {ref}.platform AS platform, m.region_code, m.registered_at, {n} AS n "
            f"FROM core_member m WHERE m.id = {ref}.member_id"
        )

    def body(statements: list[str]) -> str:
        return "BEGIN " + "".join(f"{s}; " for s in statements) + "END"

    triggers = {
        "member_insert": (
            "AFTER INSERT ON core_member",
            _apply(row("NEW", 1), _SQLITE_DAY),
        ),
        "member_delete": (
            "AFTER DELETE ON core_member",
            _apply(row("OLD", -1), _SQLITE_DAY),
        ),
        "member_leaving": (
            "BEFORE DELETE ON core_member",
            [_apply_platforms(accounts_of_member("OLD", -1))],
        ),
        "member_update": (
            "AFTER UPDATE OF region_code, registered_at ON core_member "
            "WHEN OLD.region_code IS NOT NEW.region_code "
            "OR OLD.registered_at IS NOT NEW.registered_at",
            [
                *_apply(row("OLD", -1), _SQLITE_DAY),
                *_apply(row("NEW", 1), _SQLITE_DAY),
                _apply_platforms(accounts_of_member("OLD", -1)),
                _apply_platforms(accounts_of_member("NEW", 1)),
            ],
        ),
        "account_insert": (
            "AFTER INSERT ON core_account",
            [_apply_platforms(member_of_account("NEW", 1))],
        ),
        "account_delete": (
            "AFTER DELETE ON core_account",
            [_apply_platforms(member_of_account("OLD", -1))],
        ),
        "account_update": (
            "AFTER UPDATE OF member_id, platform ON core_account "
            "WHEN OLD.member_id IS NOT NEW.member_id OR OLD.platform IS NOT NEW.platform",
            [
                _apply_platforms(member_of_account("OLD", -1)),
                _apply_platforms(member_of_account("NEW", 1)),
            ],
        ),
    }
    statements = []
    for name, (when, changes) in triggers.items():
        statements += [
            f"DROP TRIGGER IF EXISTS guyub_tally_{name}",
            f"CREATE TRIGGER guyub_tally_{name} {when} {body(changes)}",
        ]
    return statements


def _rebuild(day: str) -> list[str]:
    """Counted afresh from the members and accounts (the triggers keep them from then on)."""
    return [
        *(f"DELETE FROM {table}" for table in _TABLES),
        *_apply("SELECT region_code, registered_at, 1 AS n FROM core_member", day),
        _apply_platforms(_accounts_of("core_account", 1)),
    ]


def statements(dialect: str) -> list[str]:
    """Triggers, then the tallies counted from the members already there."""
    if dialect == "postgres":
        return [*_postgres(), *_rebuild(_PG_DAY)]
    return [*_sqlite(), *_rebuild(_SQLITE_DAY)]


async def install_tallies(client: Any) -> None:
    """Install the triggers and count the tallies once (``client``: a tortoise connection,
    e.g. a migration's schema editor's, which runs it inside the migration's transaction)."""
    for statement in statements(client.capabilities.dialect):
        await client.execute_script(statement)


async def member_counts() -> dict[str, tuple[int, int]]:
    """(members, registered members) per exact region code, ``""`` for members without a
    region: one row per region, whatever the number of members."""
    rows = await MemberTally.all().values_list("region_code", "members", "registered")
    return {str(code): (int(members), int(registered)) for code, members, registered in rows}


#: When a member of each region was last active: one step down the member table's
#: ``(region_code, last_active_at)`` index per region, not a scan of the members.
_LAST_ACTIVITY = (
    "SELECT r.column1 AS code, (SELECT MAX(m.last_active_at) FROM core_member m "
    "WHERE m.region_code = r.column1) AS last FROM (VALUES {marks}) AS r"
)


async def last_activity(codes: list[str]) -> dict[str, datetime]:
    """When a member of each region (exact code) was last active, where anyone was."""
    if not codes:
        return {}
    client = Member._meta.db
    if client.capabilities.dialect == "postgres":
        marks = ", ".join(f"(${i + 1}::text)" for i in range(len(codes)))
    else:
        marks = ", ".join("(?)" for _ in codes)
    field = Member._meta.fields_map["last_active_at"]
    _, rows = await client.execute_query(_LAST_ACTIVITY.format(marks=marks), list(codes))
    return {
        str(row["code"]): field.to_python_value(row["last"])
        for row in rows
        if row["last"] is not None
    }
