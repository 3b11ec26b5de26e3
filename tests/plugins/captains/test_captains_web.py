"""The dashboard's Broadcasts and Captains pages: the approval queue decided in the browser
under the chat's rules, delivery counts from the outbox, and captains by region."""

from __future__ import annotations

import re

from core import AuditEntry, Member
from plugins.captains.models import Broadcast
from tests.core.web.dashboard_kit import (
    browser,
    csrf_of,
    make_admin,
    make_captain,
    member_of,
    served,
    sign_in,
)


async def _waiting(s, sender: Member, region: str = "11.08") -> Broadcast:  # type: ignore[no-untyped-def]
    return await Broadcast.create(
        sender_id=sender.id,
        regions=[region],
        mode="dms",
        text="Temu alumni Sabtu ini di Lhokseumawe.",
        status="approval",
        audience=3,
        lang="id",
        created_at=s.chat.now(),
    )


async def _place(s, names: list[str], region: str) -> None:  # type: ignore[no-untyped-def]
    for name in names:
        user = s.chat.user(name)
        await user.says("/help")
        member = await member_of(s, user)
        member.region_code = region
        await member.save(update_fields=["region_code"])


async def test_admin_approves_in_the_browser_and_watches_it_complete() -> None:
    async with served() as s:
        pmo, cut = s.chat.user("pmo"), s.chat.user("cut")
        admin = await make_admin(s, pmo)
        sender = await make_captain(s, cut, "11.08")
        await _place(s, ["a1", "a2", "a3"], "11.08")
        broadcast = await _waiting(s, sender)
        async with browser() as http:
            await sign_in(s, pmo, http)
            async with http.get(f"{s.url}/dasbor/broadcasts") as page:
                html = await page.text()
            assert f'data-broadcast="{broadcast.id}"' in html
            assert "Setujui dan kirim" in html
            token = await csrf_of(http, f"{s.url}/dasbor/broadcasts/{broadcast.id}")
            async with http.post(
                f"{s.url}/dasbor/broadcasts/{broadcast.id}/approve", data={"csrf": token}
            ) as page:
                assert page.status == 200
                assert "Sedang dikirim" in await page.text()
                assert 'http-equiv="refresh"' in await page.text()  # live progress
            await s.app.run_pending()
            async with http.get(f"{s.url}/dasbor/broadcasts/{broadcast.id}") as page:
                html = await page.text()
            assert re.search(r'id="status">Selesai<', html)
            assert re.search(r'id="count-sent">3<', html)
            assert re.search(r'id="count-remaining">0<', html)
        for name in ("a1", "a2", "a3"):
            assert "Lhokseumawe" in str(s.chat.last(s.chat.user(name)).markup)
        stored = await Broadcast.get(id=broadcast.id)
        assert stored.approved_by_id == admin.id
        assert await AuditEntry.filter(
            action="captains.broadcast.approved", actor_id=admin.id
        ).exists()


async def test_sender_cannot_approve_and_the_other_captain_rejects() -> None:
    async with served() as s:
        cut, teuku = s.chat.user("cut"), s.chat.user("teuku")
        sender = await make_captain(s, cut, "11.08")
        other = await make_captain(s, teuku, "11")  # the province's captain covers Aceh Utara
        broadcast = await _waiting(s, sender)
        async with browser() as http:
            await sign_in(s, cut, http)
            async with http.get(f"{s.url}/dasbor/broadcasts") as page:
                html = await page.text()
            assert "Setujui dan kirim" not in html
            token = await csrf_of(http, f"{s.url}/dasbor/broadcasts")
            async with http.post(
                f"{s.url}/dasbor/broadcasts/{broadcast.id}/approve", data={"csrf": token}
            ) as page:
                assert page.status == 403
        assert (await Broadcast.get(id=broadcast.id)).status == "approval"
        async with browser() as http:
            await sign_in(s, teuku, http)
            async with http.post(
                f"{s.url}/dasbor/broadcasts/{broadcast.id}/reject", data={}
            ) as page:
                assert page.status == 403  # no CSRF token
            token = await csrf_of(http, f"{s.url}/dasbor/broadcasts")
            async with http.post(
                f"{s.url}/dasbor/broadcasts/{broadcast.id}/reject", data={"csrf": token}
            ) as page:
                assert "Dibatalkan" in await page.text()
        assert (await Broadcast.get(id=broadcast.id)).status == "cancelled"
        assert "ditolak" in str(s.chat.last(cut).markup)
        assert await AuditEntry.filter(
            action="captains.broadcast.rejected", actor_id=other.id
        ).exists()


async def test_captain_sees_own_region_broadcasts_and_captains_only() -> None:
    async with served() as s:
        pmo, cut, bireuen = s.chat.user("pmo"), s.chat.user("cut"), s.chat.user("bireuen")
        admin = await make_admin(s, pmo)
        captain = await make_captain(s, cut, "11.08")
        await make_captain(s, bireuen, "11.11")
        theirs = await _waiting(s, admin, region="11.11")
        ours = await _waiting(s, admin, region="11.08")
        async with browser() as http:
            await sign_in(s, cut, http)
            async with http.get(f"{s.url}/dasbor/broadcasts") as page:
                html = await page.text()
            assert f'data-broadcast="{ours.id}"' in html
            assert f'data-broadcast="{theirs.id}"' not in html
            async with http.get(f"{s.url}/dasbor/broadcasts/{theirs.id}") as page:
                assert page.status == 403
            async with http.get(f"{s.url}/dasbor/captains") as page:
                html = await page.text()
            assert 'data-scope="11.08"' in html
            assert 'data-scope="11.11"' not in html
        assert await AuditEntry.filter(
            action="web.forbidden", actor_id=captain.id, region_code="11.11"
        ).exists()
