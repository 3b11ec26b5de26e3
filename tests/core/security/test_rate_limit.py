"""Per-member command rate limiting: counted in the database (shared by every worker),
one polite localized reply per window, then silence."""

from __future__ import annotations

import re
from typing import Any

from core import FakeClock, Member
from core.privacy.models import RateCounter
from core.testing import FakeChat, MemoryAdapter


async def test_twenty_one_commands_in_a_minute(chat: FakeChat) -> None:
    amir = chat.user("amir")
    aceh = chat.group("Aceh")
    for _ in range(20):
        await amir.says(aceh, "/help")
        chat.expect_sent(aceh, contains="Perintah Guyub")
    await amir.says(aceh, "/help")
    chat.expect_not_sent(aceh, contains="Perintah Guyub")
    chat.expect_sent(amir, contains="terlalu banyak perintah")
    await amir.says(aceh, "/help")
    chat.expect_nothing()
    # Others are not affected.
    await chat.user("budi").says(aceh, "/help")
    chat.expect_sent(aceh, contains="Perintah Guyub")
    await chat.advance("1m")
    await amir.says(aceh, "/help")
    chat.expect_sent(aceh, contains="Perintah Guyub")
    member = await Member.get(display_name="amir")
    rows = await RateCounter.filter(bucket=f"cmd:{member.id}").order_by("window_start")
    assert [r.count for r in rows] == [22, 1]


async def test_limit_counts_all_platforms_of_a_member(make_app: Any, clock: FakeClock) -> None:
    async with make_app(clock=clock, limits={"commands_per_minute": 3}) as app:
        chat = FakeChat(app, [MemoryAdapter("telegram"), MemoryAdapter("discord")])
        tg = chat.user("sari", platform="telegram")
        dc = chat.user("sari", platform="discord")
        await tg.says("/link")
        code = re.findall(r"/tautkan ([A-Z0-9]{6})", chat.last(tg).text)[0]
        await dc.says(f"/link {code}")
        # One member now: the Telegram /link and these two share a budget of three.
        await dc.says("/help")
        await tg.says("/help")
        chat.expect_sent(tg, contains="Perintah Guyub")
        await dc.says("/help")
        chat.expect_sent(dc, contains="batas 3 perintah per menit")


async def test_zero_disables_the_limit(make_app: Any, clock: FakeClock) -> None:
    async with make_app(clock=clock, limits={"commands_per_minute": 0}) as app:
        chat = FakeChat(app)
        amir = chat.user("amir", language="en")
        for _ in range(30):
            await amir.says("/help")
            chat.expect_sent(amir, contains="Guyub commands")
        assert not await RateCounter.exists()


async def test_polite_reply_is_in_the_members_language(chat: FakeChat) -> None:
    amir = chat.user("amir", language="en")
    for _ in range(21):
        await amir.says("/help")
    chat.expect_sent(amir, contains="too many commands")
