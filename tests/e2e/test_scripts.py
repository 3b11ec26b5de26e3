"""Every scenario script in tests/e2e/*.txt runs through ``guyub chat --script`` (a real
subprocess on a throw-away database) and must run through (exit 0)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
SCRIPTS = sorted(HERE.glob("*.txt"))
GUYUB = [sys.executable, "-m", "core"]


def script_env(path: Path) -> dict[str, str]:
    """``# env: NAME=VALUE`` lines at the top of a script set the bot's environment (scripts
    can't set config otherwise, e.g. ``GUYUB_ADMINS`` to bootstrap an admin)."""
    env: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        if line.startswith("# env:"):
            name, _, value = line[len("# env:") :].strip().partition("=")
            env[name.strip()] = value.strip()
    return env


def run_script(path: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **script_env(path), **(env or {})}
    base = environment.get("GUYUB_TEST_POSTGRES_URL")
    args = [*GUYUB, "chat", "--script", str(path)]
    if base:
        from core._db import throwaway_url

        args += ["--database", throwaway_url(base)]
    return subprocess.run(
        args, capture_output=True, text=True, env=environment, timeout=300, check=False
    )


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_scenario_script_runs_through(script: Path) -> None:
    result = run_script(script)
    assert result.returncode == 0, f"{script.name} failed:\n{result.stdout}\n{result.stderr}"
