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
from zoneinfo import ZoneInfo

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from core._clock import Clock, utc
from core._settings import SchedulerSettings
from core._specs import JobKind
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

#: Where a recurring occurrence keeps its series, zone and occurrence time in its payload.
RECUR = "_recur"


def _occurrence_key(kind: str, series: str, at: datetime) -> str:
    return f"recur:{kind}:{series}:{utc(at):%Y%m%dT%H%M%SZ}"


class Scheduler:
    """Schedules and runs jobs. One per App; any number of Apps may share a database."""

    def __init__(
        self,
        clock: Clock,
        settings: SchedulerSettings,
        *,
        dialect: str = "sqlite",
        worker_id: str | None = None,
    ) -> None:
        self.clock = clock
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
            job = await self._keyed(key, fields)
        if due <= self.clock.now() + timedelta(seconds=self.settings.poll_interval):
            self._wakeup.set()
        return job

    async def _keyed(self, key: str, fields: dict[str, Any]) -> Job:
        existing = await Job.get_or_none(idempotency_key=key)
        if existing is None:
            try:
                async with in_transaction():  # a savepoint inside a handler's transaction
                    return await Job.create(idempotency_key=key, **fields)
            except IntegrityError:
                # Another worker created it in between: that row is the job.
                return await Job.get(idempotency_key=key)
        if existing.status == JobStatus.PENDING:
            await Job.filter(id=existing.id, status=JobStatus.PENDING).update(
                payload=fields["payload"], due_at=fields["due_at"], tz=fields["tz"]
            )
            await existing.refresh_from_db()
        return existing

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

    # --- recurring jobs ---------------------------------------------------------------

    async def start_series(
        self,
        kind: str,
        series: str = "default",
        *,
        tz: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> Job:
        """Start a series of a recurring ``kind`` (a no-op if it is already going): its
        occurrences fall by the kind's ``every``/``cron`` in ``tz`` (default the kind's),
        each run with ``payload``. A plugin keeps one series per region, say, with
        ``series=region_code, tz=region_zone``."""
        spec = self.kinds.get(kind)
        if spec is None:
            raise ValueError(f"unknown job kind {kind!r}")
        if spec.recurrence is None:
            raise ValueError(f"job kind {kind!r} does not recur (give it every= or cron=)")
        if len(series) > 64:
            raise ValueError("a series name is at most 64 characters")
        going = await Job.filter(
            idempotency_key__startswith=f"recur:{kind}:{series}:",
            status__in=(JobStatus.PENDING, JobStatus.RUNNING),
        ).first()
        if going is not None:
            return going
        return await self._occurrence(kind, series, tz or spec.tz, payload or {}, self.clock.now())

    async def stop_series(self, kind: str, series: str = "default") -> int:
        """Stop a series: its pending occurrence is cancelled and none follows."""
        return await self.cancel_prefix(f"recur:{kind}:{series}:")

    async def resume_series(self) -> None:
        """At start-up: start every ``autostart`` kind's default series, and continue any
        series whose last occurrence finished without its successor being scheduled (a
        crash in between). Cancelled series stay stopped."""
        for spec in self.kinds.values():
            if spec.recurrence is None:
                continue
            newest: dict[str, Job] = {}
            rows = await Job.filter(
                kind=spec.name, idempotency_key__startswith=f"recur:{spec.name}:"
            ).order_by("-due_at", "-id")
            for row in rows:
                meta = (row.payload or {}).get(RECUR) or {}
                newest.setdefault(str(meta.get("series", "default")), row)
            for row in newest.values():
                if row.status in (JobStatus.DONE, JobStatus.FAILED, JobStatus.LATE):
                    await self._continue(row)
            if spec.autostart and "default" not in newest:
                await self.start_series(spec.name)

    async def _occurrence(
        self, kind: str, series: str, tz: str, payload: dict[str, Any], after: datetime
    ) -> Job:
        spec = self.kinds[kind]
        assert spec.recurrence is not None
        at = spec.recurrence.next_after(after, ZoneInfo(tz))
        meta = {"series": series, "tz": tz, "at": at.isoformat()}
        return await self.schedule(
            kind,
            at,
            {**payload, RECUR: meta},
            key=_occurrence_key(kind, series, at),
            tz=tz,
        )

    async def _continue(self, job: Job) -> None:
        """Schedule the occurrence after ``job``'s (and after now: missed ones are skipped)."""
        meta = (job.payload or {}).get(RECUR)
        if not meta or job.kind not in self.kinds or self.kinds[job.kind].recurrence is None:
            return
        payload = {k: v for k, v in (job.payload or {}).items() if k != RECUR}
        occurred = datetime.fromisoformat(str(meta["at"]))
        after = max(occurred, self.clock.now())
        try:
            await self._occurrence(job.kind, str(meta["series"]), str(meta["tz"]), payload, after)
        except Exception:
            log.exception("could not schedule the next %s (series %s)", job.kind, meta["series"])

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
            except Exception:
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
            log.error("job %s: no plugin handles kind %r", job.id, job.kind)
            return
        late_by = now - job.due_at
        # The kind's current policy decides (a deployment may have changed it since).
        late_after = kind.late_after
        if late_after is not None and late_by.total_seconds() > late_after:
            await self._finish(job, JobStatus.LATE, f"dropped: {late_by} late")
            log.warning(
                "job %s (%s) dropped: it fell due %s ago while the bot was down",
                job.id,
                job.kind,
                late_by,
            )
            await self._continue(job)
            return
        if self._context_factory is None:
            raise RuntimeError("scheduler is not bound to an App")
        ctx = self._context_factory(job, late_by)
        try:
            await asyncio.wait_for(kind.handler(ctx), timeout=self.job_timeout)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if await self._failed(job, exc):
                await self._continue(job)
            return
        await self._finish(job, JobStatus.DONE, None)
        await self._continue(job)

    async def _failed(self, job: Job, exc: BaseException) -> bool:
        """Retry later, or give up; True when the job failed for good."""
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
            return True
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
        return False

    async def _finish(self, job: Job, status: str, error: str | None) -> None:
        await Job.filter(id=job.id, locked_by=self.worker_id).update(
            status=status, last_error=error, finished_at=self.clock.now(), locked_until=None
        )
