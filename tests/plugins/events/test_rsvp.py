"""RSVPs: one per member across platforms, live counts on every card, capacity and waitlist."""

from __future__ import annotations

import asyncio

import plugins.events
from core.testing import FakeChat, MemoryAdapter
from plugins.events._service import counts, set_rsvp
from plugins.events.models import Rsvp

from .conftest import RegionsForTests
from .helpers import captain, create, link, member_of


async def test_linked_member_counts_once_across_platforms(
    chat: FakeChat, regions: RegionsForTests
) -> None:
    tg, dc = (
        chat.group("Aceh Utara", platform="telegram"),
        chat.group("Aceh Utara", platform="discord"),
    )
    regions.bind("11.08", tg, dc)
    kapten = await captain(chat, "kapten", "11.08")
    event = await create(chat, kapten, "Aceh Utara", "besok jam 19.00")
    amir_tg = chat.user("amir", platform="telegram")
    amir_dc = chat.user("amir", platform="discord")
    await member_of(chat, amir_tg)
    await link(chat, amir_tg, amir_dc)
    await amir_tg.presses("Hadir", tg)
    chat.expect_sent(tg, contains="Hadir: 1")  # the card, edited in place
    chat.expect_sent(dc, contains="Hadir: 1")  # and on the other platform
    await amir_dc.presses("Hadir", dc)
    await amir_dc.presses("Mungkin", dc)
    tally = await counts(event.id)
    assert (tally.going, tally.maybe) == (0, 1)
    assert await Rsvp.filter(event_id=event.id).count() == 1
    card = chat.last(tg)
    assert "Hadir: 0" in card.text
    assert "Mungkin: 1" in card.text
    assert card.edits >= 3


async def test_merge_keeps_one_rsvp(chat: FakeChat, regions: RegionsForTests) -> None:
    tg, dc = (
        chat.group("Aceh Utara", platform="telegram"),
        chat.group("Aceh Utara", platform="discord"),
    )
    regions.bind("11.08", tg, dc)
    kapten = await captain(chat, "kapten", "11.08")
    event = await create(chat, kapten, "Aceh Utara", "besok jam 19.00")
    siti_tg = chat.user("siti", platform="telegram")
    siti_dc = chat.user("siti", platform="discord")
    await siti_tg.presses("Mungkin", tg)
    await siti_dc.presses("Hadir", dc)
    assert (await counts(event.id)).going == 1
    assert (await counts(event.id)).maybe == 1
    kept = await link(chat, siti_tg, siti_dc)
    rows = await Rsvp.filter(event_id=event.id)
    assert [(r.member_id, r.status) for r in rows] == [(kept.id, "going")]


async def test_capacity_waitlist_and_promotion(chat: FakeChat, regions: RegionsForTests) -> None:
    tg = chat.group("Makassar", platform="telegram")
    regions.bind("73.71", tg)
    kapten = await captain(chat, "kapten", "73")
    event = await create(chat, kapten, "Kota Makassar", "besok jam 10.00", capacity="2")
    a, b, c = (chat.user(n, platform="telegram") for n in ("ani", "budi", "citra"))
    await a.presses("Hadir", tg)
    await b.presses("Hadir", tg)
    await c.presses("Hadir", tg)
    chat.expect_sent(c, contains="daftar tunggu")
    card = chat.last(tg)
    assert "Hadir: 2/2" in card.text
    assert "Daftar tunggu: 1" in card.text
    await b.presses("Tidak", tg)
    chat.expect_sent(c, contains="Ada kursi kosong")
    tally = await counts(event.id)
    assert (tally.going, tally.no, tally.waitlist) == (2, 1, 0)
    assert "Hadir: 2/2" in chat.last(tg).text
    assert "Daftar tunggu" not in chat.last(tg).text


async def test_events_list_shows_own_answer(chat: FakeChat, regions: RegionsForTests) -> None:
    tg = chat.group("Aceh Utara", platform="telegram")
    regions.bind("11.08", tg)
    kapten = await captain(chat, "kapten", "11.08")
    await create(chat, kapten, "Aceh Utara", "besok jam 19.00", title="Temu alumni Aceh Utara")
    amir = chat.user("amir", platform="telegram")
    member = await member_of(chat, amir)
    member.region_code = "11.08"
    await member.save()
    await amir.says("/acara")
    chat.expect_sent(amir, contains="belum menjawab")
    await amir.presses("Mungkin", tg)
    await amir.says("/acara")
    reply = chat.expect_sent(amir, contains="Temu alumni Aceh Utara")
    assert "Anda: mungkin" in reply.text
    assert "Selasa, 24 Nov 2026 19:00 WIB" in reply.text
    papua = chat.user("yosef", platform="telegram")
    member = await member_of(chat, papua)
    member.region_code = "91.71"
    await member.save()
    await papua.says("/acara")
    chat.expect_sent(papua, contains="Belum ada acara")


async def test_each_member_hears_their_language_and_zone(
    chat: FakeChat, regions: RegionsForTests
) -> None:
    tg = chat.group("Aceh Utara", platform="telegram")
    regions.bind("11.08", tg)
    kapten = await captain(chat, "kapten", "11.08")
    await create(chat, kapten, "Aceh Utara", "besok jam 19.00")
    john = chat.user("john", platform="telegram", language="en")
    member = await member_of(chat, john)
    member.language, member.region_code = "en", "91.71"  # lives in Jayapura (WIT)
    await member.save()
    await john.presses("Hadir", tg)  # the group card is in the group language
    chat.expect_sent(john, contains="You're going")
    await john.says("/events")
    chat.expect_sent(john, contains="Tue, 24 Nov 2026 21:00 WIT")


async def test_card_edits_are_spaced_out(make_app, clock, regions: RegionsForTests) -> None:  # type: ignore[no-untyped-def]
    async with make_app(
        plugins=[plugins.events, regions],
        discover_plugins=False,
        clock=clock,
        events={"card_refresh_seconds": 3},
    ) as app:
        chat = FakeChat(app, [MemoryAdapter("telegram")])
        tg = chat.group("Aceh Utara", platform="telegram")
        regions.bind("11.08", tg)
        kapten = await captain(chat, "kapten", "11.08")
        await create(chat, kapten, "Aceh Utara", "besok jam 19.00")
        card = chat.last(tg)
        users = [chat.user(f"anggota{i}", platform="telegram") for i in range(5)]
        await users[0].presses("Hadir", tg)
        assert "Hadir: 1" in card.text  # the first press in a quiet window shows at once
        edits = card.edits
        for user in users[1:]:
            await user.presses("Hadir", tg)
        assert card.edits == edits  # the others wait for the end of the window...
        await chat.advance("3s")
        assert card.edits == edits + 1  # ...and share one edit
        assert "Hadir: 5" in card.text


async def test_simultaneous_answers_keep_one_row_and_the_capacity(
    chat: FakeChat, regions: RegionsForTests
) -> None:
    kapten = await captain(chat, "kapten", "11.08")
    event = await create(chat, kapten, "Aceh Utara", "besok jam 19.00", capacity="1")
    members = [await member_of(chat, chat.user(n, platform="telegram")) for n in ("a1", "a2")]
    now = chat.now()
    await asyncio.gather(
        set_rsvp(event, members[0].id, "going", now),
        set_rsvp(event, members[0].id, "going", now),
        set_rsvp(event, members[1].id, "going", now),
    )
    rows = await Rsvp.filter(event_id=event.id)
    assert len(rows) == 2
    assert sorted(r.waitlisted for r in rows) == [False, True]


async def test_a_captain_without_a_region_of_their_own_sees_their_regions_events(
    chat: FakeChat, regions: RegionsForTests
) -> None:
    """Issue #16: /acara told such a captain there were no events while theirs existed."""
    kapten = await captain(chat, "kapten", "11.08")  # no member region, only the role
    await create(chat, kapten, "Aceh Utara", "besok jam 19.00", title="Kopdar Lhokseumawe")
    await create(chat, kapten, "Aceh Utara", "lusa jam 19.00", title="Webinar UMKM")
    await kapten.says("/acara")
    listing = chat.expect_sent(kapten, contains="Acara mendatang")
    assert "Kopdar Lhokseumawe" in listing.text
    assert "Webinar UMKM" in listing.text
    other = await captain(chat, "lain", "73")
    await other.says("/acara")
    chat.expect_sent(other, contains="Belum ada acara mendatang")
