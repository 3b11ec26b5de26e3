"""The permission matrix: member / captain of A / captain of B / province captain / admin ×
every captain and admin command. The checks live in the core (command role, then
``require_region``); this shows each command goes through them."""

from __future__ import annotations

import pytest

from tests.plugins.captains.world import world

DENIED = (
    "hanya untuk kapten atau admin",
    "hanya untuk admin PMO",
    "tidak mengurus wilayah",
    "bukan grup wilayah Anda",
    "hanya dapat menyerahkan wilayahnya sendiri",
)

# (command, where, roles allowed). Region A is Aceh Utara (11.08), B is Bireuen (11.11),
# the province is Aceh (11). The group is Aceh Utara's.
COMMANDS = [
    ("/captain_list 11.08", "dm", {"captain_a", "province", "admin"}),
    ("/members Aceh Utara", "dm", {"captain_a", "province", "admin"}),
    ("/stats 11.08", "dm", {"captain_a", "province", "admin"}),
    ("/broadcast Aceh Utara", "dm", {"captain_a", "province", "admin"}),
    ("/warn @tono spam", "group", {"captain_a", "province", "admin"}),
    ("/mute 10m @tono", "group", {"captain_a", "province", "admin"}),
    ("/unmute @tono", "group", {"captain_a", "province", "admin"}),
    ("/kick @tono", "group", {"captain_a", "province", "admin"}),
    ("/ban @tono", "group", {"captain_a", "province", "admin"}),
    ("/captain_add @tono 11.08", "dm", {"admin"}),
    ("/captain_remove @tono 11.08", "dm", {"admin"}),
    ("/audit 11.08", "dm", {"admin"}),
    ("/captain_handover @tono @ani 11.08", "dm", {"admin"}),
]
ROLES = ["member", "captain_a", "captain_b", "province", "admin"]


@pytest.mark.parametrize("role", ROLES)
async def test_permission_matrix(make_app, role: str) -> None:
    async with world(make_app) as w:
        chat = w.chat
        pmo = await w.person("pmo", None)
        people = {
            "member": await w.person("ani", "11.08"),
            "captain_a": await w.person("amir", "11.08"),
            "captain_b": await w.person("budi", "11.11"),
            "province": await w.person("cut", "11"),
            "admin": pmo,
        }
        tono = await w.person("tono", "11.08")
        group = w.group("Aceh Utara", "11.08")
        for who in (*people.values(), tono):
            await who.says(group, "halo")
        await pmo.says("/captain_add @amir 11.08")
        await pmo.says("/captain_add @budi 11.11")
        await pmo.says("/captain_add @cut Aceh")
        await pmo.says("/captain_add @tono 11.08")  # for the handover row
        actor = people[role]
        wrong: list[str] = []
        for command, where, allowed in COMMANDS:
            target = actor.dm if where == "dm" else group
            await actor.says(target, command)
            out = "\n".join(s.full_text() for s in chat.since_last_action())
            refused = any(d in out for d in DENIED)
            if not out or refused == (role in allowed):
                wrong.append(f"{role} {command}: {'refused' if refused else 'allowed'}: {out!r}")
            await actor.says(actor.dm, "/batal")
        assert not wrong, "\n".join(wrong)
