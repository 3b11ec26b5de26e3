"""The member tallies kept by the database (core/_tallies.py): after every kind of change to
members they equal a fresh count, on SQLite and on PostgreSQL, with migrations or without."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from tortoise.functions import Count

from core import Account, App, Member
from core._tallies import install_tallies
from core.models import MemberTally, PlatformTally, RegistrationDay
from core.testing import TEST_START, make_app, test_settings


async def _fresh() -> tuple[dict[str, tuple[int, int]], dict[tuple[str, date], int]]:
    """What the tallies must say, counted from the members."""
    totals: dict[str, tuple[int, int]] = {}
    days: dict[tuple[str, date], int] = {}
    for member in await Member.all():
        code = member.region_code or ""
        members, registered = totals.get(code, (0, 0))
        done = member.registered_at is not None
        totals[code] = (members + 1, registered + int(done))
        if member.registered_at is not None:
            key = (code, member.registered_at.date())
            days[key] = days.get(key, 0) + 1
    return totals, days


async def _platforms_fresh() -> dict[tuple[str, str], tuple[int, int]]:
    found: dict[tuple[str, str], tuple[int, int]] = {}
    for account in await Account.all().prefetch_related("member"):
        key = (account.platform, account.member.region_code or "")
        accounts, registered = found.get(key, (0, 0))
        found[key] = (accounts + 1, registered + int(account.member.registered_at is not None))
    return found


async def _platforms_kept() -> dict[tuple[str, str], tuple[int, int]]:
    return {
        (t.platform, t.region_code): (t.accounts, t.registered)
        for t in await PlatformTally.all()
        if t.accounts or t.registered
    }


async def _kept() -> tuple[dict[str, tuple[int, int]], dict[tuple[str, date], int]]:
    totals = {
        t.region_code: (t.members, t.registered)
        for t in await MemberTally.all()
        if t.members or t.registered
    }
    days = {
        (d.region_code, d.day): d.registered for d in await RegistrationDay.all() if d.registered
    }
    return totals, days


async def test_tallies_follow_every_change_to_members() -> None:
    async with make_app():
        now = TEST_START
        await Member.bulk_create(
            [
                Member(display_name="a", region_code="11.08", registered_at=now),
                Member(display_name="b", region_code="11.08"),
                Member(
                    display_name="c", region_code="11.11", registered_at=now - timedelta(days=9)
                ),
                Member(display_name="d"),
            ]
        )
        single = await Member.create(display_name="e", region_code="11.08")
        assert await _kept() == await _fresh()
        assert (await _kept())[0] == {"11.08": (3, 1), "11.11": (1, 1), "": (1, 0)}

        single.registered_at = now  # registration finished
        await single.save()
        await Member.filter(display_name="b").update(region_code="11.11")  # moved
        await Member.filter(display_name="d").update(region_code="11.07", registered_at=now)
        await Member.filter(display_name="c").update(registered_at=None)  # registration undone
        await Member.filter(display_name="a").update(last_active_at=now)  # activity: no change
        assert await _kept() == await _fresh()
        await Member.filter(display_name="c").delete()  # forgotten
        await Member.filter(display_name="a").update(region_code=None)
        assert await _kept() == await _fresh()
        assert (await _kept())[0] == {"11.08": (1, 1), "11.11": (1, 0), "11.07": (1, 1), "": (1, 1)}
        assert (await _kept())[1] == {
            ("11.08", now.date()): 1,
            ("11.07", now.date()): 1,
            ("", now.date()): 1,
        }
        # Statements that change many members at once (one statement, many rows).
        await Member.bulk_create(
            [Member(display_name=f"x{i}", region_code="11.01") for i in range(7)]
        )
        await Member.filter(region_code="11.01").update(region_code="11.02", registered_at=now)
        await Member.filter(display_name__in=["x0", "x1", "x2"]).delete()
        assert await _kept() == await _fresh()
        assert (await _kept())[0]["11.02"] == (4, 4)


async def test_platform_tallies_follow_accounts_and_their_members() -> None:
    async with make_app():
        now = TEST_START
        a = await Member.create(display_name="a", region_code="11.08", registered_at=now)
        b = await Member.create(display_name="b", region_code="11.11")
        c = await Member.create(display_name="c")
        await Account.bulk_create(
            [
                Account(platform="telegram", platform_user_id="1", member_id=a.id),
                Account(platform="discord", platform_user_id="1", member_id=a.id),
                Account(platform="telegram", platform_user_id="2", member_id=b.id),
                Account(platform="telegram", platform_user_id="3", member_id=c.id),
            ]
        )
        assert await _platforms_kept() == await _platforms_fresh()
        assert (await _platforms_kept())[("telegram", "11.08")] == (1, 1)
        await Member.filter(id=b.id).update(region_code="11.08", registered_at=now)  # moved
        await Account.filter(platform_user_id="3").update(member_id=b.id)  # linked (merge)
        assert await _platforms_kept() == await _platforms_fresh()
        assert (await _platforms_kept())[("telegram", "11.08")] == (3, 3)
        await Account.filter(platform="discord").delete()  # unlinked
        await Member.filter(id=b.id).delete()  # forgotten, with their accounts
        await Member.filter(id=c.id).delete()
        assert (
            await _platforms_kept() == await _platforms_fresh() == {("telegram", "11.08"): (1, 1)}
        )
        assert await _kept() == await _fresh()


async def test_installing_counts_the_members_already_there(tmp_path: Path) -> None:
    """Migration 0007 on a database with members: the tallies start from a full count, and
    installing again (a restart on a created schema) counts again instead of adding."""
    settings = test_settings(database={"url": f"sqlite://{tmp_path}/t.sqlite3"})
    async with App(settings, schema="migrate") as app:
        rows = [
            Member(display_name=f"m{i}", region_code="11.08", registered_at=TEST_START)
            for i in range(5)
        ]
        await Member.bulk_create(rows)
        client = Member._meta.db
        await client.execute_script("DELETE FROM core_member_tally")  # as before migration 0007
        await install_tallies(client)
        await install_tallies(client)
        assert await _kept() == await _fresh()
        assert (await _kept())[0] == {"11.08": (5, 5)}
        # the grouped count and the tally agree
        counted = (
            await Member.annotate(n=Count("id")).group_by("region_code").values("region_code", "n")
        )
        assert counted == [{"region_code": "11.08", "n": 5}]
        assert app.database.dialect == "sqlite"
