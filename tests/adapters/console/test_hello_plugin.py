"""examples/hello-plugin installed like any third-party plugin: discovered through the
``guyub.plugins`` entry point, listed, and switched off from the config."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hello_plugin import guyub


def _row(output: str, name: str) -> str:
    return next(line for line in output.splitlines() if line.startswith(name + " "))


@pytest.mark.slow
def test_installed_plugin_is_discovered_and_enabled(tmp_path: Path, hello_path: Path) -> None:
    result = guyub(["plugins"], path=hello_path, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    row = _row(result.stdout, "hello")
    assert "1.0.0" in row
    assert "entry point (guyub-hello)" in row
    assert row.rstrip().endswith("yes")
    assert _row(result.stdout, "core").rstrip().endswith("yes")


@pytest.mark.slow
def test_config_disables_it(tmp_path: Path, hello_path: Path) -> None:
    (tmp_path / "guyub.toml").write_text('[plugins]\ndisabled = ["hello"]\n')
    result = guyub(["plugins"], path=hello_path, cwd=tmp_path)
    assert "no (disabled in config)" in _row(result.stdout, "hello")
    script = tmp_path / "s.txt"
    script.write_text(":as amir\n:in dm\n/halo\n:expect tidak dikenal\n")
    played = guyub(["chat", "--script", str(script)], path=hello_path, cwd=tmp_path)
    assert played.returncode == 0, played.stdout


@pytest.mark.slow
def test_it_is_not_loaded_without_the_plugin_it_requires(tmp_path: Path, hello_path: Path) -> None:
    (tmp_path / "guyub.toml").write_text('[plugins]\ndisabled = ["regions"]\n')
    result = guyub(["plugins"], path=hello_path, cwd=tmp_path)
    assert "no (requires regions)" in _row(result.stdout, "hello")
    assert "no (disabled in config)" in _row(result.stdout, "regions")
    assert "no (requires regions)" in _row(result.stdout, "onboarding")


@pytest.mark.slow
def test_enabled_list_selects_plugins(tmp_path: Path, hello_path: Path) -> None:
    config = tmp_path / "only-core.toml"
    config.write_text('[plugins]\nenabled = ["core"]\n')
    result = guyub(["plugins", "--config", str(config)], path=hello_path, cwd=tmp_path)
    assert "no (not in plugins.enabled)" in _row(result.stdout, "hello")


@pytest.mark.slow
def test_the_plugin_s_own_tests_pass_with_the_test_kit(hello_path: Path) -> None:
    """A third-party author's tests use Guyub's pytest plugin (fixtures from pytest11)."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONPATH": str(hello_path)}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(root / "examples" / "hello-plugin" / "tests"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=root / "examples" / "hello-plugin",
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
