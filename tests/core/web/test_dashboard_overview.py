"""The overview's figures: the same as /stats in chat for the same scope, per platform, and
registrations per week counted in the database (on SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from datetime import timedelta

from core import Account, Member
from core.web.plugin import by_platform, core_figures
from tests.core.web.dashboard_kit import (
    browser,
    make_admin,
    make_captain,
    seed_members,
    served,
    sign_in,
)


def _figure(html: str, element_id: str) -> int:
    found = re.search(rf'id="{element_id}">([\d.]+)<', html)
    assert found, element_id
    return int(found.group(1).replace(".", ""))


def _stats(text: str) -> dict[str, int]:
    members = re.search(r"Anggota: <b>(\d+)</b> \(baru dalam 30 hari: (\d+)\)", text)
    registered = re.search(r"Terdaftar lengkap: <b>(\d+)</b>", text)
    active = re.search(r"Aktif dalam 30 hari: <b>(\d+)</b>", text)
    assert members, text
    assert registered, text
    assert active, text
    return {
        "members": int(members.group(1)),
        "new_30d": int(members.group(2)),
        "registered": int(registered.group(1)),
        "active_30d": int(active.group(1)),
    }


async def test_overview_equals_stats_in_chat_for_admin_and_captain() -> None:
    async with served() as s:
        pmo, cut = s.chat.user("pmo"), s.chat.user("cut")
        await make_admin(s, pmo)
        await make_captain(s, cut, "11.08")
        await seed_members(s.chat.now(), {"11.08": (14, 9), "11.11": (6, 2)}, active=3)
        old = await Member.filter(region_code="11.08").first()
        assert old is not None
        await Member.filter(id=old.id).update(created_at=s.chat.now() - timedelta(days=90))
        for user in (pmo, cut):
            await user.says("/stats")
            chat = _stats(str(s.chat.last(user).markup))
            async with browser() as http:
                await sign_in(s, user, http)
                async with http.get(f"{s.url}/dasbor") as page:
                    html = await page.text()
            assert _figure(html, "fig-members") == chat["members"]
            assert _figure(html, "fig-registered") == chat["registered"]
            assert _figure(html, "fig-active30") == chat["active_30d"]
            # Aceh Utara has its captain; the admin's view counts the other 513 kab/kota.
            flagged = re.search(r'id="flag-without_captain"><a[^>]*>([\d.]+)<', html)
            assert flagged
            assert flagged.group(1) == ("513" if user is pmo else "0")
            async with browser() as http:
                await sign_in(s, user, http)
                async with http.get(f"{s.url}/dasbor/stats") as page:
                    html = await page.text()
            # Every plugin's /stats section: e.g. the captains plugin's broadcasts.
            assert "Kapten dan siaran" in html
            assert "Siaran dalam 30 hari" in html
        assert chat["members"] == 14  # the captain's figures: Aceh Utara only
        await Member.filter(id__in=[1, 2]).update(
            last_active_at=s.chat.now(), registered_at=s.chat.now()
        )
        cut_member = await Member.get(id=2)
        cut_member.region_code = "11.08"
        await cut_member.save(update_fields=["region_code"])
        # Active on a platform: the account was seen there (not only on another platform).
        await Account.create(
            platform="discord", platform_user_id="99", member_id=2, last_seen_at=s.chat.now()
        )
        assert await by_platform(s.app, None) == [
            {"platform": "discord", "joined": 1, "registered": 1, "active_7d": 1, "active_30d": 1},
            {"platform": "fake", "joined": 2, "registered": 2, "active_7d": 2, "active_30d": 2},
        ]
        assert [r["joined"] for r in await by_platform(s.app, ["11.08"])] == [1, 1]


async def test_registrations_per_week_and_platforms(make_app) -> None:  # type: ignore[no-untyped-def]
    async with make_app() as app:
        now = app.clock.now()  # Monday 23 November 2026, 03:00 UTC
        rows = [
            Member(display_name="a", region_code="11.08", registered_at=now - timedelta(hours=1)),
            Member(display_name="b", region_code="11.08", registered_at=now - timedelta(days=1)),
            Member(display_name="c", region_code="11.11", registered_at=now - timedelta(days=8)),
            Member(display_name="d", region_code="12.71", registered_at=now - timedelta(days=200)),
            Member(display_name="e", region_code="11.08"),
        ]
        await Member.bulk_create(rows)
        figures, weeks = await core_figures(app, None, weeks=4)
        assert [w.strftime("%Y-%m-%d") for w, _ in weeks] == [
            "2026-11-02",
            "2026-11-09",
            "2026-11-16",
            "2026-11-23",
        ]
        # a: this Monday; b: Sunday 22 November (last week); c: Sunday 15 November.
        assert [n for _, n in weeks] == [0, 1, 1, 1]
        assert figures["members"] == 5
        assert figures["registered"] == 4
        assert [n for _, n in (await core_figures(app, ["11.08"], weeks=4))[1]] == [0, 0, 1, 1]
        figures, weeks = await core_figures(app, ["11"], weeks=4)
        assert [n for _, n in weeks] == [0, 1, 1, 1]
        assert figures["members"] == 4
        assert figures["registered"] == 3
        assert [n for _, n in (await core_figures(app, ["31"], weeks=4))[1]] == [0, 0, 0, 0]
        assert await by_platform(app, None) == []  # nobody has an account yet


async def test_overview_figures_are_reused_for_a_minute_and_recounted_on_request() -> None:
    async with served() as s:
        pmo = s.chat.user("pmo")
        await make_admin(s, pmo)
        async with browser() as http:
            await sign_in(s, pmo, http)
            async with http.get(f"{s.url}/dasbor") as page:
                assert _figure(await page.text(), "fig-members") == 1
            await seed_members(s.chat.now(), {"11.08": (3, 3)})
            async with http.get(f"{s.url}/dasbor") as page:
                html = await page.text()
            assert _figure(html, "fig-members") == 1  # counted at 03:00:00, said on the page
            assert "Dihitung pukul 03:00:00 UTC" in html
            async with http.get(f"{s.url}/dasbor?fresh=1") as page:
                assert _figure(await page.text(), "fig-members") == 4
            await seed_members(s.chat.now(), {"11.08": (1, 1)})
            await s.chat.advance(timedelta(seconds=61))
            async with http.get(f"{s.url}/dasbor") as page:
                assert _figure(await page.text(), "fig-members") == 5
