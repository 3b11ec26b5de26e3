"""Dates as people type them, read in a zone, relative to a fixed now."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from plugins.events._dates import DateError, parse_day, parse_when

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # Monday 10:00 WIB


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


def test_parse_day_is_end_of_that_day_in_zone() -> None:
    day = parse_day("31/12/2026", "Asia/Makassar", NOW)
    assert day.astimezone(UTC) == datetime(2026, 12, 31, 15, 59, tzinfo=UTC)
    with pytest.raises(DateError):
        parse_day("1/1/2020", "Asia/Makassar", NOW)
