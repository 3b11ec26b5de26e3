"""Choices typed in the member's language reach the handler as the canonical choice."""

from __future__ import annotations

import pytest

from core import Command, Param, ParamType, UsageError
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
