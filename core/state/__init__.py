"""Small shared state in the database: updates seen once, and key/value settings adapters keep
(a Discord command-set hash, for instance). Nothing here lives only in memory, so several
worker processes agree."""

from __future__ import annotations

from datetime import datetime

from tortoise.exceptions import IntegrityError

from core.state.models import KeyValue, SeenUpdate

__all__ = ["first_time", "get_value", "set_value"]


async def first_time(source: str, key: str, at: datetime) -> bool:
    """True the first time ``(source, key)`` is seen, by any process (updates delivered twice,
    webhook retries behind a load balancer)."""
    try:
        await SeenUpdate.create(source=source[:32], key=key[:128], seen_at=at)
    except IntegrityError:
        return False
    return True


async def get_value(key: str) -> str | None:
    row = await KeyValue.get_or_none(key=key)
    return row.value if row else None


async def set_value(key: str, value: str) -> None:
    await KeyValue.update_or_create(key=key, defaults={"value": value})
