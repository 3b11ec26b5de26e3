"""``guyub export poll`` through the real command line (a subprocess on a file database)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_guyub_export_poll_is_on_the_command_line(tmp_path: Path) -> None:
    env = {**os.environ, "GUYUB_DATABASE__URL": f"sqlite://{tmp_path}/guyub.sqlite3"}
    env.pop("GUYUB_CONFIG", None)
    shown = subprocess.run(
        [sys.executable, "-m", "core", "export", "poll", "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert shown.returncode == 0, shown.stderr
    assert "--format" in shown.stdout
    assert "--by" in shown.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "core", "export", "poll", "42"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert missing.returncode == 1
    assert "no poll #42" in missing.stdout
