"""The Discord command tree carries the Indonesian names the core renders in replies
(``/acara baru``), and Discord's uniqueness rules hold in both languages."""

from __future__ import annotations

from collections import Counter
from typing import Any

from adapters.discord._commands import build_command_set
from core import App, CommandStyle


def _name(entry: dict[str, Any], locale: str | None) -> str:
    if locale is None:
        return str(entry["name"])
    return str((entry.get("name_localizations") or {}).get(locale, entry["name"]))


async def test_replies_and_the_command_tree_agree(app: App) -> None:
    payload = build_command_set(app.visible_commands(), app.translator).payload
    spelled: set[str] = set()
    for locale in (None, "id"):
        tops = [_name(e, locale) for e in payload]
        assert not [n for n, c in Counter(tops).items() if c > 1], (locale, tops)
        for entry in payload:
            options = entry.get("options") or []
            subs = [o for o in options if o["type"] == 1]
            names = [_name(o, locale) for o in subs or options]
            assert len(names) == len(set(names)), (locale, entry["name"], names)
            for sub in subs:
                spelled.add(f"/{_name(entry, locale)} {_name(sub, locale)}")
                opts = [_name(o, locale) for o in sub.get("options") or []]
                assert len(opts) == len(set(opts)), (locale, sub["name"], opts)
            if not subs:
                spelled.add(f"/{_name(entry, locale)}")
    # Whatever a reply names on Discord is a command the tree has.
    assert app.command_names.spellings(CommandStyle.GROUPED, app.visible_commands()) <= spelled
