"""``guyub chat --script``: transcripts, exit codes 0 / 1 / 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hello_plugin import guyub

TOUR = """\
# join a group, ask for help, run a plugin command, press a button, fire a scheduled job
:clock 2026-11-23T10:00:00+07:00
:as amir
:in group Aceh
:join
/help
:expect /halo \\(/hello\\)
/halo
:expect Halo, amir
:press Balas lambaian
:expect amir melambai balik
/hello_later 2h
:expect 120 menit
:clock +1h
:expect-not Halo lagi
:clock +1h
:expect Halo lagi, amir! Ini sapaan terjadwal
:as siti
:in dm
/start
:expect Selamat datang|Halo siti
"""


@pytest.mark.slow
def test_a_tour_with_a_plugin_command_a_button_and_a_scheduled_job(
    tmp_path: Path, hello_path: Path
) -> None:
    script = tmp_path / "tour.txt"
    script.write_text(TOUR)
    result = guyub(["chat", "--script", str(script)], path=hello_path)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "[Aceh] amir: /halo" in out
    assert "[Aceh] bot: Halo, amir! 👋" in out
    assert "  [👋 Balas lambaian]" in out
    assert "[Aceh] bot: Halo lagi, amir! Ini sapaan terjadwal Anda." in out
    assert "[dm siti] siti: /start" in out
    assert "* clock → 2026-11-23 12:00 WIB" in out
    assert "[dm siti] bot:" in out


@pytest.mark.slow
def test_a_failed_expectation_exits_1_showing_what_the_bot_said(tmp_path: Path) -> None:
    script = tmp_path / "fail.txt"
    script.write_text(":as amir\n:in dm\n/help\n:expect Selamat ulang tahun\n/help\n")
    result = guyub(["chat", "--script", str(script)])
    assert result.returncode == 1, result.stdout + result.stderr
    assert "line 4: :expect Selamat ulang tahun" in result.stdout
    assert "expected /Selamat ulang tahun/" in result.stdout
    assert "Perintah Guyub" in result.stdout.split("!! FAILED", 1)[1]
    assert result.stdout.count("[dm amir] amir: /help") == 1  # stopped at the failure


@pytest.mark.slow
@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (":fly away", "unknown directive :fly"),
        (":clock tomorrow", "bad time"),
        (":vote one", ":vote needs option numbers"),
        (":in space", ":in needs"),
        (":expect (unclosed", "bad regular expression"),
    ],
)
def test_a_malformed_line_exits_2_with_its_number(tmp_path: Path, line: str, problem: str) -> None:
    script = tmp_path / "bad.txt"
    script.write_text(f"# header\n:as amir\n{line}\n")
    result = guyub(["chat", "--script", str(script)])
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"line 3: malformed: {problem}" in result.stdout


@pytest.mark.slow
def test_demo_plays_the_built_in_scenario() -> None:
    result = guyub(["demo"])
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "[Alumni Aceh] bot: 👋 Selamat datang, siti" in out
    assert "Kapten: cut" in out
    assert "Pengingat: Temu alumni Aceh Utara dimulai 1 hari lagi" in out
    assert "[dm siti] bot: 📣 Pengumuman untuk Kabupaten Aceh Utara" in out
    assert "• Bahan pangan: 100% (2)" in out
    assert "<image: Grafik polling #1>" in out


@pytest.mark.slow
def test_start_pins_the_clock_and_expect_file_reads_attachments(tmp_path: Path) -> None:
    script = tmp_path / "files.txt"
    script.write_text(
        ':as amir\n:in dm\n/dataku\n:expect-file *.json "display_name": "amir"\n'
        ":clock +1h\n/dataku\n:expect-file *.json Selamat ulang tahun\n"
    )
    result = guyub(["chat", "--script", str(script), "--start", "2030-01-07T09:00+07:00"])
    assert result.returncode == 1, result.stdout + result.stderr
    assert "* clock → 2030-01-07 10:00 WIB" in result.stdout
    assert "line 7: :expect-file *.json Selamat ulang tahun" in result.stdout
    bad = guyub(["chat", "--script", str(script), "--start", "2030-01-07 09:00"])
    assert bad.returncode == 2
    assert "--start needs an offset" in bad.stderr
