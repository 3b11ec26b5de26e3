"""Every scenario script in tests/e2e/*.txt runs through ``guyub chat --script`` (a real
subprocess on a throw-away database) and must run through (exit 0)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hello_plugin import guyub

HERE = Path(__file__).parent
SCRIPTS = sorted(HERE.glob("*.txt"))


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_scenario_script_runs_through(script: Path) -> None:
    result = guyub(["chat", "--script", str(script)])
    assert result.returncode == 0, f"{script.name} failed:\n{result.stdout}\n{result.stderr}"
