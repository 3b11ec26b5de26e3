"""Signing in without passwords: /dasbor in a private chat gives captains and admins a
one-time link (10 minutes, bound to the member) that opens a session; every refusal is
audited and every form carries a CSRF token."""

from __future__ import annotations

from datetime import timedelta

from core import AuditEntry, Role
from tests.core.web.dashboard_kit import (
    browser,
    csrf_of,
    login_link,
    make_admin,
    make_captain,
    served,
    sign_in,
    token_of,
)


async def test_admin_link_opens_a_session_once() -> None:
    async with served() as s:
        pmo = s.chat.user("pmo")
        await make_admin(s, pmo)
        link = await login_link(s, pmo)
        assert "10" in str(s.chat.last(pmo).markup)  # says how long it is valid
        async with browser() as http:
            # Opening the link (or a chat app's link preview) uses nothing up.
            for _ in range(2):
                async with http.get(link) as page:
                    assert page.status == 200
            async with http.post(
                f"{s.url}/dasbor/masuk", data={"token": token_of(link)}, allow_redirects=False
            ) as response:
                assert response.status == 303
                assert response.headers["Location"] == "/dasbor"
                cookie = response.headers["Set-Cookie"]
                assert "HttpOnly" in cookie
                assert "SameSite=Lax" in cookie
                assert "Secure" not in cookie  # plain HTTP on 127.0.0.1
            async with http.get(f"{s.url}/dasbor") as page:
                assert page.status == 200
                assert "Ringkasan komunitas" in await page.text()
        async with (
            browser() as other,
            other.post(
                f"{s.url}/dasbor/masuk", data={"token": token_of(link)}, allow_redirects=False
            ) as again,
        ):
            assert again.status == 403
            assert "sudah dipakai" in await again.text()
        assert await AuditEntry.filter(action="web.login_refused").count() == 1
        assert await AuditEntry.filter(action="web.login").count() == 1


async def test_expired_link_is_refused() -> None:
    async with served() as s:
        pmo = s.chat.user("pmo")
        await make_admin(s, pmo)
        link = await login_link(s, pmo)
        await s.chat.advance(timedelta(minutes=10, seconds=1))
        async with (
            browser() as http,
            http.post(
                f"{s.url}/dasbor/masuk", data={"token": token_of(link)}, allow_redirects=False
            ) as response,
        ):
            assert response.status == 403


async def test_members_get_no_link_and_a_forged_token_is_refused() -> None:
    async with served() as s:
        amir = s.chat.user("amir")
        await amir.says("/dasbor")
        assert "/dasbor/masuk/" not in str(s.chat.last(amir).markup)
        async with (
            browser() as http,
            http.post(
                f"{s.url}/dasbor/masuk", data={"token": "x" * 43}, allow_redirects=False
            ) as response,
        ):
            assert response.status == 403


async def test_link_is_refused_after_the_role_is_taken_away() -> None:
    async with served() as s:
        cut = s.chat.user("cut")
        member = await make_captain(s, cut, "11.08")
        link = await login_link(s, cut)
        await s.app.roles.revoke(member.id, Role.CAPTAIN, "11.08")
        async with (
            browser() as http,
            http.post(
                f"{s.url}/dasbor/masuk", data={"token": token_of(link)}, allow_redirects=False
            ) as response,
        ):
            assert response.status == 403


async def test_session_ends_with_the_role_and_after_its_hours() -> None:
    async with served() as s:
        cut = s.chat.user("cut")
        member = await make_captain(s, cut, "11.08")
        async with browser() as http:
            await sign_in(s, cut, http)
            async with http.get(f"{s.url}/dasbor", allow_redirects=False) as page:
                assert page.status == 200
            await s.app.roles.revoke(member.id, Role.CAPTAIN, "11.08")
            async with http.get(f"{s.url}/dasbor", allow_redirects=False) as page:
                assert page.status == 303
                assert page.headers["Location"] == "/dasbor/login"
        await s.app.roles.grant(member.id, Role.CAPTAIN, "11.08")
        async with browser() as http:
            await sign_in(s, cut, http)
            await s.chat.advance(timedelta(hours=12, seconds=1))
            async with http.get(f"{s.url}/dasbor", allow_redirects=False) as page:
                assert page.status == 303


async def test_forms_without_the_csrf_token_are_refused_and_audited() -> None:
    async with served() as s:
        pmo = s.chat.user("pmo")
        admin = await make_admin(s, pmo)
        async with browser() as http:
            await sign_in(s, pmo, http)
            async with http.post(f"{s.url}/dasbor/keluar", data={}) as refused:
                assert refused.status == 403
            async with http.post(f"{s.url}/dasbor/keluar", data={"csrf": "forged"}) as refused:
                assert refused.status == 403
            entries = await AuditEntry.filter(action="web.forbidden", actor_id=admin.id)
            assert len(entries) == 2
            assert all("CSRF" in e.details["why"] for e in entries)
            token = await csrf_of(http, f"{s.url}/dasbor")
            async with http.post(
                f"{s.url}/dasbor/keluar", data={"csrf": token}, allow_redirects=False
            ) as out:
                assert out.status == 303
            async with http.get(f"{s.url}/dasbor", allow_redirects=False) as page:
                assert page.status == 303  # signed out: the session is gone


async def test_secure_cookie_behind_https() -> None:
    async with served(web={"public_url": "https://guyub.example.org"}) as s:
        pmo = s.chat.user("pmo")
        await make_admin(s, pmo)
        link = await login_link(s, pmo)
        assert link.startswith("https://guyub.example.org/dasbor/masuk/")
        async with (
            browser() as http,
            http.post(
                f"http://127.0.0.1:{s.app.web.port}/dasbor/masuk",
                data={"token": token_of(link)},
                allow_redirects=False,
            ) as response,
        ):
            assert "Secure" in response.headers["Set-Cookie"]


async def test_pages_need_a_session_and_dashboard_is_an_alias() -> None:
    async with served() as s, browser() as http:
        async with http.get(f"{s.url}/dasbor", allow_redirects=False) as page:
            assert page.status == 303
        async with http.get(f"{s.url}/dashboard", allow_redirects=False) as page:
            assert page.headers["Location"] == "/dasbor"
        async with http.get(f"{s.url}/dasbor/login") as page:
            html = await page.text()
            assert "/dasbor" in html
            assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")
            assert "unsafe-inline" not in page.headers["Content-Security-Policy"]
            assert page.headers["Cache-Control"] == "no-store"
            assert page.headers["Referrer-Policy"] == "same-origin"
        async with http.get(f"{s.url}/dasbor/login?lang=en") as page:
            assert "Sign in to the dashboard" in await page.text()
        async with http.get(f"{s.url}/dasbor/login") as page:
            assert "Sign in to the dashboard" in await page.text()  # the choice is kept


async def test_forms_posted_from_another_site_are_refused() -> None:
    async with served() as s:
        pmo = s.chat.user("pmo")
        await make_admin(s, pmo)
        link = await login_link(s, pmo)
        evil = {"Origin": "https://evil.example"}
        async with browser() as http:
            async with http.post(
                f"{s.url}/dasbor/masuk",
                data={"token": token_of(link)},
                headers=evil,
                allow_redirects=False,
            ) as refused:
                assert refused.status == 403
            await sign_in(s, pmo, http)
            token = await csrf_of(http, f"{s.url}/dasbor")
            async with http.post(
                f"{s.url}/dasbor/keluar", data={"csrf": token}, headers=evil
            ) as refused:
                assert refused.status == 403
            async with http.post(
                f"{s.url}/dasbor/keluar",
                data={"csrf": token},
                headers={"Origin": s.url},
                allow_redirects=False,
            ) as out:
                assert out.status == 303


async def test_forgetting_a_member_ends_their_sessions_and_links() -> None:
    from core import Member
    from core.web.models import LoginLink, WebSession

    async with served() as s:
        pmo = s.chat.user("pmo")
        admin = await make_admin(s, pmo)
        async with browser() as http:
            await sign_in(s, pmo, http)
            await login_link(s, pmo)
            exported = await s.app.plugins.export_member(admin)
            assert len(exported["dashboard"]["dashboard_sessions"]) == 1
            await s.app.plugins.forget_member(await Member.get(id=admin.id))
            assert not await WebSession.filter(member_id=admin.id).exists()
            assert not await LoginLink.filter(member_id=admin.id).exists()
            async with http.get(f"{s.url}/dasbor", allow_redirects=False) as page:
                assert page.status == 303
