"""Core commands as Telegram menus: scopes by role and place, names and descriptions by
language."""

from __future__ import annotations

from adapters.telegram._menu import menus
from core import Command, Context, Role, Translator, Where


async def _noop(ctx: Context) -> None:
    return None


COMMANDS = [
    Command("profile", _noop, "t.profile", alias="profil"),
    Command("onboard", _noop, "t.onboard", alias="daftar", where=Where.DM),
    Command("rules", _noop, "t.rules", alias="aturan", where=Where.GROUP),
    Command("broadcast", _noop, "t.broadcast", alias="siaran", role=Role.CAPTAIN),
    Command("grant", _noop, "t.grant", role=Role.ADMIN, where=Where.DM),
]


def translator() -> Translator:
    t = Translator("id")
    t.add(
        {
            "id": {
                "t.profile": "Lihat <b>profil</b> kamu",
                "t.onboard": "Daftar",
                "t.rules": "Aturan grup",
                "t.broadcast": "Kirim siaran",
                "t.grant": "Beri peran",
            },
            "en": {"t.profile": "See your profile"},
        }
    )
    return t


def table() -> dict[tuple[str, str | None], dict[str, str]]:
    return {
        (e.scope.type, e.language): {c.command: c.description for c in e.commands}
        for e in menus(COMMANDS, translator(), "id")
    }


def test_scopes_by_role_and_place() -> None:
    found = table()
    assert set(found[("default", "en")]) == {"profile", "onboard", "rules"}
    assert set(found[("all_private_chats", "en")]) == {"profile", "onboard"}
    assert set(found[("all_group_chats", "en")]) == {"profile", "rules"}
    assert set(found[("all_chat_administrators", "en")]) == {"profile", "rules", "broadcast"}


def test_names_and_descriptions_by_language() -> None:
    found = table()
    assert found[("default", "id")]["profil"] == "Lihat profil kamu"  # markup removed
    assert found[("default", "en")]["profile"] == "See your profile"
    # A text missing in English falls back to Indonesian rather than to nothing.
    assert found[("all_chat_administrators", "en")]["broadcast"] == "Kirim siaran"
    # Users whose language is neither get the default language's menu.
    assert found[("default", None)] == found[("default", "id")]
