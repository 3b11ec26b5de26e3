"""Security: the console never shows a member's control characters raw, and a script that
isn't UTF-8 is a malformed script (exit 2), not a traceback (issue #15)."""

from __future__ import annotations

import io
from pathlib import Path

from typer.testing import CliRunner

from adapters.console import ConsoleSession
from core import App
from core.cli import cli


def test_undecodable_script_exits_2_without_a_traceback(tmp_path: Path) -> None:
    script = tmp_path / "bad.txt"
    script.write_bytes(b"/help\n\xff\xfe halo\n")
    result = CliRunner().invoke(cli, ["chat", "--script", str(script)])
    assert result.exit_code == 2
    assert "not UTF-8" in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


async def test_control_characters_are_shown_not_sent_to_the_terminal(app: App) -> None:
    out = io.StringIO()
    session = ConsoleSession(app, out)
    result = await session.run_script(
        [":as evil\x1b]0;owned\x07", "/region \x1b[2J\x1b[31mmerah\x07\x00 \u202e\ud800"]
    )
    assert result.code == 0
    text = out.getvalue()
    for raw in ("\x1b", "\x07", "\x00", "\u202e", "\ud800"):
        assert raw not in text
    assert "␛" in text
    text.encode("utf-8")  # printable whatever was typed
