"""Calendar files, check-in, the attendee CSV, and the privacy and stats hooks."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import icalendar

import plugins.events as events_plugin
from core.testing import FakeChat
from plugins.events._render import event_ics
from plugins.events.models import Checkin, Event, Rsvp

from .conftest import RegionsForTests
from .helpers import captain, create, member_of


async def test_ics_round_trips_the_start_in_utc(chat: FakeChat, regions: RegionsForTests) -> None:
    kapten = await captain(chat, "kapten", "91")
    event = await create(chat, kapten, "Kota Jayapura", "besok jam 19.00")
    assert event.starts_at == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # 19:00 WIT
    await kapten.says(f"/event_ics {event.id}")
    sent = chat.expect_sent(kapten, contains="kalender")
    (attached,) = sent.attachments
    filename, data = attached.filename, attached.data
    assert filename == f"event-{event.id}.ics"
    calendar = icalendar.Calendar.from_ical(data)
    vevent = next(iter(calendar.walk("VEVENT")))
    start = vevent.decoded("dtstart")
    assert start.astimezone(UTC) == event.starts_at
    assert str(start.tzinfo) == "Asia/Jayapura"
    assert any(tz["TZID"] == "Asia/Jayapura" for tz in calendar.walk("VTIMEZONE"))
    assert str(vevent["summary"]) == "Temu alumni"
    assert vevent.decoded("dtend") - start == timedelta(hours=2)
    # ORGANIZER must be a calendar address; the bot has none, so it names the calendar.
    assert "ORGANIZER" not in vevent
    assert str(calendar["X-WR-CALNAME"]) == "Guyub"


async def test_ics_of_a_cancelled_event_says_so(chat: FakeChat) -> None:
    event = await Event.create(
        title="Batal", starts_at=datetime(2026, 12, 1, 3, tzinfo=UTC), status="cancelled"
    )
    calendar = icalendar.Calendar.from_ical(event_ics(event, chat.now()))
    assert str(next(iter(calendar.walk("VEVENT")))["status"]) == "CANCELLED"


async def test_checkin_and_attendees_csv(chat: FakeChat, regions: RegionsForTests) -> None:
    tg = chat.group("Aceh Utara", platform="telegram")
    regions.bind("11.08", tg)
    kapten = await captain(chat, "kapten", "11.08")
    event = await create(chat, kapten, "Aceh Utara", "besok jam 19.00")
    ani, budi, citra = (chat.user(n, platform="telegram") for n in ("ani", "budi", "citra"))
    await ani.presses("Hadir", tg)
    await budi.presses("Hadir", tg)
    await citra.presses("Tidak", tg)
    await chat.advance(event.starts_at - chat.now())
    await kapten.says(f"/buka_absen {event.id} 60")
    code_msg = chat.expect_sent(kapten, contains="Kode presensi")
    code = code_msg.text.split(": ", 1)[1].split(" ", 1)[0]
    chat.expect_sent(tg, contains="Presensi")
    await ani.presses("Saya hadir", tg)
    chat.expect_sent(ani, contains="tercatat")
    await citra.says(f"/absen {code.lower()}")
    chat.expect_sent(citra, contains="tercatat")
    await budi.says("/absen XXXXXX")
    chat.expect_sent(budi, contains="tidak dikenal")
    await kapten.says(f"/peserta {event.id}")
    summary = chat.expect_sent(kapten, contains="Sudah presensi: 2")
    assert "1 dari 2 yang menjawab hadir" in summary.text
    assert "Jumlah yang menjawab: 3" in summary.text
    (attached,) = summary.attachments
    filename, data = attached.filename, attached.data
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert filename == f"attendees-{event.id}.csv"
    # In the captain's language, ready to forward: answers in words, times in the zone.
    assert list(rows[0]) == [
        "No. anggota",
        "Nama",
        "Jawaban",
        "Daftar tunggu",
        "Presensi (WIB)",
        "Waktu menjawab (WIB)",
    ]
    assert {(r["Nama"], r["Jawaban"], bool(r["Presensi (WIB)"])) for r in rows} == {
        ("ani", "hadir", True),
        ("budi", "hadir", False),
        ("citra", "tidak", True),
    }
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", r["Waktu menjawab (WIB)"]) for r in rows)
    await chat.advance("2h")
    await budi.presses("Saya hadir", tg)
    chat.expect_sent(budi, contains="belum dibuka atau sudah ditutup")
    stats = await chat.app.plugins.collect_stats(["11"], chat.app)
    assert stats["events"]["checkins"] == 2
    assert stats["events"]["turnout_percent"] == 50
    assert (await chat.app.plugins.collect_stats(["73"], chat.app))["events"]["events"] == 0
    # Members can't see the attendee list.
    await ani.says(f"/attendees {event.id}")
    chat.expect_not_sent(ani, contains="Sudah presensi")


async def test_export_and_forget(chat: FakeChat, regions: RegionsForTests) -> None:
    tg = chat.group("Aceh Utara", platform="telegram")
    regions.bind("11.08", tg)
    kapten = await captain(chat, "kapten", "11.08")
    event = await create(chat, kapten, "Aceh Utara", "besok jam 19.00", capacity="1")
    ani, budi = chat.user("ani", platform="telegram"), chat.user("budi", platform="telegram")
    await ani.presses("Hadir", tg)
    await budi.presses("Hadir", tg)
    member = await member_of(chat, ani)
    exported = await chat.app.plugins.export_member(member)
    assert exported["events"]["rsvps"][0]["status"] == "going"
    await chat.app.plugins.forget_member(member)
    assert not await Rsvp.filter(member_id=member.id).exists()
    assert not await Checkin.filter(member_id=member.id).exists()
    assert "events" not in await chat.app.plugins.export_member(member)
    # The seat ani held went to budi on the waitlist.
    budi_member = await member_of(chat, budi)
    rsvp = await Rsvp.get(event_id=event.id, member_id=budi_member.id)
    assert not rsvp.waitlisted


async def test_completions(chat: FakeChat, regions: RegionsForTests) -> None:
    kapten = await captain(chat, "kapten", "11.08")
    event = await create(chat, kapten, "Aceh Utara", "besok jam 19.00", title="Webinar UMKM")
    found = await chat.app.plugins.resolve_completions("events", "umkm")
    assert found == [(f"#{event.id} Webinar UMKM · Selasa, 24 Nov 2026 19:00 WIB", str(event.id))]
    assert await chat.app.plugins.resolve_completions("events", "tidak ada") == []
    assert await events_plugin.guyub_resolve_completions("regions", "x", None) is None


async def test_attendees_csv_neutralises_formula_names(
    chat: FakeChat, regions: RegionsForTests
) -> None:
    """Security: a member named ``=1+2 Budi`` or ``+Siti`` is text in /peserta's file."""
    tg = chat.group("Aceh Utara", platform="telegram")
    regions.bind("11.08", tg)
    kapten = await captain(chat, "kapten", "11.08")
    event = await create(chat, kapten, "Aceh Utara", "besok jam 19.00")
    names = ["=1+2 Budi", "=SUM Budi", "+Siti"]
    for name in names:
        await chat.user(name, platform="telegram").presses("Hadir", tg)
    await kapten.says(f"/peserta {event.id}")
    sent = chat.expect_sent(kapten, contains="Peserta acara")
    data = sent.attachments[0].data
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert sorted(r["Nama"] for r in rows) == sorted("'" + n for n in names)
