"""The dashboard's Regions pages: the same figures as chat, drill-down from province to
kabupaten/kota, scope per captain, and the PMO's recipients upload with clear errors."""

from __future__ import annotations

import re

import aiohttp

from core import AuditEntry, Member
from core.web import COVERAGE_COLOURS
from plugins.regions._cli import parse_recipients, store_recipients
from plugins.regions._stats import region_rows
from plugins.regions.models import RecipientCount, RegionChat
from tests.core.web.dashboard_kit import (
    browser,
    csrf_of,
    make_admin,
    make_captain,
    seed_members,
    served,
    sign_in,
)

ACEH_CSV = "kode,penerima\n11,440.287\n11.08,68066\n11.11,54176\n11.07,43075\n"


#: A square of the provinces' tile map: its link, its label, its fill.
_TILE = re.compile(
    r'<a href="/dasbor/regions/(\d+)" aria-label="([^"]+)"><title>[^<]*</title><rect [^>]*fill="(#\w+)"'
)


def _cell(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}">([^<]*)<', html)
    assert found, element_id
    return found.group(1)


async def _upload(http: aiohttp.ClientSession, url: str, content: bytes) -> aiohttp.ClientResponse:
    token = await csrf_of(http, f"{url}/dasbor/recipients")
    form = aiohttp.FormData()
    form.add_field("csrf", token)
    form.add_field("file", content, filename="penerima.csv", content_type="text/csv")
    return await http.post(f"{url}/dasbor/recipients", data=form)


async def test_admin_uploads_recipients_and_drills_into_aceh_utara() -> None:
    async with served() as s:
        pmo = s.chat.user("pmo")
        admin = await make_admin(s, pmo)
        await seed_members(s.chat.now(), {"11.08": (40, 30), "11.11": (10, 4), "32.01": (5, 5)})
        await RegionChat.create(
            region_code="11.08",
            platform="telegram",
            chat_id="-100",
            title="Alumni Aceh Utara",
            invite_link="https://t.me/+abc",
        )
        async with browser() as http:
            await sign_in(s, pmo, http)
            bad = await _upload(http, s.url, b"kode,penerima\n11.99,5\n11.08,banyak\n11\n")
            html = await bad.text()
            assert bad.status == 400
            assert "Baris 2: kode wilayah “11.99” tidak dikenal" in html
            assert "Baris 3: jumlah penerima harus bilangan bulat, bukan “banyak”" in html
            assert "Baris 4: harus berisi dua kolom" in html
            assert await RecipientCount.all().count() == 0  # all or nothing

            good = await _upload(http, s.url, ACEH_CSV.encode())
            assert good.status == 200
            assert "Jumlah penerima untuk 4 wilayah tersimpan" in await good.text()
            entry = await AuditEntry.get(action="regions.import_recipients")
            assert entry.actor_id == admin.id
            assert entry.details["rows"] == 4

            async with http.get(f"{s.url}/dasbor/regions") as page:
                html = await page.text()
            tiles = {code: (label, fill) for code, label, fill in _TILE.findall(html)}
            assert len(tiles) == 38  # the tile map: a square per province, each a link
            # Aceh: 34 registered of 440,287 recipients; West Java: no recipients imported.
            assert tiles["11"] == ("Aceh — cakupan: 0,01%", COVERAGE_COLOURS["cov-0"][0])
            assert tiles["32"] == ("Jawa Barat — cakupan: –", COVERAGE_COLOURS["cov-none"][0])

            async with http.get(f"{s.url}/dasbor/regions/11") as page:
                html = await page.text()
            (aceh,) = await region_rows(["11"])
            assert _cell(html, "region-members") == str(aceh.members) == "50"
            assert _cell(html, "region-recipients") == "440.287"
            assert 'data-code="11.08"' in html
            assert "Kabupaten Aceh Utara" in html

            async with http.get(f"{s.url}/dasbor/regions/11.08") as page:
                html = await page.text()
            assert _cell(html, "region-members") == "40"
            assert _cell(html, "region-registered") == "30"
            assert _cell(html, "region-coverage") == "0,04%"  # 30 registered / 68.066
            assert 'href="https://t.me/+abc"' in html
            assert "belum punya kapten" in html

            async with http.get(f"{s.url}/dasbor/regions/11?format=csv&sort=members") as page:
                text = (await page.read()).decode("utf-8-sig")
            lines = text.splitlines()
            assert lines[0] == "code,name,members,registered,recipients,coverage,captains,groups"
            assert lines[1].startswith("11.08,Kabupaten Aceh Utara,40,30,68066,0.000441,0,1")


async def test_captain_sees_only_their_region() -> None:
    async with served() as s:
        cut = s.chat.user("cut")
        captain = await make_captain(s, cut, "11.08")
        async with browser() as http:
            await sign_in(s, cut, http)
            async with http.get(f"{s.url}/dasbor/regions") as page:
                html = await page.text()
            assert 'data-code="11.08"' in html
            assert 'data-code="11.11"' not in html
            assert "Penerima resmi" not in html.split("<main")[0]  # no admin menu link
            async with http.get(f"{s.url}/dasbor/regions/11.08") as page:
                assert page.status == 200
            for url in ("/dasbor/regions/11.11", "/dasbor/regions/11", "/dasbor/recipients"):
                async with http.get(f"{s.url}{url}") as page:
                    assert page.status == 403, url
            refused = await _upload_refused(http, s.url)
            assert refused == 403
        targets = await AuditEntry.filter(action="web.forbidden", actor_id=captain.id).values_list(
            "target", flat=True
        )
        assert "GET /dasbor/regions/11.11" in targets
        assert "POST /dasbor/recipients" in targets


async def _upload_refused(http: aiohttp.ClientSession, url: str) -> int:
    form = aiohttp.FormData()
    form.add_field("file", ACEH_CSV.encode(), filename="x.csv")
    async with http.post(f"{url}/dasbor/recipients", data=form) as response:
        return response.status


#: A chat row of /stats: "• Kabupaten Aceh Utara: 40 anggota, 30 terdaftar, cakupan 7,50%".
_STATS_ROW = re.compile(r"• ([^:\n]+): ([\d.]+) anggota, ([\d.]+) terdaftar, cakupan ([^\s<]+)")
#: A chat row of /regions: "<code>11.08</code> Kabupaten Aceh Utara: 40 / 30 · 7,50%".
_LIST_ROW = re.compile(r"<code>([\d.]+)</code> [^:\n]+: ([\d.]+) / ([\d.]+) · ([^\s<]+)")
#: A table row of the overview or a Regions page: name or code, then the figure cells.
_PAGE_ROW = re.compile(
    r'<tr(?: data-code="([\d.]+)")?>\s*<th scope="row"><a href="/dasbor/regions/[\d.]+">'
    r"([^<]+)</a></th>\s*<td[^>]*>([^<]*)</td>\s*<td[^>]*>([^<]*)</td>\s*<td[^>]*>([^<]*)</td>"
    r"\s*<td[^>]*>([^<]*)</td>"
)


async def test_coverage_on_every_page_equals_the_chat_figures() -> None:
    """Coverage is registered members ÷ official recipients, the same on the overview, the
    Regions pages, /stats and /regions, for the PMO and for a captain."""
    async with served() as s:
        pmo, cut = s.chat.user("pmo"), s.chat.user("cut")
        await make_admin(s, pmo)
        await make_captain(s, cut, "11.08")
        await seed_members(
            s.chat.now(), {"11.08": (40, 30), "11.11": (12, 9), "11.07": (3, 3)}, active=1
        )
        await Member.filter(region_code="11.11").update(last_active_at=None)
        counts, problems = parse_recipients("11,1000\n11.08,400\n11.11,54\n11.07,7\n")
        assert not problems
        await store_recipients(s.app, counts, source="test")

        await pmo.says("/stats")
        chat = {m[0]: m[1:] for m in _STATS_ROW.findall(str(s.chat.last(pmo).markup))}
        # Aceh: 42 registered of 1,000 recipients (not 55 members of them).
        assert chat["Aceh"] == ("55", "42", "4,20%")
        async with browser() as http:
            await sign_in(s, pmo, http)
            async with http.get(f"{s.url}/dasbor") as page:
                overview = {m[1]: (m[2], m[3], m[5]) for m in _PAGE_ROW.findall(await page.text())}
            async with http.get(f"{s.url}/dasbor/regions") as page:
                tiles = {code: label for code, label, _ in _TILE.findall(await page.text())}
            async with http.get(f"{s.url}/dasbor/regions/11") as page:
                html = await page.text()
                province = {m[0]: (m[2], m[3], m[5]) for m in _PAGE_ROW.findall(html)}
        assert tiles["11"] == f"Aceh — cakupan: {chat['Aceh'][2]}"
        # Last activity per region, as of the latest active member in it.
        last = dict(re.findall(r'<tr data-code="([\d.]+)">.*?<td>([^<]*)</td>\s*</tr>', html, re.S))
        assert last["11.08"] == last["11.07"] == "2026-11-23"
        assert last["11.11"] == "–"
        assert overview["Aceh"] == chat["Aceh"]
        assert overview["Sumatera Utara"] == ("0", "0", "–")  # no recipients imported there
        # Chat counts the provinces without members instead of listing them.
        assert {name: row for name, row in overview.items() if row[0] != "0"} == chat

        await pmo.says("/regions aceh")
        listed = {m[0]: m[1:] for m in _LIST_ROW.findall(str(s.chat.last(pmo).markup))}
        assert listed["11.08"] == ("40", "30", "7,50%")  # 30 of 400
        assert listed["11.11"] == ("12", "9", "16,67%")
        assert listed["11.07"] == ("3", "3", "42,86%")
        assert len(listed) == len(province) == 23
        assert province == listed

        await cut.says("/stats")
        chat = {m[0]: m[1:] for m in _STATS_ROW.findall(str(s.chat.last(cut).markup))}
        assert chat == {"Kabupaten Aceh Utara": ("40", "30", "7,50%")}
        async with browser() as http:
            await sign_in(s, cut, http)
            async with http.get(f"{s.url}/dasbor") as page:
                overview = {m[1]: (m[2], m[3], m[5]) for m in _PAGE_ROW.findall(await page.text())}
            async with http.get(f"{s.url}/dasbor/regions/11.08") as page:
                html = await page.text()
        assert overview == chat
        assert _cell(html, "region-coverage") == "7,50%"
        assert "Terakhir aktif: 2026-11-23 03:00 UTC" in html
