"""Every test a page of docs/ cites as the proof of a promise exists: a renamed or deleted
test leaves the promise unproven, and this fails."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import core.testing as kit

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted((ROOT / "docs").glob("*.md"))


def defined_tests() -> set[str]:
    return {
        name
        for path in (ROOT / "tests").rglob("test_*.py")
        for name in re.findall(r"^(?:async )?def (test_\w+)", path.read_text(), re.M)
    }


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_cited_test_exists(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    names = defined_tests()
    missing: list[str] = []
    for cited in re.findall(r"`(tests/[\w/]+\.py)(?:::(test_\w+))?`", text):
        path, name = cited
        if not (ROOT / path).is_file():
            missing.append(path)
        elif name and not re.search(rf"^(?:async )?def {name}\(", (ROOT / path).read_text(), re.M):
            missing.append(f"{path}::{name}")
    for name in re.findall(r"`(test_\w+)`", text):
        # The test kit's helpers (test_settings, ...) are named like tests.
        if name not in names and name not in kit.__all__:
            missing.append(name)
    assert not missing, f"{page.name} cites tests that do not exist: {missing}"
