"""Consent records: each decision a member makes (version, time, channel) is a row; the
latest row is their current state."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from core.privacy.models import ConsentRecord

__all__ = ["ConsentStatus", "latest", "record"]


class ConsentStatus(StrEnum):
    GIVEN = "given"
    WITHDRAWN = "withdrawn"  # declined or withdrawn: nothing but deletion is processed
    ASKED = "asked"  # shown, not answered yet


async def latest(member_id: int) -> ConsentRecord | None:
    return await ConsentRecord.filter(member_id=member_id).order_by("-id").first()


async def record(
    member_id: int, version: int, status: ConsentStatus, at: datetime, channel: str
) -> ConsentRecord:
    return await ConsentRecord.create(
        member_id=member_id, version=version, status=status.value, at=at, channel=channel[:16]
    )


def rank(row: ConsentRecord | None, version: int) -> int:
    """How much a state allows, for merging two members' states (the lower one wins)."""
    if row is None:
        return 1
    if row.status == ConsentStatus.WITHDRAWN:
        return 0
    if row.status == ConsentStatus.GIVEN:
        return 3 if row.version == version else 2
    return 1
