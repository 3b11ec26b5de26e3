"""The forget sweep: after every plugin forgot a member, walk every table of every app and
clear what still points at them, whatever the column is called in which plugin.

Plugins forget their own rows (``guyub_forget_member``); a column a plugin overlooked
(``polls_poll.created_by_id``, the sender's private chat in ``captains_broadcast.progress``)
would keep the member reachable. The sweep finds such columns by what they can hold, not
from a list:

- integer columns named for a person (``member_id``, ``sender_id``, ``*_by_id``,
  ``actor_id``, ``only_for``...) holding one of the member's ids: set to NULL (or 0 where
  the column can't be NULL), so shared rows (a poll, a broadcast) and their totals stay;
- text columns named for a chat or user (``chat``, ``chat_key``, ``user_id``...) equal to one
  of the member's platform ids or private chats: emptied;
- JSON columns: keys naming a person or chat (``member``, ``chat``, ``user``...) whose value
  is one of those ids are dropped; in a row that pointed at the member, every chat or user
  key is dropped.

The core's own tables (members, accounts, audit log, jobs) are handled by the caller.
:func:`person_columns` is what the meta-test checks every model against.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tortoise import fields
from tortoise.expressions import Q
from tortoise.fields.relational import RelationalField
from tortoise.models import Model

__all__ = ["Needles", "PersonColumns", "person_columns", "person_key", "points_at", "sweep"]

MEMBER_COLUMN = re.compile(
    r"(?:^|_)(?:member|actor|owner|creator|author|voter|sender|recipient|user|by)(?:_id)?$"
    r"|^only_for$",
    re.I,
)
PLATFORM_COLUMN = re.compile(
    r"(?:^|_)(?:chat|user|account|recipient|sender|dm|target)(?:_(?:id|key|ref))?$", re.I
)
_JSON_PERSON_KEY = re.compile(
    r"^(?:member|members|member_id|actor|owner|creator|author|voter|sender|recipient|user|"
    r"user_id|chat|chat_id|chat_key|account|by|by_id)$",
    re.I,
)
_JSON_CHAT_KEY = re.compile(r"^(?:chat|chat_id|chat_key|user|user_id|account|dm)$", re.I)
_INT_FIELDS = (fields.IntField, fields.BigIntField, fields.SmallIntField)
_TEXT_FIELDS = (fields.CharField, fields.TextField)


def person_key(key: str) -> bool:
    """Whether a JSON key names a person or a chat (``member``, ``chat``, ``user``...)."""
    return bool(_JSON_PERSON_KEY.match(key))


@dataclass(frozen=True)
class PersonColumns:
    """The columns of one model that can hold a member id, a platform id, or either (JSON)."""

    member: tuple[str, ...]
    platform: tuple[str, ...]
    json: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.member or self.platform or self.json)


@dataclass(frozen=True)
class Needles:
    """What identifies the member being forgotten."""

    member_ids: frozenset[int]
    #: Platform user ids, ``platform:id`` refs and private chat ids/keys.
    platform: frozenset[str]


def person_columns(model: type[Model]) -> PersonColumns:
    """Which columns of ``model`` can hold a member or platform id (by type and name)."""
    member: list[str] = []
    platform: list[str] = []
    json: list[str] = []
    pk = model._meta.pk_attr
    for name, field in model._meta.fields_map.items():
        if isinstance(field, RelationalField) or name == pk:
            continue
        if isinstance(field, _INT_FIELDS) and MEMBER_COLUMN.search(name):
            member.append(name)
        elif isinstance(field, _TEXT_FIELDS) and PLATFORM_COLUMN.search(name):
            platform.append(name)
        elif isinstance(field, fields.JSONField):
            json.append(name)
    return PersonColumns(tuple(member), tuple(platform), tuple(json))


def _scrub(value: Any, needles: Needles, *, all_chats: bool) -> tuple[Any, bool]:
    """``value`` without the keys that point at the member; and whether anything changed."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        changed = False
        for key, item in value.items():
            if _JSON_PERSON_KEY.match(str(key)) and points_at(item, needles):
                changed = True
                continue
            if all_chats and _JSON_CHAT_KEY.match(str(key)):
                changed = True
                continue
            new, did = _scrub(item, needles, all_chats=all_chats)
            out[key] = new
            changed = changed or did
        return out, changed
    if isinstance(value, list):
        items = [_scrub(v, needles, all_chats=all_chats) for v in value]
        return [v for v, _ in items], any(did for _, did in items)
    return value, False


def points_at(value: Any, needles: Needles) -> bool:
    """Whether a JSON value (under a person key) is one of the member's ids."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value in needles.member_ids
    if isinstance(value, str):
        return value in needles.platform or (
            value.isdigit() and len(value) < 12 and int(value) in needles.member_ids
        )
    if isinstance(value, list):
        return any(points_at(v, needles) for v in value)
    return False


def _among(model: type[Model], column: str, values: list[Any]) -> Q:
    """``column IN values``. The column always comes from the model's own field map (never
    from anything typed), which is checked here: the lookup can't be steered by input."""
    if column not in model._meta.fields_map:
        raise ValueError(f"{model.__name__} has no field {column!r}")
    lookup: dict[str, Any] = {f"{column}__in": values}
    return Q(**lookup)


async def sweep(models: Iterable[type[Model]], needles: Needles) -> dict[str, int]:
    """Clear every trace of the member in ``models``; returns the rows changed per table."""
    changed: dict[str, int] = {}
    ids = sorted(needles.member_ids)
    for model in models:
        columns = person_columns(model)
        if not columns:
            continue
        pk = model._meta.pk_attr
        table = model._meta.db_table
        touched: set[Any] = set()
        for column in columns.member:
            rows = await model.filter(_among(model, column, ids)).values_list(pk, flat=True)
            if not rows:
                continue
            touched.update(rows)
            field = model._meta.fields_map[column]
            await model.filter(_among(model, pk, list(rows))).update(
                **{column: None if field.null else 0}
            )
        for column in columns.platform:
            values = sorted(needles.platform)
            rows = await model.filter(_among(model, column, values)).values_list(pk, flat=True)
            if not rows:
                continue
            touched.update(rows)
            field = model._meta.fields_map[column]
            await model.filter(_among(model, pk, list(rows))).update(
                **{column: None if field.null else ""}
            )
        for column in columns.json:
            for row_id, value in await model.all().values_list(pk, column):
                new, did = _scrub(value, needles, all_chats=row_id in touched)
                if did:
                    touched.add(row_id)
                    await model.filter(_among(model, pk, [row_id])).update(**{column: new})
        if touched:
            changed[table] = len(touched)
    return changed
