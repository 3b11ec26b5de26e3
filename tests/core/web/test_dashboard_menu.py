"""A plugin's dashboard pages: routes from ``guyub_register_web`` wrapped in
``dashboard_page``, menu links from ``guyub_register_dashboard``, its own templates."""

from __future__ import annotations

from aiohttp import web

from core import AuditEntry, hookimpl
from core.web import DashboardPage, Viewer, dashboard_page, forbidden, render
from tests.core.web.dashboard_kit import browser, make_admin, make_captain, served, sign_in


class ReportPlugin:
    """A third-party plugin with a public page for captains and an admin-only page."""

    @hookimpl
    def guyub_register_web(self) -> list[web.RouteDef]:
        @dashboard_page()
        async def region_report(request: web.Request, viewer: Viewer) -> web.StreamResponse:
            code = request.match_info["code"]
            if not viewer.sees(code):
                return await forbidden(request, viewer, region=code)
            return await render(request, "forbidden.html", status=200)

        @dashboard_page(admin=True)
        async def secret(request: web.Request, viewer: Viewer) -> web.StreamResponse:
            return web.Response(text="only the PMO")

        return [web.get("/dasbor/report/{code}", region_report), web.get("/dasbor/secret", secret)]

    @hookimpl
    def guyub_register_dashboard(self) -> list[DashboardPage]:
        return [
            DashboardPage("/dasbor/report/11", "web.nav.overview", order=5),
            DashboardPage("/dasbor/secret", "web.nav.audit", admin=True),
        ]


async def test_menu_and_scope_of_a_plugins_pages() -> None:
    async with served(plugins=[ReportPlugin()]) as s:
        pmo, cut = s.chat.user("pmo"), s.chat.user("cut")
        await make_admin(s, pmo)
        captain = await make_captain(s, cut, "11.08")
        async with browser() as http:
            await sign_in(s, pmo, http)
            async with http.get(f"{s.url}/dasbor") as page:
                html = await page.text()
            assert 'href="/dasbor/secret"' in html
            assert 'href="/dasbor/report/11"' in html
            async with http.get(f"{s.url}/dasbor/secret") as page:
                assert await page.text() == "only the PMO"
        async with browser() as http:
            await sign_in(s, cut, http)
            async with http.get(f"{s.url}/dasbor") as page:
                html = await page.text()
            assert 'href="/dasbor/secret"' not in html
            async with http.get(f"{s.url}/dasbor/report/11.08") as page:
                assert page.status == 200
            for url in ("/dasbor/report/11.11", "/dasbor/report/11", "/dasbor/secret"):
                async with http.get(f"{s.url}{url}") as page:
                    assert page.status == 403, url
        refused = await AuditEntry.filter(action="web.forbidden", actor_id=captain.id).order_by(
            "id"
        )
        assert [e.target for e in refused] == [
            "GET /dasbor/report/11.11",
            "GET /dasbor/report/11",
            "GET /dasbor/secret",
        ]
        assert [e.region_code for e in refused] == ["11.11", "11", None]


def test_csv_downloads_defuse_spreadsheet_formulas() -> None:
    from core.web import csv_response

    response = csv_response("x.csv", ["name", "n"], [["=HYPERLINK(1)", 5], ["Aceh", -1]])
    assert response.body is not None
    text = bytes(response.body).decode("utf-8-sig")  # type: ignore[arg-type]
    assert text.splitlines() == ["name,n", "'=HYPERLINK(1),5", "Aceh,-1"]
    assert response.headers["Content-Disposition"] == 'attachment; filename="x.csv"'
