"""The CLI: heavy libraries only a few commands need are loaded when first used (each check
runs in a new interpreter: this test process has long imported everything), and a scenario
script that can't be read is one line on stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from core import PluginError
from core.cli import _configured, _run, cli

ROOT = Path(__file__).resolve().parents[2]

#: Loaded on first use only: dates typed in words, calendar files, charts, asyncpg (SQLite).
LAZY = ("dateparser", "icalendar", "matplotlib", "asyncpg")


def _loaded(code: str, tmp_path: Path) -> set[str]:
    """The LAZY libraries present in ``sys.modules`` after running ``code`` in a new process."""
    probe = f"{code}\nimport sys\nprint('loaded:', *(m for m in {LAZY!r} if m in sys.modules))\n"
    env = {
        **os.environ,
        "GUYUB_DATABASE__URL": f"sqlite://{tmp_path}/guyub.sqlite3",
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=True,
        timeout=120,
    )
    last = done.stdout.splitlines()[-1].split()
    assert last[0] == "loaded:", done.stdout
    return set(last[1:])


def test_importing_the_cli_and_core_loads_no_heavy_library(tmp_path: Path) -> None:
    assert _loaded("import core, core.cli, core.web", tmp_path) == set()


def test_help_loads_every_plugin_but_no_heavy_library(tmp_path: Path) -> None:
    code = (
        "import sys\nfrom core import cli\nsys.argv = ['guyub', '--help']\n"
        "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
        "assert 'plugins.events' in sys.modules and 'plugins.polls' in sys.modules"
    )
    assert _loaded(code, tmp_path) == set()


@pytest.mark.slow
def test_an_app_with_every_plugin_starts_without_heavy_libraries(tmp_path: Path) -> None:
    code = (
        "import asyncio\nfrom core import App, load_settings\n"
        "async def main():\n"
        "    async with App(load_settings(None)) as app:\n"
        "        names = ' '.join(app.plugins.names())\n"
        "        assert all(p in names for p in ('events', 'polls', 'captains', 'regions'))\n"
        "asyncio.run(main())"
    )
    assert _loaded(code, tmp_path) == set()


@pytest.mark.slow
def test_a_date_in_words_still_loads_dateparser_when_needed(tmp_path: Path) -> None:
    code = (
        "from datetime import UTC, datetime\nfrom plugins.events._dates import parse_when\n"
        "now = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)\n"
        "when = parse_when('in 3 days 10:00', 'Asia/Jakarta', now)\n"
        "assert when.start.strftime('%Y-%m-%d %H:%M') == '2026-11-26 10:00', when"
    )
    assert _loaded(code, tmp_path) == {"dateparser"}


@pytest.mark.parametrize("name", ["missing.txt", "folder"])
def test_a_script_that_cannot_be_read_exits_2_with_one_line(tmp_path: Path, name: str) -> None:
    """Exit 2 is also a malformed line's (docs/plugins.md, "A console scenario"): the
    message says which, in one line, before any database is made for the script."""
    (tmp_path / "folder").mkdir()
    script = tmp_path / name
    result = CliRunner().invoke(cli, ["chat", "--script", str(script)])
    assert result.exit_code == 2
    assert result.stdout == ""
    reason = "no such file or directory" if name == "missing.txt" else "is a directory"
    assert result.stderr == f"cannot read script {script}: {reason}\n"


def test_a_plugin_that_cannot_start_is_its_message_and_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``guyub run`` and ``guyub chat`` print why (a plugin's models without a migration),
    not a traceback."""

    async def start() -> None:
        raise PluginError("plugin 'mentoring': run `guyub db makemigrations`")

    with pytest.raises(typer.Exit) as exited:
        _run(_configured(start()))
    assert exited.value.exit_code == 2
    assert capsys.readouterr().err == (
        "plugin error: plugin 'mentoring': run `guyub db makemigrations`\n"
    )
