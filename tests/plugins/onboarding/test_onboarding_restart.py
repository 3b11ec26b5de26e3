"""A restart mid-flow: close the App, open a new one on the same database, carry on."""

from __future__ import annotations

import os
from pathlib import Path

from core import App, FakeClock, Member
from core.testing import TEST_START, FakeChat
from core.testing import test_database_url as fresh_database_url
from core.testing import test_settings as settings_for


def _url(tmp_path: Path) -> str:
    """A fresh PostgreSQL database when the suite runs on one, else a SQLite file."""
    if os.environ.get("GUYUB_TEST_POSTGRES_URL"):
        return fresh_database_url()
    return f"sqlite://{tmp_path}/guyub.sqlite3"


async def test_restart_mid_flow_resumes_at_the_same_step(tmp_path: Path) -> None:
    url = _url(tmp_path)
    fresh = not url.startswith("sqlite")
    clock = FakeClock(TEST_START)
    settings = settings_for(database={"url": url})

    first = App(settings, clock=clock, create_database=fresh)
    async with first:
        chat = FakeChat(first)
        amir = chat.user("amir")
        await amir.says("/start onboard")
        await amir.presses("Setuju")
        await amir.says("Amir Hamzah")
        chat.expect_sent(amir, contains="kabupaten/kota mana")

    second = App(settings, clock=clock, drop_database=fresh)
    async with second:
        chat = FakeChat(second)
        amir = chat.user("amir")
        await amir.says("aceh utara")
        chat.expect_sent(amir, contains="Kabupaten Aceh Utara (Aceh)?")
        await amir.presses("Ya, benar")
        await amir.says("/start")
        chat.expect_sent(amir, contains="gelombang berapa")
        await amir.says("4")
        await amir.presses("Lewati")
        await amir.presses("Bahasa Indonesia")
        chat.expect_sent(amir, contains="Pendaftaran selesai, Amir Hamzah")
        member = await Member.get(display_name="Amir Hamzah")
        assert member.region_code == "11.08"
