"""Reminders are durable jobs: made with the event, moved with it, cancelled with it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core import Job
from core.testing import FakeChat
from plugins.events.models import Event, ReminderSent

from .conftest import RegionsForTests
from .helpers import captain, create

TOMORROW_19_WIB = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


async def pending(event: Event) -> list[Job]:
    return await Job.filter(
        idempotency_key__startswith=f"events:{event.id}:remind:", status="pending"
    ).order_by("due_at")


async def test_reminders_go_to_dms_and_groups_at_each_offset(
    chat: FakeChat, regions: RegionsForTests
) -> None:
    tg, dc = (
        chat.group("Aceh Utara", platform="telegram"),
        chat.group("Aceh Utara", platform="discord"),
    )
    regions.bind("11.08", tg, dc)
    kapten = await captain(chat, "kapten", "11.08")
    await create(chat, kapten, "Aceh Utara", "besok jam 19.00", reminders="1h 15m")
    amir = chat.user("amir", platform="telegram")
    budi = chat.user("budi", platform="discord")
    chat.adapter("telegram").dm_requires_start = True  # amir never started the bot
    await amir.presses("Hadir", tg)
    await budi.presses("Mungkin", dc)
    await chat.advance(TOMORROW_19_WIB - timedelta(hours=1, minutes=1) - chat.now())
    chat.expect_nothing()
    await chat.advance("1m")
    chat.expect_sent(budi, contains="dimulai 1 jam lagi")
    chat.expect_not_sent(amir, contains="Pengingat")  # unreachable by DM...
    group_post = chat.expect_sent(tg, contains="Pengingat")  # ...so the group post covers it
    assert "@" not in group_post.text
    chat.expect_sent(dc, contains="Pengingat")
    await chat.advance("44m")
    chat.expect_nothing()
    await chat.advance("1m")
    chat.expect_sent(budi, contains="15 menit lagi")
    await chat.advance("1d")
    chat.expect_nothing()  # never twice


async def test_edit_moves_reminders(chat: FakeChat, regions: RegionsForTests) -> None:
    tg = chat.group("Aceh Utara", platform="telegram")
    regions.bind("11.08", tg)
    kapten = await captain(chat, "kapten", "11.08")
    event = await create(chat, kapten, "Aceh Utara", "besok jam 19.00")
    amir = chat.user("amir", platform="telegram")
    await amir.says("/start")
    await amir.presses("Hadir", tg)
    before = [j.due_at for j in await pending(event)]
    assert before == [TOMORROW_19_WIB - timedelta(days=1), TOMORROW_19_WIB - timedelta(hours=1)]
    await kapten.says(f"/event_edit {event.id} start Kamis 19.00")
    chat.expect_sent(kapten, contains="Kamis, 26 Nov 2026 19:00 WIB")
    await kapten.presses("Ya, benar")
    chat.expect_sent(amir, contains="pindah waktu")
    chat.expect_sent(tg, contains="Kamis, 26 Nov 2026 19:00 WIB")  # the card, edited
    new_start = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    after = [j.due_at for j in await pending(event)]
    assert after == [new_start - timedelta(days=1), new_start - timedelta(hours=1)]
    # Nothing at the old time; the reminder comes at the new one.
    await chat.advance(TOMORROW_19_WIB - chat.now())
    chat.expect_not_sent(amir, contains="Pengingat")
    await chat.advance(new_start - timedelta(hours=1) - chat.now())
    chat.expect_sent(amir, contains="1 jam lagi")


async def test_member_cannot_edit_and_bad_field_value_changes_nothing(
    chat: FakeChat, regions: RegionsForTests
) -> None:
    kapten = await captain(chat, "kapten", "11.08")
    other = await captain(chat, "lain", "73")
    event = await create(chat, kapten, "Aceh Utara", "besok jam 19.00")
    await other.says(f"/event_edit {event.id} title Judul lain")
    chat.expect_sent(other, contains="bukan kapten")
    await kapten.says(f"/event_edit {event.id} capacity banyak")
    chat.expect_sent(kapten, contains="Kapasitas harus")
    await kapten.says("/event_edit 999 title Apa saja")
    chat.expect_sent(kapten, contains="tidak ditemukan")
    await event.refresh_from_db()
    assert event.title == "Temu alumni"
    assert event.capacity is None


async def test_cancel_removes_reminders_and_tells_attendees(
    chat: FakeChat, regions: RegionsForTests
) -> None:
    tg = chat.group("Aceh Utara", platform="telegram")
    regions.bind("11.08", tg)
    kapten = await captain(chat, "kapten", "11.08")
    event = await create(chat, kapten, "Aceh Utara", "besok jam 19.00")
    amir = chat.user("amir", platform="telegram")
    await amir.says("/start")
    await amir.presses("Hadir", tg)
    assert len(await pending(event)) == 2
    await kapten.says(f"/acara_batal {event.id}")
    chat.expect_sent(kapten, contains="2 pengingat dihapus")
    chat.expect_sent(amir, contains="dibatalkan")
    card = chat.expect_sent(tg, contains="DIBATALKAN")
    assert card.button_labels() == []
    assert await pending(event) == []
    await chat.advance("2d")
    chat.expect_nothing()


async def test_recurring_weekly_occurrences(chat: FakeChat, regions: RegionsForTests) -> None:
    tg = chat.group("Aceh Utara", platform="telegram")
    regions.bind("11.08", tg)
    kapten = await captain(chat, "kapten", "11.08")
    await kapten.says("/event_new")
    await kapten.says("Webinar mingguan")
    await kapten.says("Aceh Utara")
    await kapten.says("Rabu 20.00")
    await kapten.presses("Ya, benar")
    await kapten.presses("Lewati")
    await kapten.presses("Tanpa batas")
    await kapten.presses("Lewati")
    await kapten.says("1h")
    await kapten.presses("Mingguan")
    chat.expect_sent(kapten, contains="Sampai tanggal")
    await kapten.says("16/12/2026")
    chat.expect_sent(kapten, contains="(4 kali)")
    await kapten.presses("Simpan")
    events = await Event.filter(title="Webinar mingguan").order_by("starts_at")
    assert [e.starts_at.day for e in events] == [25, 2, 9, 16]
    assert {e.series_id for e in events} == {events[0].series_id}
    assert events[0].series_id
    for event in events:  # each occurrence has its own reminder
        assert [j.due_at for j in await pending(event)] == [event.starts_at - timedelta(hours=1)]
    # Only the first card is posted now; the next one when the first starts.
    cards = [s for s in chat.sent_to(tg) if "Webinar mingguan" in s.text]
    assert len(cards) == 1
    assert f"#{events[0].id}" in cards[0].text
    amir = chat.user("amir", platform="telegram")
    await amir.says("/start")
    await amir.presses("Hadir", tg)
    await chat.advance(events[0].starts_at - chat.now())
    chat.expect_sent(tg, contains=f"Acara #{events[1].id}")
    await amir.presses("Tidak", tg)  # the second occurrence has its own RSVPs
    await chat.advance(events[1].starts_at - timedelta(hours=1) - chat.now())
    chat.expect_not_sent(amir, contains="Pengingat")
    assert await ReminderSent.filter(event_id=events[1].id).count() == 1  # the group post


async def test_cancel_the_rest_of_a_series(chat: FakeChat, regions: RegionsForTests) -> None:
    tg = chat.group("Aceh Utara", platform="telegram")
    regions.bind("11.08", tg)
    kapten = await captain(chat, "kapten", "11.08")
    await kapten.says('/event_new "Webinar bulanan" "Rabu 20.00" 11.08 "-" 100 "1h" "Zoom"')
    await kapten.presses("Ya, benar")
    await kapten.presses("Bulanan")
    await kapten.says("31/03/2027")
    chat.expect_sent(kapten, contains="(5 kali)")
    await kapten.presses("Simpan")
    events = await Event.filter(title="Webinar bulanan").order_by("starts_at")
    assert [(e.starts_at.month, e.starts_at.day) for e in events] == [
        (11, 25),
        (12, 25),
        (1, 25),
        (2, 25),
        (3, 25),
    ]
    await kapten.says(f"/event_cancel {events[2].id} all")
    chat.expect_sent(kapten, contains="3 jadwal")
    statuses = [e.status for e in await Event.filter(title="Webinar bulanan").order_by("starts_at")]
    assert statuses == ["scheduled", "scheduled", "cancelled", "cancelled", "cancelled"]
    for event in events[2:]:
        assert await pending(event) == []
    assert len(await pending(events[1])) == 1


async def test_fields_are_named_in_indonesian_and_a_rename_names_the_old_title(
    chat: FakeChat, regions: RegionsForTests
) -> None:
    """Issue #16: `/acara_ubah 1 kapasitas 3` works, and members hear the old title."""
    tg = chat.group("Aceh Utara", platform="telegram")
    regions.bind("11.08", tg)
    kapten = await captain(chat, "kapten", "11.08")
    event = await create(chat, kapten, "Aceh Utara", "besok jam 19.00", title="Kopdar besar")
    amir = chat.user("amir", platform="telegram")
    await amir.says("/start")
    await amir.presses("Hadir", tg)
    await kapten.says(f"/acara_ubah {event.id} kapasitas 3")
    chat.expect_sent(kapten, contains="diperbarui")
    await kapten.says(f"/acara_ubah {event.id} judul Kopdar besar Lhokseumawe")
    chat.expect_sent(amir, contains="Acara Kopdar besar sekarang bernama Kopdar besar Lhokseumawe")
    await kapten.says(f"/acara_ubah {event.id} tempat Taman Riyadah")
    chat.expect_sent(amir, contains="sekarang di Taman Riyadah")
    await kapten.says(f"/acara_ubah {event.id} mulai Kamis jam 7 malam")
    chat.expect_sent(kapten, contains="Kamis, 26 Nov 2026 19:00 WIB")
    await kapten.says(f"/acara_ubah {event.id} warna merah")
    refusal = chat.expect_sent(kapten, contains="harus salah satu dari")
    assert "judul/title" in refusal.text
    assert "kapasitas/capacity" in refusal.text
    await event.refresh_from_db()
    assert (event.capacity, event.title, event.place) == (
        3,
        "Kopdar besar Lhokseumawe",
        "Taman Riyadah",
    )
