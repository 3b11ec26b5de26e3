"""Creating events step by step, with dates typed the way people type them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core import Job, Role
from core.testing import FakeChat, FakeUser
from plugins.events.models import Card, Event

from .conftest import RegionsForTests
from .helpers import captain, member_of


async def create_checked(
    chat: FakeChat, user: FakeUser, region: str, when: str, title: str = "Temu alumni"
) -> Event:
    await user.says("/acara_baru")
    chat.expect_sent(user, contains="judul")
    await user.says(title)
    await user.says(region)
    chat.expect_sent(user, contains="Kapan mulainya")
    await user.says(when)
    chat.expect_sent(user, contains="Maksud Anda")
    await user.presses("Ya, benar")
    await user.says("Aula kantor bupati")
    await user.presses("Tanpa batas")
    await user.presses("Lewati")
    await user.presses("Bawaan")
    await user.presses("Sekali saja")
    chat.expect_sent(user, contains="Periksa sebelum disimpan")
    await user.presses("Simpan")
    chat.expect_sent(user, contains="tersimpan")
    event = await Event.filter(title=title).order_by("-id").first()
    assert event is not None
    return event


@pytest.mark.parametrize(
    ("region", "code", "typed", "local", "label"),
    [
        (
            "Aceh Utara",
            "11.08",
            "besok jam 19.00",
            datetime(2026, 11, 24, 12, 0, tzinfo=UTC),
            "WIB",
        ),
        ("Kota Makassar", "73.71", "Rabu 14.00", datetime(2026, 11, 25, 6, 0, tzinfo=UTC), "WITA"),
        (
            "Kota Jayapura",
            "91.71",
            "23/11/2026 20:00",
            datetime(2026, 11, 23, 11, 0, tzinfo=UTC),
            "WIT",
        ),
        (
            "Kota Jayapura",
            "91.71",
            "2026-11-23 19:00 WIB",
            datetime(2026, 11, 23, 12, 0, tzinfo=UTC),
            "WIB",
        ),
    ],
)
async def test_create_in_each_zone(
    chat: FakeChat,
    regions: RegionsForTests,
    region: str,
    code: str,
    typed: str,
    local: datetime,
    label: str,
) -> None:
    group = chat.group(region, platform="telegram")
    dc = chat.group(region, platform="discord")
    regions.bind(code, group, dc)
    kapten = await captain(chat, "kapten", code)
    event = await create_checked(chat, kapten, region, typed)
    assert event.starts_at == local
    assert event.region_code == code
    assert event.reminder_minutes == [1440, 60]
    # The card went to the region's groups on both platforms, in the event's zone.
    card = chat.expect_sent(group, contains="Temu alumni", since_last_action=False)
    assert label in card.text
    chat.expect_sent(dc, contains="Temu alumni", since_last_action=False)
    # Two groups, and the captain's DM (made there), all edited in place later.
    assert await Card.filter(event_id=event.id).count() == 3
    jobs = await Job.filter(
        idempotency_key__startswith=f"events:{event.id}:remind:", status="pending"
    )
    due = sorted(j.due_at for j in jobs)
    # Reminders already past at creation (an event tonight has no 1-day reminder) are skipped.
    expected = [
        d for d in (local - timedelta(days=1), local - timedelta(hours=1)) if d > chat.now()
    ]
    assert due == expected


async def test_date_is_confirmed_and_bad_input_changes_nothing(chat: FakeChat) -> None:
    kapten = await captain(chat, "kapten", "11.08")
    await kapten.says("/event_new")
    await kapten.says("Webinar UMKM")
    await kapten.says("Aceh Utara")
    await kapten.says("kemarin jam 10.00")
    chat.expect_sent(kapten, contains="sudah lewat")
    await kapten.says("besok")
    chat.expect_sent(kapten, contains="belum ada jamnya")
    await kapten.says("lusa jam 7 malam")
    chat.expect_sent(kapten, contains="Rabu, 25 Nov 2026 19:00 WIB")
    await kapten.presses("Ketik ulang")
    chat.expect_sent(kapten, contains="Kapan mulainya")
    await kapten.says("lusa jam 8 malam")
    chat.expect_sent(kapten, contains="20:00 WIB")
    await kapten.presses("Ya, benar")
    await kapten.says("https://meet.example/umkm")
    await kapten.says("banyak")
    chat.expect_sent(kapten, contains="Kapasitas harus")
    await kapten.says("30")
    await kapten.says("Bawa laptop")
    await kapten.says("2 jam")
    await kapten.presses("Sekali")
    await kapten.presses("Batal")
    chat.expect_sent(kapten, contains="dibatalkan")
    assert await Event.all().count() == 0


async def test_member_cannot_create_and_captain_only_in_own_region(chat: FakeChat) -> None:
    amir = chat.user("amir", platform="telegram")
    await amir.says("/event_new")
    chat.expect_not_sent(amir, contains="judul")
    kapten = await captain(chat, "kapten", "11")
    await kapten.says("/event_new")
    await kapten.says("Temu alumni")
    await kapten.says("Kota Makassar")
    chat.expect_sent(kapten, contains="bukan kapten")
    await kapten.says("Aceh Utara")  # a province captain covers its kabupaten
    chat.expect_sent(kapten, contains="Kapan mulainya")


async def test_options_skip_steps(chat: FakeChat) -> None:
    kapten = await captain(chat, "kapten", "73")
    await kapten.says('/event_new "Kopdar Makassar" "besok 10.00" 73.71 "Pantai Losari" 50 "1h"')
    chat.expect_sent(kapten, contains="Senin" if False else "Selasa, 24 Nov 2026 10:00 WITA")
    await kapten.presses("Ya, benar")
    chat.expect_sent(kapten, contains="keterangan")


async def test_admin_creates_a_national_event_shown_in_every_zone(chat: FakeChat) -> None:
    pmo = chat.user("pmo", platform="telegram")
    member = await member_of(chat, pmo)
    await chat.app.roles.grant(member.id, Role.ADMIN)
    group = chat.group("Alumni Nasional", platform="telegram")
    await pmo.says(group, "/event_new")
    await pmo.says(group, "Webinar nasional")
    await pmo.presses("Nasional", group)
    await pmo.says(group, "besok jam 19.00")
    await pmo.presses("Ya, benar", group)
    for label in ("Lewati", "Tanpa batas", "Lewati", "Bawaan", "Sekali saja", "Simpan"):
        await pmo.presses(label, group)
    card = chat.expect_sent(group, contains="Webinar nasional")
    assert "19:00 WIB" in card.text
    assert "20:00 WITA · 21:00 WIT" in card.text
    assert "Nasional" in card.text
    event = await Event.get(title="Webinar nasional")
    assert event.region_code == ""
    # A captain can't manage a national event.
    kapten = await captain(chat, "kapten", "11")
    await kapten.says(f"/event_cancel {event.id}")
    chat.expect_sent(kapten, contains="bukan kapten untuk wilayah Nasional")


async def test_issue_phrases_are_read_and_confirmed(chat: FakeChat) -> None:
    """The phrases of issue #16: a bare hour is guessed and said so, an impossible time is
    refused with its reason, and nothing is saved before the captain confirms."""
    kapten = await captain(chat, "kapten", "11.08")
    await kapten.says("/acara_baru")
    await kapten.says("Kopdar alumni")
    await kapten.says("Aceh Utara")
    await kapten.says("besok 25.00")
    chat.expect_sent(kapten, contains="Jam 25.00 tidak ada")
    await kapten.says("Jumat 5 Desember 2026 jam 9")
    chat.expect_sent(kapten, contains="jatuh pada hari Sabtu, bukan Jumat")
    await kapten.says("besok jam 9")
    reply = chat.expect_sent(kapten, contains="Maksud Anda: Selasa, 24 Nov 2026 09:00 WIB")
    assert "saya anggap pagi" in reply.text
    await kapten.presses("Ketik ulang")
    await kapten.says("Sabtu depan jam 9 pagi sampai jam 12 siang")
    reply = chat.expect_sent(kapten, contains="Maksud Anda: Sabtu, 5 Des 2026 09:00–12:00 WIB")
    assert "anggap" not in reply.text
    assert await Event.all().count() == 0
    await kapten.presses("Ya, benar")
    chat.expect_sent(kapten, contains="Di mana")
