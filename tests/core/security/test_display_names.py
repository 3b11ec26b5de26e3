"""A member can't escalate or inject markup by choosing a display name or username."""

from __future__ import annotations

import pytest

from core import Member, Role, parse_markup
from core.testing import FakeChat

HOSTILE = [
    "admin",
    "Admin PMO",
    "@everyone",
    "@here",
    "<b>x</b>",
    '<a href="https://evil.example">klik</a>',
    "</code><i>x",
    "&lt;b&gt;",
    "kapten 11",
    "#1",
    "telegram:1",
]


@pytest.mark.parametrize("name", HOSTILE)
async def test_name_grants_nothing_and_renders_as_text(chat: FakeChat, name: str) -> None:
    admin = chat.user("pmo")
    await admin.says("/help")
    await chat.app.roles.grant((await Member.get(display_name="pmo")).id, Role.ADMIN)
    user = chat.user(name, username=name)
    await user.says("/start")
    greeting = chat.last(user)
    assert greeting.text.startswith(f"Halo {name}!")
    member = await Member.get(display_name=name)
    assert await chat.app.roles.highest(member.id) is Role.MEMBER
    # The name arrives as literal text: no tag or link from it survives rendering.
    spans = parse_markup(greeting.markup)
    assert all(span.href is None for span in spans)
    assert not any(span.italic for span in spans)
    assert [span.text for span in spans if span.bold] == ["Guyub"]
    await user.says("/help")
    assert "Untuk admin PMO" not in chat.last(user).text


async def test_finding_by_name_never_finds_the_admin(chat: FakeChat) -> None:
    real = chat.user("Budi", username="budi_pmo")
    await real.says("/help")
    budi = await Member.get(display_name="Budi")
    await chat.app.roles.grant(budi.id, Role.ADMIN)
    fake = chat.user("admin", username="admin")
    await fake.says("/help")
    found = await chat.app.identity.find("admin")
    assert found is not None
    assert found.id != budi.id
    assert await chat.app.identity.find("@budi_pmo") == budi
