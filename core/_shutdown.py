"""The end of a graceful stop: hand this worker's leases back so the others go on at once
instead of waiting for the leases to expire."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from tortoise.expressions import F

from core.models import Job
from core.outbox.models import Delivery

if TYPE_CHECKING:
    from core._app import App

__all__ = ["release_leases"]

log = logging.getLogger(__name__)


async def release_leases(app: App) -> None:
    """Jobs this worker was running go back to pending (their attempt not counted);
    deliveries it had claimed but not begun to send are unclaimed. Deliveries marked
    ``sending`` stay as they are: their outcome is unknown and they are never sent again."""
    if not hasattr(app, "scheduler"):
        return
    try:
        jobs = await Job.filter(status="running", locked_by=app.scheduler.worker_id).update(
            status="pending", locked_by=None, locked_until=None, attempts=F("attempts") - 1
        )
        deliveries = await Delivery.filter(
            status="pending", locked_by__startswith=f"{app.outbox.worker_id}:"
        ).update(locked_by=None, locked_until=None)
    except Exception:
        log.warning("leases not released; they expire on their own", exc_info=True)
        return
    if jobs or deliveries:
        log.info(
            "released %d jobs and %d claimed deliveries to the other workers", jobs, deliveries
        )
