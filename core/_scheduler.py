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
import json
import logging
import os
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from core import _sql
from core._clock import Clock, utc
from core._metrics import Metrics
from core._settings import SchedulerSettings
from core._specs import JobKind
from core._supervise import Backoff, Rounds
from core._trace import scope
from core.models import Job

if TYPE_CHECKING:
    from core._context import JobContext

__all__ = ["JobRow", "JobStatus", "Scheduled", "Scheduler"]

log = logging.getLogger(__name__)


class JobStatus:
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    LATE = "late"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Scheduled:
    """One job for :meth:`Scheduler.schedule_many`."""

    kind: str
    due_at: datetime
    payload: dict[str, Any] | None = None
    key: str | None = None
    tz: str = "UTC"
    max_attempts: int | None = None


#: A job's payload as stored (JSON text; one encoder for every job, not one per call).
_encode_payload = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

#: Jobs scheduled at once after which PostgreSQL's statistics are refreshed.
_ANALYZE_AFTER = 1_000


@dataclass(slots=True)
class JobRow:
    """A claimed job as the claim returned it: the fields a run needs, no ORM object."""

    id: int
    kind: str
    payload: dict[str, Any]
    due_at: datetime
    tz: str
    attempts: int
    max_attempts: int
    late_after_seconds: int | None

    @classmethod
    def of(cls, row: dict[str, Any]) -> JobRow:
        due, payload = row["due_at"], row["payload"]
        return cls(
            id=int(row["id"]),
            kind=str(row["kind"]),
            payload=json.loads(payload) if isinstance(payload, str | bytes) else payload or {},
            due_at=utc(due if isinstance(due, datetime) else datetime.fromisoformat(due)),
            tz=str(row["tz"]),
            attempts=int(row["attempts"]),
            max_attempts=int(row["max_attempts"]),
            late_after_seconds=row["late_after_seconds"],
        )


@dataclass(frozen=True, slots=True)
class _Claimed:
    job: JobRow
    kind: JobKind | None


ContextFactory = Callable[[JobRow, timedelta], "JobContext"]

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
        self._done: list[int] = []
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
        rows = await _sql.upsert_jobs(self.dialect, [self._row(fields, key)], returning=True)
        if rows:
            job = Job._init_from_db(**rows[0])
        else:  # the key's job has run (or is running): it stays as it is
            job = await Job.get(idempotency_key=key)
        if due <= self.clock.now() + timedelta(seconds=self.settings.poll_interval):
            self._wakeup.set()
        return job

    async def schedule_many(self, jobs: Iterable[Scheduled]) -> int:
        """Schedule many jobs in a few statements (a thousand per statement); the same rules
        as :meth:`schedule` for keys (a later entry with the same key wins). Returns how many
        were given."""
        rows: dict[object, tuple[Any, ...]] = {}
        soonest: datetime | None = None
        now = self.clock.now()
        for n, item in enumerate(jobs):
            if item.kind not in self.kinds:
                raise ValueError(f"unknown job kind {item.kind!r}")
            spec = self.kinds[item.kind]
            due = utc(item.due_at)
            soonest = due if soonest is None or due < soonest else soonest
            fields = {
                "kind": item.kind,
                "payload": item.payload or {},
                "due_at": due,
                "tz": item.tz,
                "max_attempts": item.max_attempts
                or spec.max_attempts
                or self.settings.max_attempts,
                "late_after_seconds": int(spec.late_after) if spec.late_after is not None else None,
            }
            rows[item.key if item.key is not None else n] = self._row(fields, item.key, now)
        ordered = list(rows.values())
        for start in range(0, len(ordered), _sql.JOB_CHUNK):
            await _sql.upsert_jobs(self.dialect, ordered[start : start + _sql.JOB_CHUNK])
        if len(ordered) >= _ANALYZE_AFTER:
            await _sql.analyze_jobs(self.dialect)
        if soonest is not None and soonest <= self.clock.now() + timedelta(
            seconds=self.settings.poll_interval
        ):
            self._wakeup.set()
        return len(ordered)

    def _row(
        self, fields: dict[str, Any], key: str | None, now: datetime | None = None
    ) -> tuple[Any, ...]:
        return (
            fields["kind"],
            _encode_payload(fields["payload"]),
            fields["due_at"],
            fields["tz"],
            JobStatus.PENDING,
            0,
            fields["max_attempts"],
            fields["late_after_seconds"],
            key,
            now or self.clock.now(),
        )

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

    async def _continue(self, job: Job | JobRow) -> None:
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

    async def run_due(
        self, limit: int | None = None, *, ahead: float = 0.0, concurrency: int = 1
    ) -> int:
        """Claim and run every job due now, oldest first; returns how many ran.

        ``ahead`` claims jobs falling due that many seconds from now too (each waits for its
        time): the worker loop uses it so a job runs on time, not a claim round late.
        ``concurrency`` runs that many jobs of a batch side by side (order is then only
        guaranteed by due time, not within the same instant)."""
        ran = 0
        async with self._run_lock:
            if concurrency > 1:
                return await self._run_pipelined(limit, ahead, concurrency)
            while limit is None or ran < limit:
                batch = await self._claim(self.settings.batch_size, ahead=ahead)
                if not batch:
                    break
                for claimed in batch:
                    with scope("job"):
                        await self._run(claimed)
                await self._finish_done()
                ran += len(batch)
        return ran

    async def _run_pipelined(self, limit: int | None, ahead: float, concurrency: int) -> int:
        """Batches side by side: while a batch's jobs wait for their time, the next batch is
        claimed (a claim's round trip never makes the following jobs late), with at most two
        batches in hand (a backlog is worked through batch by batch, within its leases).
        Jobs that ran are marked done one statement at a time, beside the claims."""
        size = self.settings.batch_size
        slots = asyncio.Semaphore(concurrency)
        in_hand = 0
        room = asyncio.Condition()
        ran = 0

        async def one(claimed: _Claimed) -> None:
            nonlocal in_hand
            try:
                wait = (claimed.job.due_at - self.clock.now()).total_seconds()
                if wait > 0:
                    await asyncio.sleep(wait)
                async with slots:
                    with scope("job"):
                        await self._run(claimed)
            finally:
                async with room:
                    in_hand -= 1
                    room.notify_all()

        def has_room() -> bool:
            return in_hand < size

        finishing: asyncio.Task[None] | None = None
        async with asyncio.TaskGroup() as group:
            while limit is None or ran < limit:
                async with room:
                    await room.wait_for(has_room)
                batch = await self._claim(size, ahead=ahead)
                for claimed in batch:
                    in_hand += 1
                    group.create_task(one(claimed))
                ran += len(batch)
                # Marking done runs beside the next claim (one at a time), not before it.
                if self._done and (finishing is None or finishing.done()):
                    finishing = group.create_task(self._finish_done())
                if len(batch) < size:
                    break  # all that falls due within ``ahead`` is in hand
        await self._finish_done()
        return ran

    async def run_forever(self) -> None:
        """The worker loop, run in the App's TaskGroup."""
        backoff = Backoff(first=self.settings.poll_interval)
        rounds = Rounds()
        while True:
            try:
                await rounds.run(
                    lambda: self.run_due(
                        ahead=self.settings.claim_ahead_seconds,
                        concurrency=self.settings.concurrency,
                    )
                )
                next_due = await rounds.run(self.next_due)
                backoff.reset()
                wait = self.settings.poll_interval
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # A database outage: wait longer each time, keep the loop alive.
                self.metrics.note_error(exc, "scheduler")
                wait = backoff.next()
                log.exception("scheduler loop failed; retrying in %.1fs", wait)
                next_due = None
            if next_due is not None:
                wait = min(wait, max(0.0, (next_due - self.clock.now()).total_seconds()))
            self._wakeup.clear()
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for returns normally when
            # the wait ends (a wake-up) just as the task is cancelled, swallowing the
            # cancellation, and this loop then never ends (the App's stop hung on it).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wakeup.wait()

    async def _claim(self, limit: int, *, ahead: float = 0.0) -> list[_Claimed]:
        """One statement claims the batch (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
        workers never wait for each other; SQLite has one writer at a time)."""
        now = self.clock.now()
        lease = now + timedelta(seconds=self.settings.lease_seconds)
        rows = await _sql.claim_jobs(
            self.dialect, self.worker_id, lease, now, now + timedelta(seconds=ahead), limit
        )
        jobs = sorted(map(JobRow.of, rows), key=lambda j: (j.due_at, j.id))
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
        # The kind's current policy decides (a deployment may have changed it since).
        late_after = kind.late_after
        if late_after is not None and late_by.total_seconds() > late_after:
            await self._finish(job, JobStatus.LATE, f"dropped: {late_by} late")
            self._outcome(job, "late")
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
            async with asyncio.timeout(self.job_timeout):
                await kind.handler(ctx)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.metrics.job_failed(job.kind)
            self.metrics.note_error(exc, f"job:{job.kind}")
            if await self._failed(job, exc):
                await self._continue(job)
            return
        self._done.append(job.id)
        self._outcome(job, "done")
        await self._continue(job)

    def _outcome(self, job: JobRow, result: str) -> None:
        """Count a job run's result and log one line for it."""
        self.metrics.job(job.kind, result)
        log.info(
            "job %s (%s): %s",
            job.id,
            job.kind,
            result,
            extra={"job": job.id, "kind_name": job.kind, "result": result},
        )

    async def _finish_done(self) -> None:
        """Mark the jobs that ran as done: one statement per batch."""
        done, self._done = self._done, []
        if done:
            await Job.filter(id__in=done, locked_by=self.worker_id).update(
                status=JobStatus.DONE,
                last_error=None,
                finished_at=self.clock.now(),
                locked_until=None,
            )

    async def _failed(self, job: JobRow, exc: BaseException) -> bool:
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
            self._outcome(job, "failed")
            return True
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
        return False

    async def _finish(self, job: JobRow, status: str, error: str | None) -> None:
        await Job.filter(id=job.id, locked_by=self.worker_id).update(
            status=status, last_error=error, finished_at=self.clock.now(), locked_until=None
        )
