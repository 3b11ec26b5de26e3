"""Choices typed in the member's language reach the handler as the canonical choice."""

from __future__ import annotations

import pytest

from core import ChatKind, ChatRef, Command, Param, ParamType, UsageError
from core._commands import parse_args


async def _noop(ctx: object, **kwargs: object) -> None:
    return None


FIELD = Param(
    "field",
    ParamType.CHOICE,
    choices=("title", "capacity"),
    choice_aliases=(("judul", "title"), ("kapasitas", "capacity"), ("kuota", "capacity")),
)
EDIT = Command("edit", _noop, "x.cmd.edit", params=(FIELD, Param("value", ParamType.TEXT)))


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("kapasitas", "capacity"),
        ("KUOTA", "capacity"),
        ("capacity", "capacity"),
        ("Judul", "title"),
    ],
)
def test_aliases_and_canonical_names_are_accepted(typed: str, canonical: str) -> None:
    assert parse_args(EDIT, f"{typed} 3") == {"field": canonical, "value": "3"}


def test_a_wrong_choice_lists_both_names() -> None:
    with pytest.raises(UsageError) as caught:
        parse_args(EDIT, "warna merah")
    assert caught.value.kwargs["choices"] == "judul/title, kapasitas/capacity"


# --- picked parameters: a channel or a role chosen from the platform's list ----------------

LINK = Command(
    "link",
    _noop,
    "x.cmd.link",
    params=(
        Param("region", ParamType.TEXT),
        Param("channel", ParamType.CHANNEL, required=False),
        Param("role", ParamType.ROLE, required=False),
    ),
)


def test_picked_parameters_are_never_typed() -> None:
    """Typed (Telegram), the whole line is the text: a channel or role can't be typed in."""
    assert parse_args(LINK, "Aceh Utara https://t.me/+abc") == {
        "region": "Aceh Utara https://t.me/+abc",
        "channel": None,
        "role": None,
    }
    assert LINK.usage() == "/link <region>"


def test_picked_parameters_come_from_the_platform_picker() -> None:
    picked = ChatRef("discord", "123", ChatKind.GROUP, title="aceh-utara")
    values = parse_args(LINK, "", {"region": "11.08", "channel": picked, "role": "456"})
    assert values == {"region": "11.08", "channel": picked, "role": "456"}


@pytest.mark.parametrize(
    "options",
    [
        {"region": "x", "channel": "#umum"},
        {"region": "x", "role": "<@&1>"},
        {"region": "x", "role": "9" * 30},
    ],
)
def test_a_picked_parameter_filled_otherwise_is_refused(options: dict[str, object]) -> None:
    with pytest.raises(UsageError) as caught:
        parse_args(LINK, "", options)
    assert caught.value.key == "core.usage.not_picked"


def test_a_picked_parameter_must_be_optional() -> None:
    with pytest.raises(ValueError, match="picked"):
        Command("bad", _noop, "x", params=(Param("channel", ParamType.CHANNEL),))
