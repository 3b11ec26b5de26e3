"""Keeping the ``regions_region`` table equal to the shipped data, at every start.

Idempotent: new regions are added, renamed ones updated in place (members keep their code),
and unchanged rows are left alone, so a start-up on an up-to-date database writes nothing.
Regions that disappeared from the data are kept: members may still point at them.
"""

from __future__ import annotations

import logging

from tortoise.transactions import in_transaction

from plugins.regions._gazetteer import gazetteer
from plugins.regions.models import Region

__all__ = ["sync_regions"]

log = logging.getLogger(__name__)

_FIELDS = ("name", "kind", "parent_code", "timezone")


async def sync_regions() -> tuple[int, int]:
    """Write the shipped regions to the database; returns (added, updated)."""
    book = gazetteer()
    stored = {r.code: r for r in await Region.all()}
    new: list[Region] = []
    changed: list[Region] = []
    for code, info in book.regions.items():
        row = stored.get(code)
        values = {
            "name": info.name,
            "kind": info.kind,
            "parent_code": info.parent_code,
            "timezone": info.timezone,
        }
        if row is None:
            new.append(Region(code=code, **values))
        elif any(getattr(row, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(row, key, value)
            changed.append(row)
    if new or changed:
        async with in_transaction():
            if new:
                await Region.bulk_create(new, ignore_conflicts=True)
            if changed:
                await Region.bulk_update(
                    changed, fields=["name", "kind", "parent_code", "timezone"]
                )
        log.info("regions: %d added, %d updated", len(new), len(changed))
    return len(new), len(changed)
