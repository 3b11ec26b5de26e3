"""docs/plugins.md is executed: its blocks are the files of the tutorial plugin, which is
imported, tested and played as a console scenario; and every public name is documented."""

from __future__ import annotations

import importlib.util
import io
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import core
import core.testing
from core.testing import make_app

ROOT = Path(__file__).resolve().parent.parent.parent
DOC = ROOT / "docs" / "plugins.md"
_BLOCK = re.compile(
    r"(?:<!-- file: (?P<path>[^ ]+) -->\n)?```(?P<lang>\w*)\n(?P<body>.*?)```", re.S
)


def blocks() -> list[tuple[str | None, str, str]]:
    text = DOC.read_text(encoding="utf-8")
    return [(m["path"], m["lang"], m["body"]) for m in _BLOCK.finditer(text)]


def test_every_code_block_is_a_file_of_the_tutorial() -> None:
    found = blocks()
    assert len(found) >= 6
    loose = [body[:60] for path, _, body in found if path is None]
    assert not loose, f"blocks not executed by this test: {loose}"


@pytest.fixture
def tutorial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for path, _, body in blocks():
        assert path is not None
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")
    package = tmp_path / "guyub_jobs"
    monkeypatch.syspath_prepend(str(package))
    yield package
    for name in [n for n in sys.modules if n == "guyub_jobs" or n.startswith("guyub_jobs.")]:
        del sys.modules[name]


def _load(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"tutorial_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_the_tutorial_plugins_own_tests_pass(tutorial: Path) -> None:
    tests = _load(tutorial / "tests" / "test_jobs.py")
    names = [n for n in vars(tests) if n.startswith("test_")]
    assert len(names) >= 2
    for name in names:
        await getattr(tests, name)(make_app)


async def test_the_tutorial_migrations_are_written_and_applied(tutorial: Path) -> None:
    """What ``guyub db makemigrations`` and ``guyub db migrate`` do for the plugin."""
    import guyub_jobs

    from core import App, ModelModule
    from core._db import Database
    from core.testing import test_settings

    (module,) = [m for m in guyub_jobs.guyub_register_models() if isinstance(m, ModelModule)]
    database = Database("sqlite://:memory:", [module])
    await database.open()
    try:
        written = await database.make_migrations()
        assert [Path(p).name for p in written] == ["0001_initial.py"]
        assert await database.pending_changes() == []
    finally:
        await database.close()
    settings = test_settings()
    server = not settings.database.url.startswith("sqlite")  # a throw-away PostgreSQL database
    async with App(
        settings,
        plugins=[guyub_jobs],
        schema="migrate",
        create_database=server,
        drop_database=server,
    ) as app:
        assert "jobs" in app.plugins.names()
        assert await guyub_jobs.models.Vacancy.all().count() == 0


async def test_the_tutorial_console_scenario_runs(tutorial: Path) -> None:
    import guyub_jobs

    from adapters.console import ConsoleSession

    lines = (tutorial / "scenario.txt").read_text(encoding="utf-8").splitlines()
    out = io.StringIO()
    async with make_app(plugins=[guyub_jobs]) as app:
        result = await ConsoleSession(app, out).run_script(lines)
    assert result.code == 0, out.getvalue()
    assert "Lowongan #1 dipasang" in out.getvalue()


def _documented() -> set[str]:
    return set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)", DOC.read_text(encoding="utf-8")))


@pytest.mark.parametrize("name", sorted(core.__all__))
def test_every_public_name_is_documented(name: str) -> None:
    assert name in _documented(), f"core.{name} is public but not in docs/plugins.md"


@pytest.mark.parametrize("name", sorted(core.testing.__all__))
def test_every_test_kit_name_is_documented(name: str) -> None:
    assert name in _documented(), f"core.testing.{name} is public but not in docs/plugins.md"


def test_the_builtin_plugins_use_only_the_public_api() -> None:
    """What the five built-in plugins need is in ``core.__all__``: a third-party plugin can
    do what they do."""
    import ast

    problems = []
    for path in sorted((ROOT / "plugins").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("core"):
                if node.module != "core":
                    problems.append(f"{path.relative_to(ROOT)}: from {node.module} import ...")
                    continue
                problems += [
                    f"{path.relative_to(ROOT)}: core.{a.name} is not public"
                    for a in node.names
                    if a.name not in core.__all__
                ]
            elif isinstance(node, ast.Import):
                problems += [
                    f"{path.relative_to(ROOT)}: import {a.name}"
                    for a in node.names
                    if a.name.startswith("core.")
                ]
    assert not problems, "\n".join(problems)


def test_every_hook_is_in_the_guide() -> None:
    from core import hookspecs

    hooks = [n for n, f in vars(hookspecs).items() if n.startswith("guyub_") and callable(f)]
    missing = [h for h in hooks if h not in _documented()]
    assert not missing, f"hooks missing from docs/plugins.md: {missing}"
