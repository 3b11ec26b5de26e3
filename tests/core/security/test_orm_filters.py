"""SQL and ORM filters are never built from raw user text: hostile strings go through the
lookups as values (and nothing in the code builds SQL from strings)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core import Account, Member
from core.testing import FakeChat

ROOT = Path(__file__).resolve().parents[3]

HOSTILE = [
    "' OR '1'='1",
    "admin'--",
    '" OR ""="',
    "%",
    "%%",
    "_",
    "__",
    "\\",
    "\\%",
    "*",
    "#1 OR 1=1",
    "#0",
    "#-1",
    "#99999999999999999999999",
    "#²",
    "#١٢",
    "@%",
    "@_",
    "fake:%",
    "fake:' OR 1=1 --",
    "telegram:1; DROP TABLE core_member",
    "'; DROP TABLE core_member; --",
    "username__icontains",
    "member__id",
    "ℌ𝔢𝔩𝔩𝔬",
    "x" * 500,
]


@pytest.mark.parametrize("text", HOSTILE)
async def test_identity_find_takes_hostile_text_as_a_value(chat: FakeChat, text: str) -> None:
    for name in ("amir", "budi"):
        await chat.user(name).says("/help")
    assert await chat.app.identity.find(text) is None
    assert await chat.app.identity.find(text, "fake") is None
    assert await Member.all().count() == 2
    assert await Account.all().count() == 2


@pytest.mark.parametrize("text", HOSTILE)
async def test_hostile_link_codes_and_platforms_change_nothing(chat: FakeChat, text: str) -> None:
    amir = chat.user("amir")
    await amir.says(f"/link {text}")
    chat.expect_sent(amir, matches="Kode tidak berlaku|Terlalu banyak")
    await amir.says(f"/unlink {text}")
    chat.expect_sent(amir, matches="Tidak ada akun tertaut|Isiannya terlalu banyak")
    assert await Member.all().count() == 1


#: Statements the ORM can't express, checked by the tests below.
CORE_HAND_WRITTEN = (ROOT / "core" / "_sql.py", ROOT / "core" / "_tallies.py")
HAND_WRITTEN = (*CORE_HAND_WRITTEN, ROOT / "core" / "outbox" / "_sql.py")


def _interpolated(path: Path) -> set[str]:
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        ast.unparse(part.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        for part in node.values
        if isinstance(part, ast.FormattedValue)
    }


def _sources() -> list[Path]:
    files: list[Path] = []
    for package in ("core", "plugins", "adapters"):
        base = ROOT / package
        if base.is_dir():
            files.extend(p for p in base.rglob("*.py") if "migrations" not in p.parts)
    # core/_sql.py and core/_tallies.py hold the few statements the ORM can't express
    # (triggers, batched writes, one step per region down an index), core/outbox/_sql.py
    # the outbox's hot statements; they are built from their constants, values go as
    # parameters (tested below).
    return [p for p in files if p not in HAND_WRITTEN]


RAW_SQL = re.compile(r"\.raw\(|execute_query|execute_script|RawSQL\(|execute_insert|\.sql\(")


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_sql_built_from_strings(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert not RAW_SQL.search(source), f"{path}: raw SQL; use ORM filters with values"
    # Filters are keyword arguments in the code, never a dict built from input.
    assert not re.search(r"\.(filter|exclude|get|get_or_none)\(\*\*", source), (
        f"{path}: a filter built from a dict; name the fields in the code"
    )


def test_hand_written_sql_takes_values_as_parameters() -> None:
    """Every f-string in core/_sql.py and core/_tallies.py interpolates only placeholder
    numbers, joined placeholder lists or the modules' own constants and trigger
    definitions."""
    import ast

    interpolated = {
        ast.unparse(part.value)
        for path in CORE_HAND_WRITTEN
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.JoinedStr)
        for part in node.values
        if isinstance(part, ast.FormattedValue)
    }
    allowed = {
        "rows",
        "marks",
        "name",
        "body",
        "events",
        "table",
        "function",
        "CACHE_CHANNEL",
        "e",
        "_VERSION",
        "_JOB_CLAIMED",
        "returning",  # _JOB_CLAIMED's columns, each prefixed by the table's alias
        "column",
        "condition",
        "', '.join(_JOB_INSERT)",
        "casts.get(c, '')",
        "values",
        "width * r + c + 1",
        "events.split()[0].lower()",
        "expr.format(row=row)",
        "3 * i + 1",
        "3 * i + 2",
        "3 * i + 3",
        # core/_tallies.py: trigger names, events, NEW/OLD, +1/-1, the module's own
        # statement fragments, and placeholder numbers.
        "_MEMBER_CHANGED",
        "body(changes)",
        "changes",
        "code",
        "day",
        "event",
        "event.lower()",
        "i + 1",
        "leaving",
        "n",
        "ref",
        "s",
        "table.removeprefix('core_')",
        "tables",
        "when",
    }
    assert interpolated <= allowed, interpolated - allowed


def test_the_outbox_statements_take_values_as_parameters() -> None:
    """Every f-string in core/outbox/_sql.py interpolates only the module's constants,
    statement fragments made of them, or placeholders (``m(value)`` appends the value to
    the parameters and returns ``$n`` / ``?n``)."""
    allowed = {
        "_CLAIMED",
        "_CLAIMED_D",
        "_TABLE",
        "c.strip()",  # a column name of _CLAIMED
        "claimable",
        "picked",
        "len(self.values)",
        "batch_mark",
        "limit_mark",
        "now_mark",
        "token_mark",
        "until_mark",
        "sent_ids",
        "m(now)",
        "m(token)",
        "m.id_in(sent)",
        "m.id_in(wave)",
        "m.time(now)",
        "m.time(until)",
        "self(value)",
        "self(list(ids))",
        "self(json.dumps(list(ids)))",
    }
    interpolated = _interpolated(ROOT / "core" / "outbox" / "_sql.py")
    assert interpolated <= allowed, interpolated - allowed
