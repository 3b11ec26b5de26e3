"""Core commands as Discord application commands, and slash payloads back to core terms."""

from __future__ import annotations

import discord_sample_plugin as sample

from adapters.discord import build_command_set, read_invocation
from core import Sender, Translator, UserRef


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
