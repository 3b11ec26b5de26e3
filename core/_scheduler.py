"""The durable scheduler: timed work is rows in ``core_job``, never only in memory.

A worker claims due jobs atomically (``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL,
a conditional ``UPDATE`` everywhere), so several processes can share the work and each job
runs once. A claim is a lease: a worker that dies mid-job leaves a lease that expires and
another worker takes the job again. Failures are retried with exponential backoff; a job
that keeps failing ends as ``failed`` with its error recorded. Jobs that fell due while the
bot was down run when it starts, once, unless their kind drops jobs that late.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from core._clock import Clock, utc
from core._metrics import Metrics
from core._settings import SchedulerSettings
from core._specs import JobKind
from core._trace import scope
from core.models import Job

if TYPE_CHECKING:
    from core._context import JobContext

__all__ = ["JobStatus", "Scheduler"]

log = logging.getLogger(__name__)


class JobStatus:
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    LATE = "late"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class _Claimed:
    job: Job
    kind: JobKind | None


ContextFactory = Callable[[Job, timedelta], "JobContext"]


class Scheduler:
    """Schedules and runs jobs. One per App; any number of Apps may share a database."""

    def __init__(
        self,
        clock: Clock,
        settings: SchedulerSettings,
        *,
        dialect: str = "sqlite",
        worker_id: str | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.clock = clock
        self.metrics = metrics or Metrics()
        self.settings = settings
        self.dialect = dialect
        self.worker_id = worker_id or f"{os.getpid()}-{secrets.token_hex(4)}"
        self.kinds: dict[str, JobKind] = {}
        self._context_factory: ContextFactory | None = None
        self._wakeup = asyncio.Event()
        self._run_lock = asyncio.Lock()
        self.job_timeout = 120.0

    def bind(self, context_factory: ContextFactory) -> None:
        self._context_factory = context_factory

    def register(self, kind: JobKind) -> None:
        if kind.name in self.kinds:
            raise ValueError(f"job kind {kind.name!r} is registered twice")
        self.kinds[kind.name] = kind

    # --- scheduling ------------------------------------------------------------------

    async def schedule(
        self,
        kind: str,
        due_at: datetime,
        payload: dict[str, Any] | None = None,
        *,
        key: str | None = None,
        tz: str = "UTC",
        max_attempts: int | None = None,
    ) -> Job:
        """Schedule ``kind`` at ``due_at`` (timezone-aware). With a ``key``, scheduling again
        moves the pending job instead of adding one; a finished job with that key is kept
        as it is (it will not run twice)."""
        if kind not in self.kinds:
            raise ValueError(f"unknown job kind {kind!r}")
        due = utc(due_at)
        spec = self.kinds[kind]
        attempts = max_attempts or spec.max_attempts or self.settings.max_attempts
        late = int(spec.late_after) if spec.late_after is not None else None
        fields: dict[str, Any] = {
            "kind": kind,
            "payload": payload or {},
            "due_at": due,
            "tz": tz,
            "max_attempts": attempts,
            "late_after_seconds": late,
        }
        if key is None:
            job = await Job.create(**fields)
        else:
            existing = await Job.get_or_none(idempotency_key=key)
            if existing is None:
                job = await Job.create(idempotency_key=key, **fields)
            elif existing.status == JobStatus.PENDING:
                await Job.filter(id=existing.id, status=JobStatus.PENDING).update(
                    payload=fields["payload"], due_at=due, tz=tz
                )
                await existing.refresh_from_db()
                job = existing
            else:
                job = existing
        if due <= self.clock.now() + timedelta(seconds=self.settings.poll_interval):
            self._wakeup.set()
        return job

    async def cancel(self, key: str) -> bool:
        """Cancel the pending job with this key."""
        updated = await Job.filter(idempotency_key=key, status=JobStatus.PENDING).update(
            status=JobStatus.CANCELLED, finished_at=self.clock.now()
        )
        return bool(updated)

    async def cancel_prefix(self, prefix: str) -> int:
        """Cancel every pending job whose key starts with ``prefix`` (an event's reminders)."""
        return await Job.filter(
            idempotency_key__startswith=prefix, status=JobStatus.PENDING
        ).update(status=JobStatus.CANCELLED, finished_at=self.clock.now())

    async def next_due(self) -> datetime | None:
        job = await Job.filter(status=JobStatus.PENDING).order_by("due_at").first()
        return job.due_at if job else None

    # --- running ---------------------------------------------------------------------

    async def run_due(self, limit: int | None = None) -> int:
        """Claim and run every job due now, oldest first; returns how many ran."""
        ran = 0
        async with self._run_lock:
            while limit is None or ran < limit:
                batch = await self._claim(self.settings.batch_size)
                if not batch:
                    break
                for claimed in batch:
                    with scope("job"):
                        await self._run(claimed)
                    ran += 1
        return ran

    async def run_forever(self) -> None:
        """The worker loop, run in the App's TaskGroup."""
        while True:
            try:
                await self.run_due()
                next_due = await self.next_due()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.metrics.note_error(exc, "scheduler")
                log.exception("scheduler loop failed; retrying")
                next_due = None
            wait = self.settings.poll_interval
            if next_due is not None:
                wait = min(wait, max(0.0, (next_due - self.clock.now()).total_seconds()))
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=wait)

    async def _claim(self, limit: int) -> list[_Claimed]:
        now = self.clock.now()
        lease = now + timedelta(seconds=self.settings.lease_seconds)
        claimable = Q(status=JobStatus.PENDING, due_at__lte=now) | Q(
            status=JobStatus.RUNNING, locked_until__lt=now
        )
        claim = {"status": JobStatus.RUNNING, "locked_by": self.worker_id, "locked_until": lease}
        ids: list[int]
        if self.dialect == "postgres":
            # Lock a batch nobody else holds, then claim it in the same transaction.
            async with in_transaction() as conn:
                locked = (
                    await Job.filter(claimable)
                    .using_db(conn)
                    .order_by("due_at", "id")
                    .limit(limit)
                    .select_for_update(skip_locked=True)
                    .values_list("id", flat=True)
                )
                ids = cast(list[int], list(locked))
                if ids:
                    await (
                        Job.filter(claimable, id__in=ids)
                        .using_db(conn)
                        .update(attempts=F("attempts") + 1, **claim)
                    )
        else:
            # SQLite has one writer at a time: a conditional UPDATE per row is the claim.
            candidates = await (
                Job.filter(claimable)
                .order_by("due_at", "id")
                .limit(limit)
                .values_list("id", flat=True)
            )
            ids = []
            for job_id in candidates:
                taken = await Job.filter(claimable, id=job_id).update(
                    attempts=F("attempts") + 1, **claim
                )
                if taken:
                    ids.append(cast(int, job_id))
        if not ids:
            return []
        jobs = await Job.filter(
            id__in=ids, status=JobStatus.RUNNING, locked_by=self.worker_id, locked_until=lease
        ).order_by("due_at", "id")
        return [_Claimed(job, self.kinds.get(job.kind)) for job in jobs]

    async def _run(self, claimed: _Claimed) -> None:
        job, kind = claimed.job, claimed.kind
        now = self.clock.now()
        if kind is None:
            await self._finish(job, JobStatus.FAILED, f"no handler for job kind {job.kind!r}")
            self._outcome(job, "failed")
            log.error("job %s: no plugin handles kind %r", job.id, job.kind)
            return
        late_by = now - job.due_at
        if job.late_after_seconds is not None and late_by.total_seconds() > job.late_after_seconds:
            await self._finish(job, JobStatus.LATE, f"dropped: {late_by} late")
            self._outcome(job, "late")
            log.warning(
                "job %s (%s) dropped: it fell due %s ago while the bot was down",
                job.id,
                job.kind,
                late_by,
            )
            return
        if self._context_factory is None:
            raise RuntimeError("scheduler is not bound to an App")
        ctx = self._context_factory(job, late_by)
        try:
            await asyncio.wait_for(kind.handler(ctx), timeout=self.job_timeout)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.metrics.job_failed(job.kind)
            self.metrics.note_error(exc, f"job:{job.kind}")
            await self._failed(job, exc)
            return
        await self._finish(job, JobStatus.DONE, None)
        self._outcome(job, "done")

    def _outcome(self, job: Job, result: str) -> None:
        """Count a job run's result and log one line for it."""
        self.metrics.job(job.kind, result)
        log.info(
            "job %s (%s): %s",
            job.id,
            job.kind,
            result,
            extra={"job": job.id, "kind_name": job.kind, "result": result},
        )

    async def _failed(self, job: Job, exc: BaseException) -> None:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if job.attempts >= job.max_attempts:
            log.error(
                "job %s (%s) failed for good after %d attempts: %s",
                job.id,
                job.kind,
                job.attempts,
                error,
                exc_info=exc,
            )
            await self._finish(job, JobStatus.FAILED, error)
            self._outcome(job, "failed")
            return
        self._outcome(job, "retry")
        delay = min(
            self.settings.retry_base_seconds * 2 ** (job.attempts - 1),
            self.settings.retry_max_seconds,
        )
        log.warning(
            "job %s (%s) failed (attempt %d/%d), retrying in %ss: %s",
            job.id,
            job.kind,
            job.attempts,
            job.max_attempts,
            delay,
            error,
        )
        await Job.filter(id=job.id, locked_by=self.worker_id).update(
            status=JobStatus.PENDING,
            due_at=self.clock.now() + timedelta(seconds=delay),
            last_error=error,
            locked_by=None,
            locked_until=None,
        )

    async def _finish(self, job: Job, status: str, error: str | None) -> None:
        await Job.filter(id=job.id, locked_by=self.worker_id).update(
            status=status, last_error=error, finished_at=self.clock.now(), locked_until=None
        )
