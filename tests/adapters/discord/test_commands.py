"""Core commands as Discord application commands, and slash payloads back to core terms."""

from __future__ import annotations

import discord_sample_plugin as sample

from adapters.discord import build_command_set, read_invocation
from core import App, Command, Param, ParamType, Sender, Translator, UserRef


def _command_set():
    translator = Translator("id")
    translator.add(sample.guyub_register_texts(), owner="sample")
    return build_command_set(sample.guyub_register_commands(), translator)


def _by_name(payload, name):
    return next(c for c in payload if c["name"] == name)


def test_typed_options_choices_autocomplete_and_localizations() -> None:
    greet = _by_name(_command_set().payload, "greet")
    assert greet["name_localizations"] == {"id": "sapa"}
    assert greet["description"] == "Greet a member from a region"
    assert greet["description_localizations"] == {"id": "Sapa anggota dari sebuah daerah"}
    assert greet["default_member_permissions"] is None
    assert greet["contexts"] == [0, 1]
    region, times, who = greet["options"]
    assert region == {
        "type": 3,
        "name": "region",
        "required": True,
        "description": "Home region",
        "description_localizations": {"id": "Daerah asal"},
        "autocomplete": True,
    }
    assert (times["type"], times["required"]) == (4, False)
    assert (who["type"], who["required"]) == (6, False)


def test_grouped_commands_become_subcommands_for_captains() -> None:
    event = _by_name(_command_set().payload, "event")
    assert [o["name"] for o in event["options"]] == ["cancel", "new"]
    assert all(o["type"] == 1 for o in event["options"])
    assert event["default_member_permissions"] == "8192"  # Manage Messages
    new = event["options"][1]
    assert new["description_localizations"] == {"id": "Buat acara baru"}
    assert new["options"][0]["name"] == "title"


def test_the_digest_changes_only_with_the_command_set() -> None:
    assert _command_set().digest == _command_set().digest
    translator = Translator("id")
    other = build_command_set(sample.guyub_register_commands()[:2], translator)
    assert other.digest != _command_set().digest


# A chat-input interaction's "data" exactly as Discord sends it in INTERACTION_CREATE.
_GREET_DATA = {
    "id": "1310000000000000001",
    "name": "greet",
    "type": 1,
    "guild_id": "1300000000000000000",
    "options": [
        {"name": "region", "type": 3, "value": "Aceh Utara"},
        {"name": "times", "type": 4, "value": 3},
        {"name": "who", "type": 6, "value": "1234567890123456789"},
    ],
    "resolved": {
        "users": {
            "1234567890123456789": {
                "id": "1234567890123456789",
                "username": "amir",
                "global_name": "**Amir**",
                "avatar": None,
                "discriminator": "0",
            }
        }
    },
}


def test_slash_options_arrive_typed_with_users_as_senders() -> None:
    call = read_invocation(_command_set(), _GREET_DATA)
    assert call is not None
    assert call.command.name == "greet"
    # A picked user carries the names Discord resolved (they may never have written to us).
    assert call.options == {
        "region": "Aceh Utara",
        "times": 3,
        "who": Sender(
            UserRef("discord", "1234567890123456789"), display_name="**Amir**", username="amir"
        ),
    }
    assert call.focused is None


def test_subcommand_and_focused_autocomplete_option() -> None:
    data = {
        "id": "1310000000000000002",
        "name": "event",
        "type": 1,
        "options": [
            {
                "name": "new",
                "type": 1,
                "options": [{"name": "title", "type": 3, "value": "Temu", "focused": True}],
            }
        ],
    }
    call = read_invocation(_command_set(), data)
    assert call is not None
    assert call.command.name == "event_new"
    assert call.focused == ("title", "Temu")
    assert call.options == {}


def test_unknown_command_is_none() -> None:
    assert read_invocation(_command_set(), {"name": "nope", "type": 1}) is None


async def test_event_edit_fields_are_indonesian_first(app: App) -> None:
    """``/acara ubah isian:kapasitas`` as on Telegram (``/acara_ubah 1 kapasitas 3``):
    every client but English ones sees the Indonesian word; the handler gets the canonical
    choice."""
    payload = build_command_set(app.visible_commands(), app.translator).payload
    edit = next(o for o in _by_name(payload, "event")["options"] if o["name"] == "edit")
    field = next(o for o in edit["options"] if o["name"] == "field")
    assert field["name_localizations"] == {"id": "isian"}
    shown = {c["value"]: c["name"] for c in field["choices"]}
    assert shown == {
        "title": "judul",
        "start": "mulai",
        "place": "tempat",
        "capacity": "kapasitas",
        "description": "keterangan",
        "reminders": "pengingat",
    }
    assert all(
        c["name_localizations"] == {"en-US": c["value"], "en-GB": c["value"]}
        for c in field["choices"]
    )


async def test_region_link_offers_a_region_a_channel_and_a_role(app: App) -> None:
    payload = build_command_set(app.visible_commands(), app.translator).payload
    link = _by_name(payload, "region_link")
    assert link["name_localizations"] == {"id": "tautkan_wilayah"}
    region, channel, role = link["options"]
    assert (region["type"], region["autocomplete"], region["required"]) == (3, True, True)
    assert (channel["type"], channel["channel_types"], channel["required"]) == (7, [0, 5], False)
    assert (role["type"], role["required"]) == (8, False)
    assert [o["name_localizations"] for o in (region, channel, role)] == [
        {"id": "wilayah"},
        {"id": "kanal"},
        {"id": "peran"},
    ]


def test_channel_and_role_options_reach_the_core_as_a_chat_and_a_role_id() -> None:
    translator = Translator("id")
    picking = Command(
        "pick",
        _noop,
        "x",
        params=(
            Param("channel", ParamType.CHANNEL, required=False),
            Param("role", ParamType.ROLE, required=False),
        ),
    )
    data = {
        "name": "pick",
        "type": 1,
        "options": [
            {"name": "channel", "type": 7, "value": "1400000000000000001"},
            {"name": "role", "type": 8, "value": "1400000000000000002"},
        ],
        "resolved": {
            "channels": {
                "1400000000000000001": {
                    "id": "1400000000000000001",
                    "type": 11,
                    "name": "rapat",
                    "parent_id": "1400000000000000009",
                }
            }
        },
    }
    call = read_invocation(build_command_set([picking], translator), data)
    assert call is not None
    channel = call.options["channel"]
    assert (channel.id, channel.thread, channel.title) == (
        "1400000000000000009",
        "1400000000000000001",
        "rapat",
    )
    assert call.options["role"] == "1400000000000000002"


async def _noop(ctx: object, **kwargs: object) -> None:
    return None
