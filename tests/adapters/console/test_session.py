"""Console directives (issue #16): :help, URL buttons, :as, :restart and :config."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest

from adapters.console import ConsoleSession, ScriptError
from adapters.console._session import with_setting
from core import App, SettingsError, load_settings
from tests.hello_plugin import guyub


async def test_help_lists_every_directive(app: App) -> None:
    out = io.StringIO()
    session = ConsoleSession(app, out)
    await session.handle(":help")
    for directive in (":as", ":press", ":clock", ":expect", ":restart", ":config", ":help"):
        assert directive in out.getvalue()


async def test_a_link_into_the_bot_continues_in_the_private_chat(app: App) -> None:
    out = io.StringIO()
    session = ConsoleSession(app, out)
    for line in (":as siti", ":in group Aceh", ":join"):
        await session.handle(line)
    assert "[📝 Daftar sekarang ↗ https://console.invalid/bot?start=onboard]" in out.getvalue()
    await session.handle(":press Daftar sekarang")  # no AssertionError any more
    transcript = out.getvalue()
    assert "[dm siti] siti: /start onboard" in transcript
    assert "Persetujuan data" in transcript
    assert session.where == session.user.dm


async def test_a_link_elsewhere_is_only_shown(app: App) -> None:
    out = io.StringIO()
    session = ConsoleSession(app, out)
    await session._follow("Situs Prakerja", "https://www.prakerja.go.id/")
    assert "a link outside the bot" in out.getvalue()
    assert not session.where.is_dm


async def test_as_goes_back_to_the_users_last_chat(app: App) -> None:
    out = io.StringIO()
    session = ConsoleSession(app, out)
    for line in (":as amir", ":in group Aceh", "halo semua", ":as siti", ":in dm", "/help"):
        await session.handle(line)
    await session.handle(":as amir")
    assert session.where.title == "Aceh"
    await session.handle(":as siti")
    assert session.where == session.user.dm
    await session.handle(":as budi")  # someone new, coming from siti's DM: their own DM
    assert session.where == session.user.dm


async def test_restart_needs_a_runner(app: App) -> None:
    session = ConsoleSession(app, io.StringIO())
    with pytest.raises(ScriptError, match="cannot restart"):
        await session.handle(":restart")


def test_with_setting_validates_core_sections_and_passes_plugin_tables() -> None:
    settings = load_settings()
    changed = with_setting(settings, "limits.commands_per_minute", "0")
    assert changed.limits.commands_per_minute == 0
    assert settings.limits.commands_per_minute != 0  # the original is untouched
    assert (
        with_setting(settings, "captains.auto_mute_minutes", "30").section("captains")[
            "auto_mute_minutes"
        ]
        == 30
    )
    for key, value in (
        ("limits.nothing", "1"),
        ("limits.commands_per_minute", "banyak"),
        ("nodot", "1"),
        ("database.url", '"sqlite://:memory:"'),
    ):
        if key == "database.url":
            assert with_setting(settings, key, value).database.url == "sqlite://:memory:"
            continue
        with pytest.raises(SettingsError):
            with_setting(settings, key, value)


SCRIPT = """\
:clock 2026-11-23T10:00:00+07:00
:as siti
:in dm
/start onboard
:press Setuju
Siti Rahmah
aceh utara
:press Ya, benar
gelombang 12
Pemasaran Digital
:press Bahasa Indonesia
:expect Pendaftaran selesai
:restart
/profil
:expect Siti Rahmah
:config limits.commands_per_minute 1
:clock +2m
/profil
:expect Siti Rahmah
/profil
:expect batas 1 perintah per menit
:config captains.auto_mute_minutes "lama"
"""


@pytest.mark.slow
def test_restart_and_config_keep_the_data_and_the_environment_database_is_used(
    tmp_path: Path,
) -> None:
    script = tmp_path / "restart.txt"
    script.write_text(SCRIPT)
    database = tmp_path / "from-env.sqlite3"
    result = guyub(
        ["chat", "--script", str(script)],
        env={"GUYUB_DATABASE__URL": f"sqlite://{database}", "GUYUB_TEST_POSTGRES_URL": ""},
    )
    out = result.stdout
    # The last line is a refused setting: a malformed line (2), the app still running.
    assert result.returncode == 2, out + result.stderr
    assert "* the app is running again" in out
    assert "setting refused; the app runs on the previous settings" in out
    assert "script database: sqlite://" in result.stderr
    with sqlite3.connect(database) as db:
        names = [row[0] for row in db.execute("SELECT display_name FROM core_member")]
    assert "Siti Rahmah" in names
