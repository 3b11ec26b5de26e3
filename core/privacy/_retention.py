"""Retention: a daily durable job deletes what Guyub no longer needs.

* personal data of members inactive for ``inactive_member_days`` (the same deletion as
  /forgetme; members holding a captain or admin role are kept),
* audit entries older than ``audit_days``,
* used or expired link codes and past rate-limit windows,
* finished jobs older than ``finished_jobs_days`` (their payloads may name members),
* and whatever plugins and core features (the outbox's delivered rows) delete through the
  ``guyub_apply_retention`` hook, given the cut-off times in a :class:`RetentionPolicy`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tortoise.expressions import Q

from core.models import AuditEntry, FlowPrompt, Job, Member, RoleGrant
from core.privacy import _members
from core.privacy._settings import PrivacySettings
from core.privacy.models import LinkCode, RateCounter

if TYPE_CHECKING:
    from core._app import App
    from core._context import JobContext

__all__ = ["JOB_KIND", "RetentionPolicy", "next_run", "run_retention", "schedule_next"]

#: Job statuses after which a job never runs again.
FINISHED = ("done", "failed", "late", "cancelled")

log = logging.getLogger(__name__)

JOB_KIND = "privacy:retention"
#: Days a flow's question is remembered (to answer a press on its spent buttons).
FLOW_PROMPT_DAYS = 30
#: Members deleted per run at most, so one run stays short; the rest go the next day.
BATCH = 500


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """Cut-off times of one retention run: rows older than a cut-off go (None: keep)."""

    now: datetime
    inactive_members_before: datetime | None
    audit_before: datetime | None
    delivered_outbox_before: datetime | None

    @classmethod
    def from_settings(cls, settings: PrivacySettings, now: datetime) -> RetentionPolicy:
        def cut(days: int) -> datetime | None:
            return now - timedelta(days=days) if days > 0 else None

        return cls(
            now=now,
            inactive_members_before=cut(settings.inactive_member_days),
            audit_before=cut(settings.audit_days),
            delivered_outbox_before=cut(settings.delivered_outbox_days),
        )


def next_run(now: datetime, hour: int) -> datetime:
    """The next ``hour``:00 UTC strictly after ``now``."""
    run = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    return run if run > now else run + timedelta(days=1)


async def schedule_next(app: App, after: datetime) -> None:
    """Schedule the next daily run; the key makes it once per day whatever the number of
    workers or restarts."""
    due = next_run(after, app.privacy.settings.retention_hour_utc)
    await app.scheduler.schedule(JOB_KIND, due, key=f"{JOB_KIND}:{due.date().isoformat()}")


async def run_retention(app: App) -> dict[str, Any]:
    """Apply retention now; returns what was deleted, per kind of row."""
    now = app.clock.now()
    policy = RetentionPolicy.from_settings(app.privacy.settings, now)
    counts: dict[str, Any] = {"members": 0, "audit": 0}
    if policy.inactive_members_before is not None:
        cut = policy.inactive_members_before
        keep = await RoleGrant.all().values_list("member_id", flat=True)
        stale = (
            await Member.filter(
                Q(last_active_at__lt=cut) | Q(last_active_at__isnull=True, created_at__lt=cut)
            )
            .exclude(id__in=list(keep))
            .order_by("id")
            .limit(BATCH)
        )
        for member in stale:
            await _members.forget_member(app, member, reason="retention")
            counts["members"] += 1
    if policy.audit_before is not None:
        counts["audit"] = await AuditEntry.filter(at__lt=policy.audit_before).delete()
    counts["link_codes"] = await LinkCode.filter(
        Q(expires_at__lt=now - timedelta(days=1)) | Q(status="used")
    ).delete()
    if app.privacy.settings.finished_jobs_days:
        before = now - timedelta(days=app.privacy.settings.finished_jobs_days)
        counts["finished_jobs"] = await Job.filter(
            status__in=FINISHED, finished_at__lt=before
        ).delete()
    # A flow's questions are answered within days; after a month their buttons' stale
    # presses meet "expired" instead of "already done".
    counts["flow_prompts"] = await FlowPrompt.filter(
        created_at__lt=now - timedelta(days=FLOW_PROMPT_DAYS)
    ).delete()
    counts["rate_counters"] = await RateCounter.filter(
        window_start__lt=now - timedelta(days=1)
    ).delete()
    counts["hooks"] = await app.plugins.apply_retention(app, policy)
    await app.audit.record("privacy.retention", **_plain(counts))
    log.info("retention applied: %s", counts)
    return counts


def _plain(counts: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in counts.items() if v}


async def retention_job(ctx: JobContext) -> None:
    await run_retention(ctx.app)
    await schedule_next(ctx.app, ctx.app.clock.now())
