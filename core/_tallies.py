"""Member counts kept by the database itself: members and registered members per region
(``core_member_tally``) and registrations per region and UTC day (``core_registration_day``).

Triggers on ``core_member`` change them in the statement that inserts, deletes or moves a
member or completes a registration, whoever writes it (the App, the CLI, a bulk load, a
``COPY``): the figures are exact at every commit, and reading a region's totals is one row,
not a count over its members. Activity updates (``last_active_at``) do not fire them.

Installed by core migration 0005 (on existing data) and by ``create_schema`` (tests).
"""

from __future__ import annotations

from typing import Any

from core.models import MemberTally

__all__ = ["install_tallies", "member_counts"]

_TABLES = ("core_member_tally", "core_registration_day")

_TALLY_UPSERT = (
    "INSERT INTO core_member_tally (region_code, members, registered) VALUES ({region}, {n}, "
    "CASE WHEN {registered} IS NULL THEN 0 ELSE {n} END) ON CONFLICT (region_code) DO UPDATE "
    "SET members = core_member_tally.members + excluded.members, "
    "registered = core_member_tally.registered + excluded.registered"
)
_DAY_UPSERT = (
    "INSERT INTO core_registration_day (region_code, day, registered) SELECT {region}, {day}, "
    "{n} WHERE {registered} IS NOT NULL ON CONFLICT (region_code, day) DO UPDATE "
    "SET registered = core_registration_day.registered + excluded.registered"
)


def _changes(row: str, n: int, day: str) -> list[str]:
    """The two upserts that add ``n`` (1 or -1) for ``row`` (NEW or OLD)."""
    values = {
        "region": f"COALESCE({row}.region_code, '')",
        "registered": f"{row}.registered_at",
        "n": n,
        "day": day.format(row=row),
    }
    return [_TALLY_UPSERT.format(**values), _DAY_UPSERT.format(**values)]


_PG_DAY = "({row}.registered_at AT TIME ZONE 'UTC')::date"  # the rebuild's
_SQLITE_DAY = "date({row}.registered_at)"
_CHANGED = "region_code, registered_at"


def _pg_apply(changes: str) -> list[str]:
    """Add ``changes`` (rows of region_code, registered_at, n) to both tallies, summed per
    key first: one upsert per region touched, however many rows the statement changed."""
    day = "(registered_at AT TIME ZONE 'UTC')::date"
    return [
        "INSERT INTO core_member_tally (region_code, members, registered) "
        "SELECT COALESCE(region_code, ''), SUM(n), "
        "SUM(CASE WHEN registered_at IS NULL THEN 0 ELSE n END) "
        f"FROM ({changes}) AS c GROUP BY COALESCE(region_code, '') "
        "ON CONFLICT (region_code) DO UPDATE "
        "SET members = core_member_tally.members + excluded.members, "
        "registered = core_member_tally.registered + excluded.registered",
        "INSERT INTO core_registration_day (region_code, day, registered) "
        f"SELECT COALESCE(region_code, ''), {day}, SUM(n) "
        f"FROM ({changes}) AS c WHERE registered_at IS NOT NULL "
        f"GROUP BY COALESCE(region_code, ''), {day} "
        "ON CONFLICT (region_code, day) DO UPDATE "
        "SET registered = core_registration_day.registered + excluded.registered",
    ]


def _postgres() -> list[str]:
    # Statement triggers with transition tables: a COPY or a bulk insert of 400,000 members
    # updates each region's row once, not once per member (which would pile up row versions).
    inserted = "SELECT region_code, registered_at, 1 AS n FROM new_rows"
    deleted = "SELECT region_code, registered_at, -1 AS n FROM old_rows"
    moved = (
        "SELECT o.region_code, o.registered_at, -1 AS n FROM old_rows o JOIN new_rows w "
        "ON w.id = o.id WHERE o.region_code IS DISTINCT FROM w.region_code "
        "OR o.registered_at IS DISTINCT FROM w.registered_at UNION ALL "
        "SELECT w.region_code, w.registered_at, 1 FROM old_rows o JOIN new_rows w "
        "ON w.id = o.id WHERE o.region_code IS DISTINCT FROM w.region_code "
        "OR o.registered_at IS DISTINCT FROM w.registered_at"
    )
    statements = []
    for event, changes, tables in (
        ("INSERT", inserted, "NEW TABLE AS new_rows"),
        ("DELETE", deleted, "OLD TABLE AS old_rows"),
        ("UPDATE", moved, "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ):
        name = f"guyub_member_tally_{event.lower()}"
        body = ";\n  ".join(_pg_apply(changes))
        statements += [
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n  {body};\n  RETURN NULL;\nEND $$",
            f"DROP TRIGGER IF EXISTS {name} ON core_member",
            f"CREATE TRIGGER {name} AFTER {event} ON core_member REFERENCING {tables} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
        ]
    return statements


def _sqlite() -> list[str]:
    def body(*rows: tuple[str, int]) -> str:
        return "".join(
            f"{statement}; " for row, n in rows for statement in _changes(row, n, _SQLITE_DAY)
        )

    return [
        "DROP TRIGGER IF EXISTS guyub_member_tally_insert",
        "DROP TRIGGER IF EXISTS guyub_member_tally_delete",
        "DROP TRIGGER IF EXISTS guyub_member_tally_move",
        "CREATE TRIGGER guyub_member_tally_insert AFTER INSERT ON core_member "
        f"BEGIN {body(('NEW', 1))}END",
        "CREATE TRIGGER guyub_member_tally_delete AFTER DELETE ON core_member "
        f"BEGIN {body(('OLD', -1))}END",
        f"CREATE TRIGGER guyub_member_tally_move AFTER UPDATE OF {_CHANGED} ON core_member "
        "WHEN OLD.region_code IS NOT NEW.region_code OR OLD.registered_at IS NOT NEW.registered_at "
        f"BEGIN {body(('OLD', -1), ('NEW', 1))}END",
    ]


def _rebuild(day: str) -> list[str]:
    """Counted afresh from the members (the triggers keep them from then on)."""
    return [
        *(f"DELETE FROM {table}" for table in _TABLES),
        "INSERT INTO core_member_tally (region_code, members, registered) "
        "SELECT COALESCE(region_code, ''), COUNT(*), COUNT(registered_at) FROM core_member "
        "GROUP BY COALESCE(region_code, '')",
        "INSERT INTO core_registration_day (region_code, day, registered) "
        f"SELECT COALESCE(region_code, ''), {day.format(row='core_member')}, COUNT(*) "
        "FROM core_member WHERE registered_at IS NOT NULL "
        f"GROUP BY COALESCE(region_code, ''), {day.format(row='core_member')}",
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
