"""docs/operations.md is kept true: every ``guyub`` command in its code blocks exists, every
``docker compose`` line names the real file, services and profiles, and the backup and
restore commands are run exactly as written (SQLite here, PostgreSQL where it is set up)."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer.testing import CliRunner

from core import App, Member
from core._db import throwaway_url
from core.cli import cli
from core.testing import test_settings

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "operations.md"


def code_lines() -> list[str]:
    """Lines of the fenced ``sh`` blocks of the page."""
    blocks = re.findall(r"```sh\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def guyub_commands() -> list[list[str]]:
    found = []
    for line in code_lines():
        words = shlex.split(line)
        # Environment assignments first (VAR=value guyub run), then the program itself.
        while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):
            words = words[1:]
        if words and words[0] == "guyub":
            found.append(words[1:])
    return found


def test_every_guyub_command_in_the_page_exists():
    root = typer.main.get_command(cli)
    commands = guyub_commands()
    assert len(commands) >= 8
    for args in commands:
        # Typer ships its own click: walk groups by their ``commands`` table.
        command: Any = root
        path: list[str] = []
        for word in args:
            group = getattr(command, "commands", None)
            if group is None or word.startswith("-"):
                break
            assert word in group, f"guyub {' '.join([*path, word])}: no such command"
            command, path = group[word], [*path, word]
        assert path, f"guyub {' '.join(args)}"
        assert getattr(command, "commands", None) is None, f"guyub {' '.join(path)}: incomplete"
        options = {o for p in command.params for o in getattr(p, "opts", [])}
        for word in args[len(path) :]:
            if word.startswith("--"):
                assert word.split("=", 1)[0] in options, f"guyub {' '.join(path)} {word}"
        result = CliRunner().invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, result.output


def test_docker_compose_lines_name_the_real_file_services_and_profiles():
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text(encoding="utf-8"))
    services = set(compose["services"])
    profiles = {p for s in compose["services"].values() for p in s.get("profiles", [])}
    lines = [line for line in code_lines() if line.startswith("docker compose")]
    assert len(lines) >= 6
    for line in lines:
        words = shlex.split(line)
        assert words[2:4] == ["-f", "deploy/compose.yaml"], line
        assert (ROOT / words[3]).is_file()
        rest = words[4:]
        for i, word in enumerate(rest):
            if word == "--profile":
                assert rest[i + 1] in profiles, line
            if word == "--scale":
                assert rest[i + 1].split("=")[0] in services, line
        verb = next(w for w in rest if (not w.startswith("-") and w not in profiles) or w == "up")
        named = [
            w
            for w in rest[rest.index(verb) + 1 :]
            if not w.startswith("-") and "=" not in w and w not in profiles
        ]
        assert all(w in services for w in named), line


def _run(line: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", line], cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True
    )


async def _members(url: str) -> int:
    async with App(test_settings(database={"url": url}), discover_plugins=False, schema="none"):
        return await Member.all().count()


async def _seed(url: str, n: int, **kwargs: object) -> None:
    # Every installed plugin, as `guyub db migrate` sees them.
    async with App(test_settings(database={"url": url}), **kwargs):  # type: ignore[arg-type]
        for i in range(n):
            await Member.create(display_name=f"m{i}")


@pytest.mark.skipif(
    bool(os.environ.get("GUYUB_TEST_POSTGRES_URL")),
    reason="SQLite only; one test process never mixes SQLite and PostgreSQL (the SQLite pass runs it)",
)
def test_sqlite_backup_and_restore_as_documented(tmp_path: Path):
    live = tmp_path / "live" / "guyub.sqlite3"
    url = f"sqlite://{live}"
    asyncio.run(_seed(url, 5))
    line = next(line for line in code_lines() if line.startswith("guyub db backup"))
    target = shlex.split(line)[3]
    copy = tmp_path / Path(target).name
    result = CliRunner().invoke(cli, ["db", "backup", str(copy)], env={"GUYUB_DATABASE__URL": url})
    assert result.exit_code == 0, result.output
    assert "pages" in result.output
    # Restore: the copy put in place is a working database, migrated and complete.
    restored = tmp_path / "restored.sqlite3"
    restored.write_bytes(copy.read_bytes())
    migrate = CliRunner().invoke(
        cli, ["db", "migrate"], env={"GUYUB_DATABASE__URL": f"sqlite://{restored}"}
    )
    assert migrate.exit_code == 0, migrate.output
    assert "nothing to migrate" in migrate.output
    assert asyncio.run(_members(f"sqlite://{restored}")) == 5
    again = CliRunner().invoke(cli, ["db", "backup", str(copy)], env={"GUYUB_DATABASE__URL": url})
    assert again.exit_code == 2
    assert "not overwriting" in again.output


@pytest.mark.postgres
def test_pg_dump_and_pg_restore_as_documented(tmp_path: Path):
    base = os.environ["GUYUB_TEST_POSTGRES_URL"]
    source, target = throwaway_url(base), throwaway_url(base)
    lines = [line for line in code_lines() if line.startswith(("pg_dump", "pg_restore"))]
    assert [shlex.split(line)[0] for line in lines] == ["pg_dump", "pg_restore"]
    asyncio.run(_seed(source, 7, create_database=True))
    asyncio.run(_seed(target, 0, create_database=True))
    try:
        dumped = _run(
            lines[0],
            tmp_path,
            {"GUYUB_DATABASE__URL": source.replace("postgres://", "postgresql://")},
        )
        assert dumped.returncode == 0, dumped.stderr
        restored = _run(
            lines[1],
            tmp_path,
            {"GUYUB_DATABASE__URL": target.replace("postgres://", "postgresql://")},
        )
        assert restored.returncode == 0, restored.stderr
        assert asyncio.run(_members(target)) == 7
        migrate = CliRunner().invoke(cli, ["db", "migrate"], env={"GUYUB_DATABASE__URL": target})
        assert "nothing to migrate" in migrate.output
    finally:
        for url in (source, target):
            asyncio.run(_drop(url))


async def _drop(url: str) -> None:
    app = App(
        test_settings(database={"url": url}),
        discover_plugins=False,
        schema="none",
        drop_database=True,
    )
    async with app:
        pass
