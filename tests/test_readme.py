"""README's code is run, so what it promises a plugin author works as written."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, re.S)


async def test_the_plugin_test_snippet_runs(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "examples" / "hello-plugin"))
    (snippet,) = [b for b in _python_blocks(README.read_text("utf-8")) if "def test_hello" in b]
    namespace: dict[str, Any] = {}
    exec(compile(snippet, "README.md", "exec"), namespace)
    await namespace["test_hello"](make_app)
