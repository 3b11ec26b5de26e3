"""The outbox against fake platforms: pace, 429s, retries, cancellation, progress."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from core import (
    Account,
    Capability,
    ChatKind,
    Delivery,
    DeliveryError,
    DeliveryStatus,
    FakeClock,
    Member,
    Message,
    RateLimits,
    Recipient,
    RetryAfter,
    UserRef,
)
from core.testing import ALL_CAPABILITIES, TEST_START, MemoryAdapter
from tests.core.outbox.fakes import ThrottledPlatform, thirty_per_second


def dms(platform: str, n: int, region: str = "11.08") -> list[Recipient]:
    return [Recipient(platform, f"u{i}", region_code=region) for i in range(n)]


async def test_steady_state_keeps_under_30_per_second_without_429s(make_app):
    clock = FakeClock(TEST_START)
    fake = ThrottledPlatform("tg", limits=thirty_per_second(), clock=clock)
    async with make_app(adapters=[fake], clock=clock, discover_plugins=False) as app:
        await app.outbox.enqueue("test", Message.of("hai"), dms("tg", 900))
        await app.run_pending()
        report = await app.outbox.report(1)
    assert report.sent == 900
    assert fake.refusals == 0
    assert len({s.to_user for s in fake.sent}) == 900
    # The rate achieved in simulated time, from the first send to the last.
    rate = (len(fake.times) - 1) / (fake.times[-1] - fake.times[0])
    assert rate >= 0.95 * 30


async def test_retry_after_pauses_only_that_chat(make_app):
    clock = FakeClock(TEST_START)
    refused: set[str] = set()
    first_try: dict[str, float] = {}

    def once_for_u5(target: str) -> None:
        if target == "u5" and target not in refused:
            refused.add(target)
            first_try[target] = clock.now().timestamp()
            raise RetryAfter(3.0)

    fake = ThrottledPlatform("tg", limits=thirty_per_second(), clock=clock, hook=once_for_u5)
    async with make_app(adapters=[fake], clock=clock, discover_plugins=False) as app:
        await app.outbox.enqueue("test", Message.of("hai"), dms("tg", 200))
        await app.run_pending()
        report = await app.outbox.report(1)
    assert report.sent == 200
    order = [s.to_user.id for s in fake.sent if s.to_user]
    assert order.count("u5") == 1
    sent_at = dict(zip(order, fake.times, strict=True))
    assert sent_at["u5"] >= first_try["u5"] + 3.0
    # Everyone else went on at full pace while u5 waited.
    assert sent_at["u6"] - first_try["u5"] < 0.1
    assert order.index("u5") > order.index("u6")


async def test_unreachable_and_permanent_failures_are_recorded_not_retried(make_app):
    fake = MemoryAdapter("tg", dm_requires_start=True)
    fake.started.update({"u0", "u1"})
    fake.blocked.add("u1")
    async with make_app(adapters=[fake], discover_plugins=False) as app:
        recipients = [*dms("tg", 3), Recipient("tg", "u9", reachable=False)]
        batch = await app.outbox.enqueue("test", Message.of("hai"), recipients)
        await app.run_pending()
        await app.advance_clock(app.clock.now() + timedelta(days=1))
        report = await app.outbox.report(batch.id)
    assert report.sent == 1
    assert report.unreachable == 3
    assert len(fake.sent) == 1


async def test_transient_failure_retried_with_backoff(make_app):
    calls: list[str] = []

    class Flaky(MemoryAdapter):
        async def send_dm(self, user, message):  # type: ignore[no-untyped-def]
            calls.append(user.id)
            if calls.count(user.id) == 1 and user.id == "u1":
                raise DeliveryError("bad gateway")
            return await super().send_dm(user, message)

    fake = Flaky("tg")
    async with make_app(adapters=[fake], discover_plugins=False) as app:
        batch = await app.outbox.enqueue("test", Message.of("hai"), dms("tg", 3))
        await app.run_pending()
        row = await Delivery.get(batch_id=batch.id, target="u1")
        assert row.status == DeliveryStatus.PENDING
        assert row.next_attempt_at > app.clock.now()
        assert (await app.outbox.report(batch.id)).sent == 2
        app.clock.set(app.clock.now() + timedelta(seconds=31))  # type: ignore[attr-defined]
        await app.run_pending()
        report = await app.outbox.report(batch.id)
    assert report.sent == 3
    assert calls.count("u1") == 2


async def test_cancel_mid_way_and_progress_reports(make_app):
    clock = FakeClock(TEST_START)
    fake = ThrottledPlatform("tg", limits=RateLimits(10, 1, 20, 10), clock=clock)
    events: list[tuple[int, int, bool]] = []
    async with make_app(
        adapters=[fake], clock=clock, discover_plugins=False, outbox={"chunk_size": 10}
    ) as app:

        async def progress(batch, report, finished):  # type: ignore[no-untyped-def]
            events.append((report.sent, report.remaining, finished))

        app.outbox.on_progress("test", progress)
        batch = await app.outbox.enqueue("test", Message.of("hai"), dms("tg", 100))
        assert await app.outbox.run_due(limit=30) == 30
        assert await app.outbox.cancel(batch.id) == 70
        await app.run_pending()
        report = await app.outbox.report(batch.id)
        assert report.status == "cancelled"
        other = await app.outbox.enqueue(
            "test", Message.of("lagi"), [Recipient("tg", "g1", ChatKind.GROUP, "11")]
        )
        await app.run_pending()
        assert (await app.outbox.report(other.id)).sent == 1
    assert report.sent == 30
    assert report.cancelled == 70
    assert len(fake.sent) == 31
    assert events[0][2] is False
    assert events[-1] == (1, 0, True)


async def test_buttons_rendered_once_and_batch_key_is_idempotent(make_app):
    from core import Button

    fake = MemoryAdapter("tg")
    async with make_app(adapters=[fake], discover_plugins=False) as app:
        message = Message.of("ayo", buttons=[Button("Hadir", "x:rsvp", {"e": 1})])
        first = await app.outbox.enqueue("test", message, dms("tg", 5), key="b-1")
        again = await app.outbox.enqueue("test", message, dms("tg", 5), key="b-1")
        await app.run_pending()
    assert first.id == again.id
    keys = {s.buttons[0][0].key for s in fake.sent}
    assert len(fake.sent) == 5
    assert len(keys) == 1


async def test_small_batch_is_not_stuck_behind_a_big_one(make_app):
    clock = FakeClock(TEST_START)
    fake = ThrottledPlatform("tg", limits=thirty_per_second(), clock=clock)
    async with make_app(
        adapters=[fake], clock=clock, discover_plugins=False, outbox={"chunk_size": 20}
    ) as app:
        await app.outbox.enqueue("test", Message.of("besar"), dms("tg", 600))
        small = await app.outbox.enqueue(
            "test", Message.of("kecil"), [Recipient("tg", f"r{i}") for i in range(5)]
        )
        await app.outbox.run_due(limit=40)
        assert (await app.outbox.report(small.id)).sent == 5
        await app.run_pending()
    assert fake.refusals == 0
    assert len(fake.sent) == 605


async def test_cancel_while_a_row_waits_out_a_429(make_app):
    clock = FakeClock(TEST_START)
    state: dict[str, object] = {}

    def cancel_on_first_429(target: str) -> None:
        # The captain presses Stop while u3 waits out its 429.
        if target == "u3" and "cancel" not in state:
            outbox, batch_id = state["outbox"], state["batch"]
            state["cancel"] = asyncio.get_running_loop().create_task(outbox.cancel(batch_id))
            raise RetryAfter(2.0)

    fake = ThrottledPlatform(
        "tg", limits=thirty_per_second(), clock=clock, hook=cancel_on_first_429
    )
    async with make_app(adapters=[fake], clock=clock, discover_plugins=False) as app:
        batch = await app.outbox.enqueue("test", Message.of("hai"), dms("tg", 4))
        state.update(outbox=app.outbox, batch=batch.id)
        await app.run_pending()
        report = await app.outbox.report(batch.id)
    assert "u3" not in {s.to_user.id for s in fake.sent if s.to_user}
    assert report.sent == 3
    assert report.cancelled == 1
    assert report.remaining == 0


async def test_groups_get_at_most_20_per_minute(make_app):
    clock = FakeClock(TEST_START)
    fake = ThrottledPlatform("tg", limits=thirty_per_second(), clock=clock)
    group = [Recipient("tg", "g-aceh", ChatKind.GROUP, "11")]
    async with make_app(adapters=[fake], clock=clock, discover_plugins=False) as app:
        for n in range(4):
            await app.outbox.enqueue("test", Message.of(f"pengumuman {n}"), group)
        await app.run_pending()
    assert len(fake.times) == 4
    gaps = [b - a for a, b in zip(fake.times, fake.times[1:], strict=False)]
    assert min(gaps) >= 3.0 - 1e-6


async def test_unreachable_dm_marks_the_account_closed(make_app):
    fake = MemoryAdapter("tg", dm_requires_start=True)
    async with make_app(adapters=[fake], discover_plugins=False) as app:
        account = await app.identity.ensure(UserRef("tg", "u1"))
        await Account.filter(id=account.id).update(dm_open=True)
        await app.outbox.enqueue(
            "test", Message.of("hai"), [Recipient("tg", "u1", account_id=account.id)]
        )
        await app.run_pending()
        assert not (await Account.get(id=account.id)).dm_open


async def test_member_data_retention_and_forgetting(make_app):
    from datetime import timedelta as td

    from core.outbox import plugin
    from core.privacy._retention import RetentionPolicy

    fake = MemoryAdapter("tg")
    async with make_app(adapters=[fake], discover_plugins=False) as app:
        account = await app.identity.ensure(UserRef("tg", "u1"))
        member = await Member.get(id=account.member_id)
        recipients = [Recipient("tg", "u1", account_id=account.id), Recipient("tg", "u2")]
        batch = await app.outbox.enqueue("test", Message.of("hai"), recipients)
        await app.run_pending()
        exported = await plugin.guyub_export_member(member)
        assert exported == {
            "deliveries": [
                {
                    "kind": "test",
                    "platform": "tg",
                    "status": "sent",
                    "sent_at": exported["deliveries"][0]["sent_at"],
                }
            ]
        }
        await plugin.guyub_forget_member(member)
        assert await Delivery.filter(batch_id=batch.id).count() == 1
        now = app.clock.now()
        keep = RetentionPolicy(now, None, None, now - td(days=30))
        assert await plugin.guyub_apply_retention(app, keep) is None
        purge = RetentionPolicy(now, None, None, now + td(seconds=1))
        assert await plugin.guyub_apply_retention(app, purge) == {
            "outbox_deliveries": 1,
            "outbox_batches": 1,
        }


async def test_members_are_planned_in_the_database_one_account_each(make_app):
    tg = MemoryAdapter("tg", caps=ALL_CAPABILITIES - {Capability.DM_WITHOUT_START})
    dc = MemoryAdapter("dc")
    async with make_app(adapters=[tg, dc], discover_plugins=False) as app:
        never_started = await app.identity.ensure(UserRef("tg", "a"))
        started = await app.identity.ensure(UserRef("tg", "b"))
        await Account.filter(id=started.id).update(dm_open=True)
        await Member.filter(id=started.member_id).update(language="en")
        linked = await app.identity.ensure(UserRef("tg", "c"))
        await Account.create(platform="dc", platform_user_id="c", member_id=linked.member_id)
        ids = [never_started.member_id, started.member_id, linked.member_id]

        async def compose(language: str, region: str) -> tuple[str, Message]:
            return language, Message.of(f"hai ({language})")

        first = await app.outbox.enqueue_members(
            "test", Member.filter(id__in=ids).values("id"), compose, key="plan"
        )
        again = await app.outbox.enqueue_members(
            "test", Member.filter(id__in=ids).values("id"), compose, key="plan"
        )
        rows = {(r.platform, r.target): r.status for r in await Delivery.all()}
        await app.run_pending()
    assert sorted(b.id for b in again) == sorted(b.id for b in first)  # keyed: nothing twice
    assert rows == {
        ("tg", "a"): DeliveryStatus.UNREACHABLE,  # never started the bot: recorded, not tried
        ("tg", "b"): DeliveryStatus.PENDING,
        ("dc", "c"): DeliveryStatus.PENDING,  # the linked account that can be reached
    }
    assert [s.text for s in tg.sent] == ["hai (en)"]
    assert [s.text for s in dc.sent] == ["hai (id)"]


async def test_one_batch_holds_groups_and_members_planned_in_the_database(make_app):
    """``enqueue(members=...)``: the members' private chats (one account each, planned by
    one INSERT ... SELECT) and the listed recipients in one batch; a member's chat that is
    also listed is stored once; ``dm_audience`` counts what is planned."""
    tg = MemoryAdapter("tg", caps=ALL_CAPABILITIES - {Capability.DM_WITHOUT_START})
    dc = MemoryAdapter("dc")
    async with make_app(adapters=[tg, dc], discover_plugins=False) as app:
        never_started = await app.identity.ensure(UserRef("tg", "a"))
        started = await app.identity.ensure(UserRef("tg", "b"))
        await Account.filter(id=started.id).update(dm_open=True)
        linked = await app.identity.ensure(UserRef("tg", "c"))
        await Account.create(platform="dc", platform_user_id="c", member_id=linked.member_id)
        elsewhere = await app.identity.ensure(UserRef("wa", "d"))  # no adapter runs it here
        outside = await app.identity.ensure(UserRef("tg", "e"))  # not selected
        await Account.filter(id=outside.id).update(dm_open=True)
        ids = [never_started.member_id, started.member_id, linked.member_id]
        ids.append(elsewhere.member_id)
        selected = Member.filter(id__in=ids).values("id")

        audience = await app.outbox.dm_audience(selected)
        group = Recipient("tg", "-100", ChatKind.GROUP, "11.08")
        listed = Recipient("tg", "b", account_id=started.id)
        batch = await app.outbox.enqueue(
            "test", Message.of("hai"), [group, listed], members=selected, key="both"
        )
        again = await app.outbox.enqueue(
            "test", Message.of("hai"), [group], members=selected, key="both"
        )
        rows = {(r.platform, r.chat_kind, r.target): r.status for r in await Delivery.all()}
        await app.run_pending()
    assert again.id == batch.id
    assert batch.total == 5
    assert rows == {
        ("tg", "group", "-100"): DeliveryStatus.PENDING,
        ("tg", "dm", "b"): DeliveryStatus.PENDING,  # listed and selected: once
        ("tg", "dm", "a"): DeliveryStatus.UNREACHABLE,  # never started the bot
        ("dc", "dm", "c"): DeliveryStatus.PENDING,  # the linked account that can be reached
        ("wa", "dm", "d"): DeliveryStatus.UNREACHABLE,  # no adapter for it in this process
    }
    assert audience == {"tg": (2, 1), "dc": (1, 0), "wa": (1, 1)}
    assert sorted(s.text for s in tg.sent) == ["hai", "hai"]
    assert [s.text for s in dc.sent] == ["hai"]
