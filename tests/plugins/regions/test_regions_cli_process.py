"""``guyub regions ...`` as a real command line (a subprocess on its own database)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def _guyub(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "guyub.toml"
    config.write_text(f'[database]\nurl = "sqlite://{tmp_path}/cli.sqlite3"\n', encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "core", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )


@pytest.mark.slow
def test_regions_cli(tmp_path: Path) -> None:
    found = _guyub(tmp_path, "regions", "search", "Kab. Aceh Utara")
    assert found.returncode == 0, found.stderr
    assert "11.08" in found.stdout
    assert "Kabupaten Aceh Utara (Aceh)" in found.stdout
    listed = _guyub(tmp_path, "regions", "list", "--province", "11")
    assert listed.returncode == 0, listed.stderr
    assert "Kabupaten Aceh Utara" in listed.stdout
    counts = tmp_path / "recipients.csv"
    counts.write_text("code,recipients\n11.08,68066\n", encoding="utf-8")
    imported = _guyub(tmp_path, "regions", "import-recipients", str(counts))
    assert imported.returncode == 0, imported.stderr
    assert "1 regions" in imported.stdout
