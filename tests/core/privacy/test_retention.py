"""The daily retention job: scheduled once at start-up, deletes what is too old, and lets
plugins and core features (the outbox) delete theirs through ``guyub_apply_retention``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core import App, AuditEntry, FakeClock, Job, Member, PluginInfo, Role, hookimpl
from core.privacy import RetentionPolicy
from core.privacy._retention import JOB_KIND, next_run, schedule_next
from core.privacy.models import LinkCode, RateCounter
from core.testing import TEST_START, FakeChat
from tests.core.privacy.privacy_helpers import EventsPlugin, Signup


class OutboxLike:
    """Stands in for a feature with rows of its own to expire (the outbox)."""

    PLUGIN = PluginInfo(name="outboxlike")

    def __init__(self) -> None:
        self.policies: list[RetentionPolicy] = []

    @hookimpl
    async def guyub_apply_retention(self, app: App, policy: RetentionPolicy) -> dict[str, int]:
        self.policies.append(policy)
        return {"delivered": 3}

    @hookimpl
    async def guyub_export_member(self, member: Member) -> None:
        return None

    @hookimpl
    async def guyub_forget_member(self, member: Member) -> None:
        return None


async def test_scheduled_once_at_startup(app: App) -> None:
    jobs = await Job.filter(kind=JOB_KIND)
    assert len(jobs) == 1
    assert jobs[0].due_at == next_run(TEST_START, 19)
    assert jobs[0].idempotency_key == f"{JOB_KIND}:2026-11-23"
    # Another worker (or a restart) scheduling it again changes nothing.
    await schedule_next(app, app.clock.now())
    assert await Job.filter(kind=JOB_KIND).count() == 1


def test_next_run_is_strictly_later() -> None:
    at_19 = TEST_START.replace(hour=19)
    assert next_run(at_19, 19) == at_19.replace(day=24)
    assert next_run(TEST_START, 19) == at_19


async def test_retention_deletes_old_data_and_keeps_captains(
    make_app: Any, clock: FakeClock
) -> None:
    signups, outbox = EventsPlugin(), OutboxLike()
    settings = {"inactive_member_days": 3, "audit_days": 2, "delivered_outbox_days": 1}
    async with make_app(clock=clock, plugins=[signups, outbox], privacy=settings) as app:
        chat = FakeChat(app)
        idle, captain, active = chat.user("idle"), chat.user("kapten"), chat.user("aktif")
        for user in (idle, captain, active):
            await user.says("/testsignup temu")
        kapten = await Member.get(display_name="kapten")
        await app.roles.grant(kapten.id, Role.CAPTAIN, "11")
        await idle.says("/link")
        for day in range(1, 5):
            await chat.advance("1d")
            await active.says(f"/testsignup day{day}")
        assert await Member.filter(display_name="idle").count() == 0
        assert await Signup.filter(name="idle").count() == 0
        assert await Member.filter(display_name="kapten").count() == 1
        assert await Member.filter(display_name="aktif").count() == 1
        assert not await LinkCode.exists()
        assert not await RateCounter.filter(window_start__lt=clock.now().replace(day=25)).exists()
        # Audit entries older than two days are gone; recent retention runs are logged.
        runs = await AuditEntry.filter(action="privacy.retention").order_by("at")
        assert not await AuditEntry.filter(at__lt=runs[-1].at - timedelta(days=2)).exists()
        assert await AuditEntry.filter(at__lt=runs[-1].at - timedelta(days=1)).exists()
        assert runs[-1].details["hooks"] == {"outboxlike": {"delivered": 3}}
        policy = outbox.policies[-1]
        assert policy.delivered_outbox_before == policy.now.replace(day=policy.now.day - 1)
        assert len(outbox.policies) == 4  # once a day
        assert await Job.filter(kind=JOB_KIND, status="pending").count() == 1


async def test_zero_days_keeps_forever(make_app: Any, clock: FakeClock) -> None:
    settings = {"inactive_member_days": 0, "audit_days": 0}
    async with make_app(clock=clock, privacy=settings) as app:
        chat = FakeChat(app)
        await chat.user("amir").says("/help")
        await chat.advance("3d")
        assert await Member.filter(display_name="amir").count() == 1
        assert await AuditEntry.filter(action="privacy.retention").count() == 3


async def test_finished_jobs_are_pruned(make_app: Any, clock: FakeClock) -> None:
    """Security (issue #15): finished jobs with ``{"member": id}`` payloads were never
    pruned."""
    from core.privacy._retention import run_retention

    async with make_app(clock=clock, privacy={"finished_jobs_days": 2}) as app:
        now = app.clock.now()
        old = await Job.create(kind="x", payload={"member": 7}, due_at=now, status="done")
        await Job.filter(id=old.id).update(finished_at=now - timedelta(days=3))
        recent = await Job.create(kind="x", payload={"member": 8}, due_at=now, status="failed")
        await Job.filter(id=recent.id).update(finished_at=now - timedelta(days=1))
        pending = await Job.create(kind="x", payload={"member": 9}, due_at=now)
        counts = await run_retention(app)
        assert counts["finished_jobs"] == 1
        left = set(await Job.all().values_list("id", flat=True))
        assert old.id not in left
        assert {recent.id, pending.id} <= left
