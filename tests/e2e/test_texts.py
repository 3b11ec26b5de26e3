"""Every scenario, read as a member reads it: no reply carries a translation key
(``captains.stats.title``, ``role.grant``), an unfilled ``{placeholder}`` or a missing text.

The scenario scripts of tests/e2e and the console demo run in-process (the same
``ConsoleSession`` as ``guyub chat --script``) with every message the bot sends collected.
"""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

import pytest

from adapters.console import ConsoleSession
from core import App
from core.testing import Sent, make_app

HERE = Path(__file__).parent
DEMO = HERE.parent.parent / "adapters" / "console" / "demo.txt"
SCRIPTS = {
    p.stem: p.read_text(encoding="utf-8").splitlines() for p in [*sorted(HERE.glob("*.txt")), DEMO]
}

#: the namespaces of text keys and audit actions: a dotted word starting with one of them
#: in a reply is a key that leaked
_NAMESPACES = ("core", "events", "polls", "poll", "captains", "regions", "onboarding", "privacy")
_DOTTED = re.compile(r"(?<![\w./@:-])[a-z_]+(?:\.[a-z0-9_]+)+(?![\w/-])")
_PLACEHOLDER = re.compile(r"\{[a-z_][a-z0-9_]*(?::[a-z0-9_]+)?\}")  # {when}, {cmd:help}


def leaks(text: str, keys: set[str]) -> list[str]:
    """What in ``text`` is a raw key, an action name or an unfilled placeholder."""
    found = [
        word
        for word in _DOTTED.findall(text)
        if word in keys or word.split(".", 1)[0] in _NAMESPACES or word.startswith("role.")
    ]
    return found + _PLACEHOLDER.findall(text)


def test_the_leak_detector_sees_what_issue_16_saw() -> None:
    keys = {"captains.stats.title"}
    assert leaks("captains.stats.title", keys) == ["captains.stats.title"]
    assert leaks("🕖 role.grant · - → member:1", keys) == ["role.grant"]
    assert leaks("Ditutup {when}", keys) == ["{when}"]
    assert leaks("Ketik {cmd:help}", keys) == ["{cmd:help}"]
    assert leaks("Buka https://www.prakerja.go.id/ atau meet.example/umkm, pukul 19.00", keys) == []


@pytest.mark.parametrize("name", sorted(SCRIPTS))
async def test_no_reply_carries_a_key_or_a_placeholder(
    name: str, caplog: pytest.LogCaptureFixture
) -> None:
    lines = SCRIPTS[name]
    sent: list[Sent] = []
    async with make_app() as app:
        session = ConsoleSession(app, io.StringIO())
        session.adapter.on_send.append(lambda record, edited: sent.append(record))
        with caplog.at_level(logging.ERROR, logger="core._i18n"):
            result = await session.run_script(lines)
        keys = _keys(app)
    assert result.code == 0, result.message
    assert sent, "the scenario made the bot say nothing"
    problems = {
        f"{record.chat.key}: {record.full_text()[:160]!r}": found
        for record in sent
        if (found := leaks(record.full_text(), keys))
    }
    assert problems == {}
    missing = [r.getMessage() for r in caplog.records if "missing text" in r.getMessage()]
    assert missing == []


def _keys(app: App) -> set[str]:
    return app.translator.keys("id") | app.translator.keys("en")
