"""Every scenario script in tests/e2e/*.txt runs through ``guyub chat --script`` (a real
subprocess on a throw-away database) and must run through (exit 0).

The runs log in JSON at INFO (``[logging] format = "json"``): every line parses, every
update has one line with its correlation id, and no line holds a member's platform id,
name or anything they typed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.hello_plugin import guyub

HERE = Path(__file__).parent
SCRIPTS = sorted(HERE.glob("*.txt"))


def private_strings(lines: list[str]) -> set[str]:
    """Who acts in a script (their console user id is their name) and what they type."""
    found: set[str] = set()
    for line in lines:
        line = line.strip()
        if line.startswith((":as ", ":admin ")):
            found.add(line.split(None, 1)[1].strip())
        elif line and not line.startswith((":", "#", "/")):
            found.add(line)
        elif line.startswith("/") and line.count(" ") >= 2:
            # Free-text arguments; a one-word argument may be a fixed keyword (/start onboard).
            found.add(line.split(" ", 1)[1].strip())
    # Short strings (a one-word answer such as "ya") also occur in ordinary log words.
    return {s for s in found if len(s) >= 6}


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_scenario_script_runs_through(script: Path) -> None:
    result = guyub(
        ["chat", "--script", str(script), "--log-level", "INFO"],
        env={"GUYUB_LOGGING__FORMAT": "json"},
    )
    assert result.returncode == 0, f"{script.name} failed:\n{result.stdout}\n{result.stderr}"
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    handled = [line for line in lines if line["msg"] == "update handled"]
    assert handled, result.stderr
    assert all(len(line["cid"]) == 16 and line["member"].startswith("m") for line in handled)
    assert len({line["cid"] for line in handled}) == len(handled)
    for private in private_strings(script.read_text(encoding="utf-8").splitlines()):
        assert private not in result.stderr, f"{private!r} in the logs of {script.name}"
