"""``guyub status``: what a deployment is doing, read from its database.

Workers (from their heartbeats), who holds outbox claims, queue depths, the scheduler's lag
and the last errors. Healthy (exit 0) when at least one worker is alive, none went quiet
without stopping cleanly and the scheduler keeps up; degraded (exit 1) otherwise, with the
reasons.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tortoise.functions import Count, Min

from core.models import Job
from core.outbox.models import Delivery
from core.state.models import WorkerBeat

__all__ = ["Status", "WorkerState", "collect_status", "render_status"]

#: Workers seen less than this long ago but quiet for longer than ``stale_after`` are
#: "missing" (degraded); older rows are history and left out.
_FORGET_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class WorkerState:
    name: str
    host: str
    pid: int
    adapters: str
    state: str  # alive, missing, stopped
    seen_seconds_ago: float
    started_at: str
    handled: int
    in_flight: int
    last_error: str | None
    last_error_at: str | None


@dataclass
class Status:
    workers: list[WorkerState] = field(default_factory=list)
    outbox: dict[str, int] = field(default_factory=dict)
    outbox_claims: dict[str, int] = field(default_factory=dict)
    jobs: dict[str, int] = field(default_factory=dict)
    scheduler_lag_seconds: float = 0.0
    failed_jobs: list[dict[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["healthy"] = self.healthy
        return data


async def collect_status(now: datetime, stale_after: float, max_lag: float) -> Status:
    """Read everything from the database as of ``now``."""
    status = Status()
    for beat in await WorkerBeat.filter(seen_at__gte=now - _FORGET_AFTER).order_by("name"):
        ago = (now - beat.seen_at).total_seconds()
        if beat.stopped_at is not None:
            state = "stopped"
        elif ago > stale_after:
            state = "missing"
            status.problems.append(f"worker {beat.name} silent for {ago:.0f}s")
        else:
            state = "alive"
        status.workers.append(
            WorkerState(
                beat.name,
                beat.host,
                beat.pid,
                beat.adapters,
                state,
                round(ago, 1),
                beat.started_at.isoformat(timespec="seconds"),
                beat.handled,
                beat.in_flight,
                beat.last_error,
                beat.last_error_at.isoformat(timespec="seconds") if beat.last_error_at else None,
            )
        )
    if not any(w.state == "alive" for w in status.workers):
        status.problems.append("no worker alive")

    status.outbox = {
        "due": await Delivery.filter(status="pending", next_attempt_at__lte=now).count(),
        "deferred": await Delivery.filter(status="pending", next_attempt_at__gt=now).count(),
        "sending": await Delivery.filter(status="sending").count(),
    }
    claims = (
        await Delivery.filter(status__in=("pending", "sending"), locked_until__gt=now)
        .annotate(n=Count("id"))
        .group_by("locked_by")
        .values("locked_by", "n")
    )
    for row in claims:
        # A claim token is "<worker id>:<claim number>"; the worker is what matters here.
        holder = str(row["locked_by"] or "?").rsplit(":", 1)[0]
        status.outbox_claims[holder] = status.outbox_claims.get(holder, 0) + int(row["n"])

    due = Job.filter(status="pending", due_at__lte=now)
    status.jobs = {
        "due": await due.count(),
        "scheduled": await Job.filter(status="pending", due_at__gt=now).count(),
        "running": await Job.filter(status="running").count(),
        "failed_last_day": await Job.filter(
            status="failed", finished_at__gte=now - timedelta(days=1)
        ).count(),
    }
    if status.jobs["due"]:
        rows = await due.annotate(oldest=Min("due_at")).values("oldest")
        oldest = rows[0]["oldest"] if rows else None
        if oldest is not None:
            status.scheduler_lag_seconds = round((now - oldest).total_seconds(), 1)
    if status.scheduler_lag_seconds > max_lag:
        status.problems.append(
            f"scheduler {status.scheduler_lag_seconds:.0f}s behind (more than {max_lag:.0f}s)"
        )
    for job in await Job.filter(status="failed").order_by("-finished_at").limit(5):
        status.failed_jobs.append(
            {
                "id": str(job.id),
                "kind": job.kind,
                "at": job.finished_at.isoformat(timespec="seconds") if job.finished_at else "",
                "error": (job.last_error or "")[:200],
            }
        )
    return status


def render_status(status: Status) -> str:
    """The report as an operator reads it in a terminal."""
    lines = [f"status: {'healthy' if status.healthy else 'DEGRADED'}"]
    lines.extend(f"  ! {problem}" for problem in status.problems)
    lines.append("")
    lines.append("workers:")
    if not status.workers:
        lines.append("  (none seen in the last hour)")
    for w in status.workers:
        lines.append(
            f"  {w.name:<24} {w.state:<8} seen {w.seen_seconds_ago:>6.1f}s ago  "
            f"pid {w.pid} on {w.host}  adapters [{w.adapters}]  "
            f"handled {w.handled}  in flight {w.in_flight}"
        )
        if w.last_error:
            lines.append(f"    last error ({w.last_error_at}): {w.last_error}")
    lines.append("")
    depth = ", ".join(f"{k} {v}" for k, v in status.outbox.items())
    lines.append(f"outbox: {depth}")
    for holder, n in sorted(status.outbox_claims.items()):
        lines.append(f"  claimed by {holder}: {n}")
    jobs = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in status.jobs.items())
    lines.append(f"scheduler: {jobs}; lag {status.scheduler_lag_seconds:.1f}s")
    if status.failed_jobs:
        lines.append("last failed jobs:")
        lines.extend(
            f"  #{j['id']} {j['kind']} at {j['at']}: {j['error']}" for j in status.failed_jobs
        )
    return "\n".join(lines)
