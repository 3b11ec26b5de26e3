"""``guyub run`` with no token: the console chat on a SQLite file, migrated at start, typed
at a prompt, and ending cleanly at the end of input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _run(cwd: Path, stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUYUB_")}
    env["GUYUB_WEB__LISTEN"] = "127.0.0.1:0"  # `guyub run` serves the dashboard on a free port
    return subprocess.run(
        [sys.executable, "-m", "core", *args],
        input=stdin,
        text=True,
        capture_output=True,
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_run_without_token_is_a_console_chat_that_keeps_its_data(tmp_path: Path) -> None:
    migrated = _run(tmp_path, "", "db", "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "applied core.0001_initial" in migrated.stdout

    first = _run(tmp_path, "/bahasa en\n/help\n", "run")
    assert first.returncode == 0, first.stderr
    assert "Guyub console" in first.stdout
    assert "Language changed to English" in first.stdout
    assert "Guyub commands" in first.stdout
    assert (tmp_path / "data" / "guyub.sqlite3").is_file()

    again = _run(tmp_path, "/help\n", "run")  # the language choice was kept
    assert "Guyub commands" in again.stdout
    assert "Traceback" not in again.stdout + again.stderr


@pytest.mark.slow
def test_every_cli_command_has_help(tmp_path: Path) -> None:
    for args in (
        ["--help"],
        ["run", "--help"],
        ["chat", "--help"],
        ["demo", "--help"],
        ["db", "migrate", "--help"],
        ["plugins", "--help"],
        ["admins", "add", "--help"],
    ):
        result = _run(tmp_path, "", *args)
        assert result.returncode == 0, (args, result.stderr)
        assert "Usage" in result.stdout


@pytest.mark.slow
def test_admins_add_bootstraps_an_admin(tmp_path: Path) -> None:
    added = _run(tmp_path, "", "admins", "add", "telegram:12345")
    assert added.returncode == 0, added.stderr
    assert "telegram:12345 is now an admin" in added.stdout
    listed = _run(tmp_path, "", "admins", "list")
    assert "telegram:12345" in listed.stdout
    bad = _run(tmp_path, "", "admins", "add", "12345")
    assert bad.returncode == 2
    assert "PLATFORM:USER_ID" in bad.stdout + bad.stderr
