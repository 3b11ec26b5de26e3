"""The dashboard in a real browser: Debian's chromium driven by Playwright, headless.

An admin opens a login link, reads the overview of a seeded community, drills into Aceh →
Aceh Utara, downloads a poll CSV equal to ``guyub export poll`` and approves a waiting
broadcast; a captain of Aceh Utara sees only Aceh Utara and gets 403 (audited) elsewhere;
a reused or expired link is refused; a form without its CSRF token is refused. Every page is
photographed at 1280 and 360 px (into ``GUYUB_SCREENSHOTS`` or the test's temporary folder).
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from core import AuditEntry
from core.web import COVERAGE_COLOURS
from plugins.captains.models import Broadcast
from plugins.polls.cli import export_poll
from plugins.polls.models import Ballot, Poll
from plugins.regions._cli import parse_recipients, store_recipients
from tests.core.web.dashboard_kit import (
    Served,
    login_link,
    make_admin,
    make_captain,
    member_of,
    seed_members,
    served,
)

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("GUYUB_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-extensions",
    "--disable-sync",
    "--disable-default-apps",
    "--no-first-run",
    "--mute-audio",
]
WIDTHS = {"desktop": (1280, 900), "phone": (360, 740)}


def _browser_or_skip() -> None:
    if os.environ.get("GUYUB_TEST_POSTGRES_URL"):
        pytest.skip("the browser test runs once, in CI's SQLite pass (2 cores, 45 minutes)")
    missing = []
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).is_file():
        missing.append(f"chromium at {CHROMIUM} (apt-get install -y chromium)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        missing.append("playwright (pip install -e '.[dev]')")
    if missing and os.environ.get("CI"):
        pytest.fail("browser tests need " + ", ".join(missing))
    if missing:
        pytest.skip("browser tests need " + ", ".join(missing))


@pytest_asyncio.fixture
async def chromium() -> AsyncIterator[object]:
    _browser_or_skip()
    from playwright.async_api import async_playwright

    async with async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield browser
        finally:
            await browser.close()


def _shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("GUYUB_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def _photograph(page, folder: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    """The page as a person sees it at 1280 px and on a 360-px phone."""
    for label, (width, height) in WIDTHS.items():
        await page.set_viewport_size({"width": width, "height": height})
        await page.screenshot(path=str(folder / f"{name}-{label}.png"), full_page=True)
        if label == "phone":
            # Nothing but wide tables (which scroll inside their box) may overflow 360 px.
            overflow = await page.evaluate(
                "document.documentElement.scrollWidth > document.documentElement.clientWidth"
            )
            assert not overflow, f"{name} is wider than a 360-px phone"
    await page.set_viewport_size({"width": 1280, "height": 900})


async def _seed(s: Served) -> tuple[Poll, Broadcast]:
    now = s.chat.now()
    await seed_members(now, {"11.08": (40, 30), "11.11": (12, 9), "11.07": (3, 3)}, active=5)
    counts, problems = parse_recipients("11,440287\n11.08,68066\n11.11,54176\n11.07,43075\n")
    assert not problems
    await store_recipients(s.app, counts, source="test")
    poll = await Poll.create(
        template="insentif",
        question={"id": "Untuk apa insentif Anda gunakan?", "en": "What did you use it for?"},
        options=[{"id": "Makanan", "en": "Food"}, {"id": "Modal usaha", "en": "Capital"}],
        multiple=True,
        created_at=now,
    )
    await Ballot.bulk_create(
        Ballot(
            poll_id=poll.id,
            choices=0b01 if i % 3 else 0b11,
            region_code=code,
            province_code="11",
            voted_at=now,
        )
        for code, n in (("11.08", 15), ("11.11", 12), ("11.07", 3))
        for i in range(n)
    )
    cut = s.chat.user("cut")
    sender = await make_captain(s, cut, "11.08")
    for name in ("warga1", "warga2"):
        user = s.chat.user(name)
        await user.says("/help")
        member = await member_of(s, user)
        member.region_code = "11.08"
        await member.save(update_fields=["region_code"])
    broadcast = await Broadcast.create(
        sender_id=sender.id,
        regions=["11.08"],
        mode="dms",
        text="Temu alumni Aceh Utara, Sabtu pukul 09.00 WIB.",
        status="approval",
        audience=2,
        created_at=now,
    )
    return poll, broadcast


async def _sign_in(s: Served, context, user) -> object:  # type: ignore[no-untyped-def]
    page = await context.new_page()
    await page.goto(await login_link(s, user))
    await page.get_by_role("button", name="Masuk").click()
    await page.wait_for_url("**/dasbor")
    return page


async def test_admin_and_captain_in_a_real_browser(chromium, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = _shots(tmp_path)
    async with served() as s:
        poll, broadcast = await _seed(s)
        pmo = s.chat.user("pmo")
        await make_admin(s, pmo)
        context = await chromium.new_context(accept_downloads=True, locale="id-ID")
        page = await _sign_in(s, context, pmo)

        # Overview: the seeded community, the figures /stats gives in chat.
        assert await page.inner_text("#fig-members") == "59"  # 55 seeded, pmo, cut, 2 more
        assert await page.inner_text("#fig-registered") == "42"
        await pmo.says("/stats")
        assert "Anggota: <b>59</b>" in str(s.chat.last(pmo).markup)
        await _photograph(page, folder, "overview")

        # Regions: Aceh → Aceh Utara.
        await (
            page.get_by_role("navigation", name="Menu dasbor")
            .get_by_role("link", name="Wilayah")
            .click()
        )
        await _photograph(page, folder, "regions")
        # The provinces' tile map: 38 squares, Aceh coloured as its coverage, each a link.
        tiles = page.locator("svg.map a")
        assert await tiles.count() == 38
        aceh = page.locator('svg.map a[href="/dasbor/regions/11"]')
        assert await aceh.get_attribute("aria-label") == "Aceh — cakupan: 0,01%"
        assert await aceh.locator("rect").get_attribute("fill") == COVERAGE_COLOURS["cov-0"][0]
        await page.set_viewport_size({"width": 360, "height": 740})
        await page.locator("svg.map").screenshot(path=str(folder / "map-phone.png"))
        await page.set_viewport_size({"width": 1280, "height": 900})
        await page.locator("svg.map").screenshot(path=str(folder / "map-desktop.png"))
        await aceh.click()
        assert await page.inner_text("#region-recipients") == "440.287"
        await _photograph(page, folder, "region-aceh")
        await page.click('ul.tiles a[data-code="11.08"]')
        assert await page.inner_text("h1") == "Kabupaten Aceh Utara"
        assert await page.inner_text("#region-members") == "42"  # 40 seeded, 2 more
        assert await page.inner_text("#region-coverage") == "0,04%"  # 30 registered / 68.066
        await _photograph(page, folder, "region-aceh-utara")

        # Polls: the CSV download is what `guyub export poll` writes.
        await page.goto(f"{s.url}/dasbor/polls/{poll.id}?by=kabupaten")
        await _photograph(page, folder, "poll")
        async with page.expect_download() as waiting:
            await page.click("#csv")
        download = await waiting.value
        saved = tmp_path / "poll.csv"
        await download.save_as(saved)
        expected = io.StringIO()
        await export_poll(s.app, expected, poll.id, format="csv", by="kabupaten")
        assert saved.read_bytes().decode("utf-8") == expected.getvalue()

        # Broadcasts: approve the waiting one and watch it complete.
        await page.goto(f"{s.url}/dasbor/broadcasts")
        await _photograph(page, folder, "broadcasts")
        await page.get_by_role("button", name="Setujui dan kirim").click()
        assert await page.inner_text("#status") == "Sedang dikirim"
        await s.app.run_pending()
        await page.reload()
        assert await page.inner_text("#status") == "Selesai"
        assert await page.inner_text("#count-sent") == "2"
        assert (await Broadcast.get(id=broadcast.id)).status == "done"
        await _photograph(page, folder, "broadcast")

        for name, url in (
            ("events", "/dasbor/events"),
            ("captains", "/dasbor/captains"),
            ("stats", "/dasbor/stats"),
            ("audit", "/dasbor/audit"),
            ("recipients", "/dasbor/recipients"),
        ):
            await page.goto(f"{s.url}{url}")
            await _photograph(page, folder, name)

        # English switch.
        await page.goto(f"{s.url}/dasbor?lang=en")
        assert await page.inner_text("h1") == "Community overview"
        await page.goto(f"{s.url}/dasbor?lang=id")

        # A form without its CSRF token is refused (and audited).
        refused = await page.request.post(f"{s.url}/dasbor/keluar", form={"x": "1"})
        assert refused.status == 403
        await context.close()

        # The captain of Aceh Utara sees Aceh Utara only.
        cut = s.chat.user("cut")
        captain = await member_of(s, cut)
        context = await chromium.new_context()
        page = await _sign_in(s, context, cut)
        assert "Wilayah Anda: Kabupaten Aceh Utara" in await page.inner_text("main")
        assert await page.inner_text("#fig-members") == "42"
        await _photograph(page, folder, "captain-overview")
        await page.goto(f"{s.url}/dasbor/regions")
        assert await page.locator("ul.tiles a").count() == 1
        for url in (
            "/dasbor/regions/11.11",
            "/dasbor/regions/11",
            "/dasbor/audit",
            "/dasbor/recipients",
        ):
            response = await page.goto(f"{s.url}{url}")
            assert response is not None
            assert response.status == 403, url
            assert "Tidak diizinkan" in await page.inner_text("h1")
        await _photograph(page, folder, "forbidden")
        audited = await AuditEntry.filter(action="web.forbidden", actor_id=captain.id).count()
        assert audited == 4
        await context.close()

        # A reused link and an expired link are refused.
        context = await chromium.new_context()
        page = await context.new_page()
        link = await login_link(s, pmo)
        await page.goto(link)
        await page.get_by_role("button", name="Masuk").click()
        await page.wait_for_url("**/dasbor")
        await page.goto(link)
        await page.get_by_role("button", name="Masuk").click()
        assert await page.inner_text("h1") == "Tautan tidak berlaku"
        late = await login_link(s, pmo)
        await s.chat.advance(timedelta(minutes=11))
        await page.goto(late)
        await page.get_by_role("button", name="Masuk").click()
        assert await page.inner_text("h1") == "Tautan tidak berlaku"
        await _photograph(page, folder, "login-refused")
        await context.close()
    assert len(list(folder.glob("*.png"))) == 2 * 15 + 2  # every page, and the map
