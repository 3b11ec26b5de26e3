"""``guyub new-plugin NAME``: the package it writes installs with pip, loads, passes its own
tests and the project's lint."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core._scaffold import new_plugin, valid_name
from tests.hello_plugin import guyub

VENV_BIN = Path(sys.executable).parent


def test_names_and_existing_folders_are_refused(tmp_path: Path) -> None:
    assert valid_name("jobs")
    assert valid_name("job_board")
    for bad in ("Jobs", "j", "1jobs", "jobs-board", "jobs_", "a" * 30):
        assert not valid_name(bad), bad
        with pytest.raises(ValueError, match="bad plugin name"):
            new_plugin(bad, tmp_path)
    new_plugin("jobs", tmp_path)
    with pytest.raises(FileExistsError):
        new_plugin("jobs", tmp_path)


@pytest.mark.slow
def test_the_scaffold_installs_and_passes_its_tests_and_lint(tmp_path: Path) -> None:
    made = guyub(["new-plugin", "job_board", "--dir", str(tmp_path)])
    assert made.returncode == 0, made.stderr
    root = tmp_path / "guyub-job-board"
    assert f"created {root}" in made.stdout
    again = guyub(["new-plugin", "job_board", "--dir", str(tmp_path)])
    assert again.returncode == 2
    assert "already exists" in again.stderr

    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
         "--no-build-isolation", "--target", str(site), str(root)],
        check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert (site / "guyub_job_board" / "texts" / "id.toml").is_file()
    env = {**os.environ, "PYTHONPATH": str(site)}
    listed = guyub(["plugins"], env={"PYTHONPATH": str(site)})
    assert "job_board" in listed.stdout, listed.stdout + listed.stderr
    # The plugin's own tests, against the installed copy (not the source folder).
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(root / "tests")],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "1 passed" in tests.stdout
    assert "audioop" not in tests.stdout + tests.stderr  # discord.py's, not the plugin's
    assert "github.com/)" not in (root / "README.md").read_text(encoding="utf-8")

    # The author adds a model; `guyub db makemigrations` (the plugin importable from its
    # source folder, as after `pip install -e .`) writes a migration into the package, and
    # the lint below must pass with it and with an en dash in an Indonesian text.
    _add_a_model(root / "guyub_job_board")
    written = guyub(["db", "makemigrations"], path=root, env={"PYTHONPATH": str(site)})
    assert written.returncode == 0, written.stdout + written.stderr
    migration = root / "guyub_job_board" / "migrations" / "0001_initial.py"
    assert f"wrote {migration}" in written.stdout
    assert "operations = [" in migration.read_text(encoding="utf-8")
    for args in (["check", str(root)], ["format", "--check", str(root)]):
        lint = subprocess.run(
            [str(VENV_BIN / "ruff"), *args], capture_output=True, text=True, timeout=120
        )
        assert lint.returncode == 0, lint.stdout + lint.stderr


def _add_a_model(package: Path) -> None:
    """A model and its (empty) migrations package, registered by the plugin."""
    (package / "migrations").mkdir()
    (package / "migrations" / "__init__.py").write_text('"""Written by makemigrations."""\n')
    (package / "models.py").write_text(
        '''"""The plugin's tables."""

from tortoise import fields
from tortoise.models import Model


class Opening(Model):
    """A job opening (Senin–Jumat, 08.00–17.00)."""

    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=80, description="Judul lowongan – singkat")

    class Meta:
        table = "job_board_opening"
''',
        encoding="utf-8",
    )
    init = package / "__init__.py"
    text = init.read_text(encoding="utf-8")
    text = text.replace("Context, PluginInfo", "Context, ModelModule, PluginInfo")
    text += """

@hookimpl
def guyub_register_models() -> Sequence[ModelModule]:
    return [ModelModule("job_board", ("guyub_job_board.models",), "guyub_job_board.migrations")]
"""
    init.write_text(text, encoding="utf-8")
