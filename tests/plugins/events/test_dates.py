"""Dates as people type them, read in a zone, relative to a fixed now.

``PHRASES`` is the phrase table of issue #16: event times as Indonesians write them in
WhatsApp invitations and news ("Sabtu, 5/12/2026 pkl. 09.00 WIB s.d. selesai"), each with the
reading the bot shows back for confirmation, or the reason it refuses.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core import zone_abbreviation
from plugins.events._dates import DateError, parse_day, parse_when

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # Monday 10:00 WIB

# (typed, expected): "<local start> [→ <local end>] [<zone if not WIB>] [~<assumed part>]"
# in the zone the text names (WIB by default), or "! <reason>" for a refusal.
PHRASES = [
    ("Sabtu depan jam 9 pagi", "2026-12-05 09:00"),
    ("Sabtu ini jam 09.00", "2026-11-28 09:00"),
    ("Senin depan jam 8 pagi", "2026-11-30 08:00"),
    ("sabtu pekan depan jam 10 pagi", "2026-12-05 10:00"),
    ("besok jam 10 pagi sampai jam 12 siang", "2026-11-24 10:00 → 2026-11-24 12:00"),
    ("besok jam setengah 8 malam", "2026-11-24 19:30"),
    ("nanti malam jam 8", "2026-11-23 20:00"),
    ("tgl 5 Desember jam 9", "2026-12-05 09:00 ~pagi"),
    ("besok jam 9", "2026-11-24 09:00 ~pagi"),
    ("besok jam 9 malam", "2026-11-24 21:00"),
    ("besok 25.00", "! bad_time"),
    ("besok jam 19.00", "2026-11-24 19:00"),
    ("besok pukul 19.00 WIB", "2026-11-24 19:00"),
    ("Besok, pukul 08.00 WIB", "2026-11-24 08:00"),
    ("besok pkl. 08.00 WIB", "2026-11-24 08:00"),
    ("besok pk 8 pagi", "2026-11-24 08:00"),
    ("besok jm 8 pagi", "2026-11-24 08:00"),
    ("Besok jam 7 pagi", "2026-11-24 07:00"),
    ("besok pagi jam 7", "2026-11-24 07:00"),
    ("besok pagi pukul 07.30", "2026-11-24 07:30"),
    ("besok siang jam 1", "2026-11-24 13:00"),
    ("besok jam 1 siang", "2026-11-24 13:00"),
    ("besok jam 2 siang", "2026-11-24 14:00"),
    ("besok jam 12 siang", "2026-11-24 12:00"),
    ("besok jam 3 sore", "2026-11-24 15:00"),
    ("besok sore jam 4", "2026-11-24 16:00"),
    ("besok jam 4 sore s.d. selesai", "2026-11-24 16:00"),
    ("besok jam 5 sore", "2026-11-24 17:00"),
    ("besok jam 6 sore", "2026-11-24 18:00"),
    ("besok petang jam 6", "2026-11-24 18:00"),
    ("besok jam 7 malam", "2026-11-24 19:00"),
    ("besok malam jam 8", "2026-11-24 20:00"),
    ("besok jam 10 malam", "2026-11-24 22:00"),
    ("besok jam 12 malam", "2026-11-25 00:00"),
    ("besok jam 1 malam", "2026-11-25 01:00"),
    ("besok jam 4 subuh", "2026-11-24 04:00"),
    ("besok jam 2 dini hari", "2026-11-24 02:00"),
    ("besok 09.00-12.00 WIB", "2026-11-24 09:00 → 2026-11-24 12:00"),
    ("besok 09.00 - 12.00", "2026-11-24 09:00 → 2026-11-24 12:00"),
    ("besok jam 09.00 s/d 12.00 WIB", "2026-11-24 09:00 → 2026-11-24 12:00"),
    ("besok jam 09.00 sd 12.00", "2026-11-24 09:00 → 2026-11-24 12:00"),
    ("besok pukul 09.00 s.d. 12.00 WIB", "2026-11-24 09:00 → 2026-11-24 12:00"),
    ("besok pukul 09.00 sampai dengan 12.00", "2026-11-24 09:00 → 2026-11-24 12:00"),
    ("besok pukul 09.00 hingga 11.30", "2026-11-24 09:00 → 2026-11-24 11:30"),
    ("besok jam 9 sampai jam 11", "2026-11-24 09:00 → 2026-11-24 11:00 ~pagi"),
    ("besok jam 10 sampai 2", "2026-11-24 10:00 → 2026-11-24 14:00 ~pagi"),
    ("besok jam 7 - 9 malam", "2026-11-24 19:00 → 2026-11-24 21:00"),
    ("besok jam 7-9 malam", "2026-11-24 19:00 → 2026-11-24 21:00"),
    ("besok jam 19.00 - 21.00 WIB", "2026-11-24 19:00 → 2026-11-24 21:00"),
    ("besok 19.30–21.00", "2026-11-24 19:30 → 2026-11-24 21:00"),
    ("besok 19.30 — 21.00", "2026-11-24 19:30 → 2026-11-24 21:00"),
    ("besok jam 8 pagi sampai jam 4 sore", "2026-11-24 08:00 → 2026-11-24 16:00"),
    ("besok jam 08.00 WIB - selesai", "2026-11-24 08:00"),
    ("besok pukul 08.00 sampai selesai", "2026-11-24 08:00"),
    ("besok jam 9 sampai selesai", "2026-11-24 09:00 ~pagi"),
    ("besok jam setengah 9 pagi", "2026-11-24 08:30"),
    ("besok setengah 8 malam", "2026-11-24 19:30"),
    ("besok jam setengah 10", "2026-11-24 09:30 ~pagi"),
    ("besok jam 9 lewat 15", "2026-11-24 09:15 ~pagi"),
    ("besok jam 9 lewat 15 menit", "2026-11-24 09:15 ~pagi"),
    ("besok jam 9 lebih 10 menit", "2026-11-24 09:10 ~pagi"),
    ("besok jam 8 lewat seperempat", "2026-11-24 08:15 ~pagi"),
    ("besok jam 9 kurang seperempat", "2026-11-24 08:45 ~pagi"),
    ("besok jam 9 kurang 10 menit", "2026-11-24 08:50 ~pagi"),
    ("besok jam 9.30", "2026-11-24 09:30"),
    ("besok jam 9:30", "2026-11-24 09:30"),
    ("besok jam 9.30 malam", "2026-11-24 21:30"),
    ("besok jam 09.00 tepat", "2026-11-24 09:00"),
    ("besok jam 9 teng", "2026-11-24 09:00 ~pagi"),
    ("besok jam 9an", "2026-11-24 09:00 ~pagi"),
    ("besok jam sembilan pagi", "2026-11-24 09:00"),
    ("besok jam tujuh malam", "2026-11-24 19:00"),
    ("besok jam dua belas siang", "2026-11-24 12:00"),
    ("lusa jam 7 malam", "2026-11-25 19:00"),
    ("lusa pukul 10.00", "2026-11-25 10:00"),
    ("lusa jam 10 pagi", "2026-11-25 10:00"),
    ("tulat jam 10 pagi", "2026-11-26 10:00"),
    ("hari ini jam 19.00", "2026-11-23 19:00"),
    ("hari ini jam 8 malam", "2026-11-23 20:00"),
    ("hari ini jam 9 pagi", "! past"),
    ("nanti jam 3 sore", "2026-11-23 15:00"),
    ("nanti sore jam 4", "2026-11-23 16:00"),
    ("nanti siang jam 1", "2026-11-23 13:00"),
    ("malam ini jam 8", "2026-11-23 20:00"),
    ("nanti malam pukul 20.00 WIB", "2026-11-23 20:00"),
    ("nanti jam 19.30", "2026-11-23 19:30"),
    ("jam 8 malam", "2026-11-23 20:00"),
    ("pukul 20.00", "2026-11-23 20:00"),
    ("jam 9 pagi", "2026-11-24 09:00"),
    ("3 hari lagi jam 10 pagi", "2026-11-26 10:00"),
    ("2 minggu lagi jam 9 pagi", "2026-12-07 09:00"),
    ("dalam 2 hari jam 10", "2026-11-25 10:00 ~pagi"),
    ("Senin 14:00", "2026-11-23 14:00"),
    ("Selasa jam 10 pagi", "2026-11-24 10:00"),
    ("Rabu 14:00", "2026-11-25 14:00"),
    ("Kamis malam jam 7", "2026-11-26 19:00"),
    ("Jumat jam 2 siang", "2026-11-27 14:00"),
    ("Jum'at jam 14.00", "2026-11-27 14:00"),
    ("Sabtu jam 9 pagi", "2026-11-28 09:00"),
    ("Minggu jam 8 pagi", "2026-11-29 08:00"),
    ("Ahad pagi jam 7", "2026-11-29 07:00"),
    ("hari Sabtu jam 9 pagi", "2026-11-28 09:00"),
    ("Senin ini jam 14.00", "2026-11-23 14:00"),
    ("Selasa ini jam 9 pagi", "2026-11-24 09:00"),
    ("Rabu ini pukul 13.00", "2026-11-25 13:00"),
    ("Sabtu ini jam 8 malam", "2026-11-28 20:00"),
    ("Minggu ini jam 7 pagi", "2026-11-29 07:00"),
    ("Senin depan jam 9", "2026-11-30 09:00 ~pagi"),
    ("Selasa depan jam 10 pagi", "2026-12-01 10:00"),
    ("Jumat depan jam 8 malam", "2026-12-04 20:00"),
    ("Sabtu depan pukul 09.00 WIB", "2026-12-05 09:00"),
    ("Minggu depan jam 8", "2026-12-06 08:00 ~pagi"),
    ("Sabtu minggu depan jam 9 pagi", "2026-12-05 09:00"),
    ("Sabtu pekan depan jam 9 pagi", "2026-12-05 09:00"),
    ("Jumat pekan depan pukul 14.00", "2026-12-04 14:00"),
    ("Rabu minggu depan jam 7 malam", "2026-12-02 19:00"),
    ("Minggu pekan depan jam 6 pagi", "2026-12-06 06:00"),
    ("Sabtu berikutnya jam 9", "2026-12-05 09:00 ~pagi"),
    ("tgl 5 jam 9 pagi", "2026-12-05 09:00"),
    ("tgl 5 Desember jam 9 pagi", "2026-12-05 09:00"),
    ("tgl. 5 Desember 2026 pukul 09.00", "2026-12-05 09:00"),
    ("tanggal 5 Desember pukul 09.00 WIB", "2026-12-05 09:00"),
    ("Tanggal 12 Desember 2026 jam 8 pagi", "2026-12-12 08:00"),
    ("5 Desember jam 9", "2026-12-05 09:00 ~pagi"),
    ("5 Des 2026 jam 09.00", "2026-12-05 09:00"),
    ("5 Des. 2026 pkl 09.00", "2026-12-05 09:00"),
    ("Sabtu, 5 Desember 2026 pukul 09.00 WIB", "2026-12-05 09:00"),
    ("Sabtu (5/12) jam 9 pagi", "2026-12-05 09:00"),
    ("Sabtu, 5/12/2026 pkl. 09.00 WIB s.d. selesai", "2026-12-05 09:00"),
    ("5/12/2026 09:00", "2026-12-05 09:00"),
    ("05/12/2026 jam 09.00", "2026-12-05 09:00"),
    ("5-12-2026 jam 9 pagi", "2026-12-05 09:00"),
    ("05.12.2026 pukul 09.00", "2026-12-05 09:00"),
    ("2026-12-05 09:00", "2026-12-05 09:00"),
    ("2026-12-05 09:00 WITA", "2026-12-05 09:00 WITA"),
    ("23/11/2026 15:00", "2026-11-23 15:00"),
    ("24/11/26 19.00", "2026-11-24 19:00"),
    ("10 Januari jam 9 pagi", "2027-01-10 09:00"),
    ("10 Januari 2027 jam 9 pagi", "2027-01-10 09:00"),
    ("17 Agustus jam 07.00", "2027-08-17 07:00"),
    ("17 Agt 2027 pukul 07.00", "2027-08-17 07:00"),
    ("1 Des jam 10", "2026-12-01 10:00 ~pagi"),
    ("tgl 1 bulan depan jam 10", "2026-12-01 10:00 ~pagi"),
    ("tgl 28 bulan ini jam 10", "2026-11-28 10:00 ~pagi"),
    ("Desember 5 9am", "2026-12-05 09:00"),
    ("Jumat, 27 Nov 19:30", "2026-11-27 19:30"),
    ("Jumat, 27 November 2026 pukul 19.30 s.d. 21.30 WIB", "2026-11-27 19:30 → 2026-11-27 21:30"),
    ("Kamis, 26 November 2026, 13.00 - 15.00 WITA", "2026-11-26 13:00 → 2026-11-26 15:00 WITA"),
    ("Rabu, 25 Nov 2026 pkl 10.00 WIT", "2026-11-25 10:00 WIT"),
    ("5 Desember jam 9 sampai 6 Desember jam 12", "2026-12-05 09:00 → 2026-12-06 12:00 ~pagi"),
    ("besok jam 10 pagi sampai lusa jam 12 siang", "2026-11-24 10:00 → 2026-11-25 12:00"),
    ("besok jam 19.00 WITA", "2026-11-24 19:00 WITA"),
    ("besok jam 19.00 WIT", "2026-11-24 19:00 WIT"),
    ("besok 19.00 wib", "2026-11-24 19:00"),
    ("besok 19.00WIB", "2026-11-24 19:00"),
    ("Pukul: 09.00 WIB, besok", "2026-11-24 09:00"),
    ("tomorrow 7pm", "2026-11-24 19:00"),
    ("tomorrow 9am", "2026-11-24 09:00"),
    ("tomorrow at 10:00", "2026-11-24 10:00"),
    ("today 8pm", "2026-11-23 20:00"),
    ("tonight 8pm", "2026-11-23 20:00"),
    ("Wednesday 14:00 WIT", "2026-11-25 14:00 WIT"),
    ("next saturday 9am", "2026-12-05 09:00"),
    ("Saturday 10am", "2026-11-28 10:00"),
    ("December 5 10:00", "2026-12-05 10:00"),
    ("5 December 2026 10:00", "2026-12-05 10:00"),
    ("in 3 days 10:00", "2026-11-26 10:00"),
    ("kemarin jam 10.00", "! past"),
    ("23/11/2026 09:00", "! past"),
    ("20 November jam 9", "! past"),
    ("1/1/2020 10:00", "! past"),
    ("hari ini jam 8 pagi", "! past"),
    ("jam 9 pagi hari ini", "! past"),
    ("entah kapan 10:00", "! unreadable"),
    ("besok 19.00 - 18.00", "! end_before_start"),
    ("WIB", "! unreadable"),
    ("besok", "! no_time"),
    ("besok pagi", "! no_time"),
    ("Sabtu depan", "! no_time"),
    ("tgl 5 Desember", "! no_time"),
    ("pekan depan jam 8", "! no_day"),
    ("minggu depan", "! no_time"),
    ("bulan depan jam 10", "! no_day"),
    ("Desember jam 10", "! no_day"),
    ("besok jam 25", "! bad_time"),
    ("besok jam 24.30", "! bad_time"),
    ("besok 10.75", "! bad_time"),
    ("besok jam 9.5", "! bad_time"),
    ("besok jam 13 pagi", "! part_conflict"),
    ("besok jam 19.00 pagi", "! part_conflict"),
    ("besok jam 9 siang", "! part_conflict"),
    ("besok jam 5 malam", "! part_conflict"),
    ("besok jam 11 sore", "! part_conflict"),
    ("31 Februari jam 9", "! bad_date"),
    ("30/02/2027 10:00", "! bad_date"),
    ("tgl 32 jam 9", "! bad_date"),
    ("31 November jam 10", "! bad_date"),
    ("5/13/2026 10:00", "! bad_date"),
    ("Jumat 5 Desember 2026 jam 9", "! weekday_mismatch"),
    ("Senin, 24 November 2026 jam 9", "! weekday_mismatch"),
    ("lusa Kamis jam 9", "! weekday_mismatch"),
    ("besok 19.00 WIB sampai 21.00 WITA", "! zone_conflict"),
    ("besok jam 10 sampai 9", "2026-11-24 10:00 → 2026-11-24 21:00 ~pagi"),
    ("besok jam 9 malam sampai jam 8 malam", "! end_before_start"),
    ("1 Januari 2030 jam 10", "! too_far"),
    ("besok jam setengah", "! unreadable"),
    ("besok jam", "! no_time"),
    ("kapan-kapan jam 9", "! unreadable"),
    ("besok jam 9 malam sampai", "! unreadable"),
]


def _reading(typed: str) -> str:
    try:
        parsed = parse_when(typed, "Asia/Jakarta", NOW)
    except DateError as exc:
        return f"! {exc.reason}"
    text = f"{parsed.start:%Y-%m-%d %H:%M}"
    if parsed.end is not None:
        text += f" → {parsed.end:%Y-%m-%d %H:%M}"
    if parsed.zone != "Asia/Jakarta":
        text += f" {zone_abbreviation(parsed.zone)}"
    if parsed.assumed:
        text += f" ~{parsed.assumed}"
    return text


def test_the_table_is_large_and_has_no_duplicates() -> None:
    typed = [p for p, _ in PHRASES]
    assert len(typed) >= 150
    assert len(set(typed)) == len(typed)
    assert sum(e.startswith("!") for _, e in PHRASES) >= 30


@pytest.mark.parametrize(("typed", "expected"), PHRASES)
def test_phrase(typed: str, expected: str) -> None:
    assert _reading(typed) == expected


def test_readings_are_aware_in_the_zone_read() -> None:
    parsed = parse_when("Kamis, 26 November 2026, 13.00 - 15.00 WITA", "Asia/Jakarta", NOW)
    assert str(parsed.start.tzinfo) == "Asia/Makassar"
    assert parsed.start.astimezone(UTC) == datetime(2026, 11, 26, 5, 0, tzinfo=UTC)


def test_sabtu_ini_on_a_sunday_is_the_coming_saturday() -> None:
    sunday = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
    parsed = parse_when("Sabtu ini jam 9 pagi", "Asia/Jakarta", sunday)
    assert f"{parsed.start:%Y-%m-%d %H:%M}" == "2026-12-05 09:00"


def test_refusals_name_what_was_wrong() -> None:
    with pytest.raises(DateError) as caught:
        parse_when("besok 25.00", "Asia/Jakarta", NOW)
    assert caught.value.details == {"time": "25.00"}
    with pytest.raises(DateError) as caught:
        parse_when("Jumat 5 Desember 2026 jam 9", "Asia/Jakarta", NOW)
    assert caught.value.details == {
        "date": "5 Desember 2026",
        "weekday": "Sabtu",
        "said": "Jumat",
    }


@pytest.mark.parametrize(
    ("typed", "zone", "start_utc", "end_utc", "read_zone"),
    [
        ("besok jam 19.00", "Asia/Jakarta", "2026-11-24 12:00", None, "Asia/Jakarta"),
        ("Besok pukul 19:00", "Asia/Makassar", "2026-11-24 11:00", None, "Asia/Makassar"),
        ("Rabu 14:00", "Asia/Jayapura", "2026-11-25 05:00", None, "Asia/Jayapura"),
        ("23/11/2026 15:00", "Asia/Jayapura", "2026-11-23 06:00", None, "Asia/Jayapura"),
        ("2026-11-23 15:00 WITA", "Asia/Jakarta", "2026-11-23 07:00", None, "Asia/Makassar"),
        ("2026-11-23 19:00 WIB", "Asia/Jayapura", "2026-11-23 12:00", None, "Asia/Jakarta"),
        ("lusa jam 7 malam", "Asia/Jakarta", "2026-11-25 12:00", None, "Asia/Jakarta"),
        (
            "besok 19.00 - 21.00",
            "Asia/Jakarta",
            "2026-11-24 12:00",
            "2026-11-24 14:00",
            "Asia/Jakarta",
        ),
        (
            "24 November 2026 jam 08.30 sampai 12.00",
            "Asia/Jakarta",
            "2026-11-24 01:30",
            "2026-11-24 05:00",
            "Asia/Jakarta",
        ),
        ("tomorrow 7pm", "Asia/Jakarta", "2026-11-24 12:00", None, "Asia/Jakarta"),
        ("Wednesday 14:00 WIT", "Asia/Jakarta", "2026-11-25 05:00", None, "Asia/Jayapura"),
        ("Jumat, 27 Nov 19:30", "Asia/Jakarta", "2026-11-27 12:30", None, "Asia/Jakarta"),
    ],
)
def test_parse_when(
    typed: str, zone: str, start_utc: str, end_utc: str | None, read_zone: str
) -> None:
    parsed = parse_when(typed, zone, NOW)
    assert parsed.start.astimezone(UTC).strftime("%Y-%m-%d %H:%M") == start_utc
    if end_utc is None:
        assert parsed.end is None
    else:
        assert parsed.end is not None
        assert parsed.end.astimezone(UTC).strftime("%Y-%m-%d %H:%M") == end_utc
    assert parsed.zone == read_zone
    assert str(parsed.start.tzinfo) == read_zone


def test_weekday_already_past_today_means_next_week() -> None:
    monday_afternoon = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday 16:00 WIB
    parsed = parse_when("Senin 14:00", "Asia/Jakarta", monday_afternoon)
    assert parsed.start.astimezone(UTC) == datetime(2026, 11, 30, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("kemarin jam 10.00", "past"),
        ("23/11/2026 09:00", "past"),
        ("besok", "no_time"),
        ("entah kapan 10:00", "unreadable"),
        ("besok 19.00 - 18.00", "end_before_start"),
        ("WIB", "unreadable"),
    ],
)
def test_refused(typed: str, reason: str) -> None:
    with pytest.raises(DateError) as caught:
        parse_when(typed, "Asia/Jakarta", NOW)
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("typed", "day"),
    [("31 Desember 2026", "2026-12-31"), ("Sabtu depan", "2026-12-05"), ("tgl 15", "2026-12-15")],
)
def test_parse_day_reads_days_as_people_write_them(typed: str, day: str) -> None:
    assert f"{parse_day(typed, 'Asia/Jakarta', NOW):%Y-%m-%d %H:%M}" == f"{day} 23:59"


def test_parse_day_is_end_of_that_day_in_zone() -> None:
    day = parse_day("31/12/2026", "Asia/Makassar", NOW)
    assert day.astimezone(UTC) == datetime(2026, 12, 31, 15, 59, tzinfo=UTC)
    with pytest.raises(DateError):
        parse_day("1/1/2020", "Asia/Makassar", NOW)
