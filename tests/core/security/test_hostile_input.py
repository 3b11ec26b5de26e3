"""Security: hostile input never reaches "internal error".

The attack (issue #15): 10,440 hostile command probes gave 74 internal-error replies: ids
≥ 2^63 (``/acara_ics 99999999999999999999``, ``/peserta``, ``/buka_absen``, ``/polling_*``)
raised OverflowError, lone surrogates (``\\ud800``) UnicodeEncodeError, an ``/absen`` code over
16 characters ValidationError. Here every command of every installed plugin, under its name
and its alias, in a group and in private, as a member and as an admin, gets those probes;
every flow step gets them as answers; and hypothesis fuzzes the same (500 examples each).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import core.testing
from core import (
    App,
    ChatRef,
    CommandInvoked,
    FakeClock,
    Member,
    MessageReceived,
    Sender,
    UserRef,
    clean_line,
    clean_platform_text,
    parse_id,
    terminal_safe,
)
from core.testing import TEST_START, FakeChat

INTERNAL = "kesalahan di pihak kami"

#: The probes of the issue, and their relatives.
PROBES = [
    "99999999999999999999",
    str(2**31),
    "-99999999999999999999",
    "1 99999999999999999999 99999999999999999999",
    "²³ ١٢٣",
    "\ud800",
    "a\udfffb \x00 \ud83d",
    "\x1b[31mmerah\x07",
    "A" * 17,
    "K" * 5000,
    "",
]

#: Every step of every installed flow (flows don't declare their steps yet).
FLOW_STEPS = [
    *(
        ("onboarding", step)
        for step in ("consent", "name", "region", "batch", "training", "language")
    ),
    *(
        ("events:new", step)
        for step in (
            "title",
            "region",
            "start",
            "start_ok",
            "place",
            "capacity",
            "description",
            "reminders",
            "repeat",
            "until",
            "confirm",
        )
    ),
    ("captains:broadcast", "text"),
]

#: What earlier steps left in a flow's data (a step is reached only through them).
EVENT_SO_FAR = {
    "title": "Temu alumni",
    "region": "11.08",
    "start": (TEST_START + timedelta(days=3)).isoformat(),
    "end": None,
    "zone": "Asia/Jakarta",
    "place": "Aula",
    "capacity": None,
    "description": "",
    "reminders": [1440, 60],
    "repeat": "none",
}


def _so_far(flow: str, chat: ChatRef) -> dict[str, Any]:
    if flow == "events:new":
        origin = {"platform": chat.platform, "id": chat.id, "kind": "dm", "thread": None}
        return {"origin": origin, **EVENT_SO_FAR}
    return {}


CHAT_SETTINGS = settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest_asyncio.fixture
async def everything() -> AsyncIterator[App]:
    """Every installed plugin, an admin, no command rate limit."""
    async with core.testing.make_app(
        clock=FakeClock(TEST_START),
        limits={"commands_per_minute": 0},
        admins=["fake:pmo"],
    ) as app:
        yield app


def _names(app: App) -> list[str]:
    names: list[str] = []
    for command in app.commands.all():
        names.append(command.name)
        if command.alias:
            names.append(command.alias)
    return sorted(set(names))


def _check(chat: FakeChat, line: str) -> None:
    for sent in chat.since_last_action():
        assert "Traceback" not in sent.text, line
        assert INTERNAL not in sent.text, f"internal error for {line!r}"


async def test_every_command_survives_the_issue_probes(
    everything: App, caplog: pytest.LogCaptureFixture
) -> None:
    chat = FakeChat(everything)
    group = chat.group("Alumni Aceh")
    pmo, amir = chat.user("pmo"), chat.user("amir")
    for user in (pmo, amir):
        await user.says("/help")
    names = _names(everything)
    assert len(names) > 40  # every plugin's commands are here
    caplog.set_level(logging.ERROR)
    for name in names:
        for n, probe in enumerate(PROBES):
            # An admin in the group and a member in private, taking turns (CI-sized).
            line = f"/{name} {probe}"
            if n % 2:
                await amir.says(line)
            else:
                await pmo.says(group, line)
            _check(chat, line)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.exc_info]
    assert errors == [], [r.getMessage() for r in errors]


async def test_every_flow_step_survives_the_issue_probes(everything: App) -> None:
    """Each flow at each of its steps gets every probe as an answer."""
    chat = FakeChat(everything)
    pmo = chat.user("pmo")
    await pmo.says("/help")
    account = await everything.identity.account_for(pmo.ref)
    assert account is not None
    member = await Member.get(id=account.member_id)
    assert set(everything.flows) == {flow for flow, _ in FLOW_STEPS}
    for flow, step in FLOW_STEPS:
        for probe in PROBES:
            data = _so_far(flow, pmo.dm)
            await everything.conversations.start(member.id, pmo.dm.key, flow, step, data)
            await pmo.says(probe or " ")
            _check(chat, f"{flow}/{step}: {probe!r}")


# Arbitrary unicode with the issue's troublemakers made likely: lone surrogates, NUL,
# controls, huge numbers.
hostile_text = st.text(
    alphabet=st.one_of(
        st.characters(),
        st.sampled_from(["\ud800", "\udfff", "\x00", "\x1b", "\x07", "\u202e", "\u3164"]),
    ),
    max_size=200,
)
huge_ids = st.integers(min_value=-(10**25), max_value=10**25).map(str)
arguments = st.one_of(
    hostile_text,
    huge_ids,
    st.lists(st.one_of(huge_ids, hostile_text), max_size=4).map(" ".join),
    st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ23456789", min_size=0, max_size=40),
)


@CHAT_SETTINGS
@given(data=st.data())
async def test_fuzz_every_command(everything: App, data: st.DataObject) -> None:
    chat = everything.services.get("fuzz_chat") or FakeChat(everything)
    everything.services["fuzz_chat"] = chat
    name = data.draw(st.sampled_from(_names(everything)))
    args = data.draw(arguments)
    user = chat.user(data.draw(st.sampled_from(["pmo", "amir"])))
    line = f"/{name} {args}"
    if data.draw(st.booleans()):
        await user.says(chat.group("Alumni"), line)
    else:
        await user.says(line)
    _check(chat, line)


@CHAT_SETTINGS
@given(data=st.data())
async def test_fuzz_every_flow_step(everything: App, data: st.DataObject) -> None:
    chat = everything.services.get("fuzz_chat") or FakeChat(everything)
    everything.services["fuzz_chat"] = chat
    user = chat.user("amir")
    member_id = everything.services.get("fuzz_member")
    if member_id is None:
        await user.says("/help")
        account = await everything.identity.account_for(user.ref)
        assert account is not None
        member_id = everything.services["fuzz_member"] = account.member_id
    flow, step = data.draw(st.sampled_from(FLOW_STEPS))
    so_far = _so_far(flow, user.dm)
    await everything.conversations.start(member_id, user.dm.key, flow, step, so_far)
    answer = data.draw(arguments)
    await user.says(answer or ".")
    _check(chat, f"{flow}/{step}: {answer!r}")


def test_events_clean_platform_strings_once_at_the_boundary() -> None:
    chat = ChatRef("x", "1", title="Grup\x00\u202e\ud800")
    sender = Sender(UserRef("x", "2"), "Budi\x00\nPMO\x1b", username="a\ud800b")
    said = MessageReceived(user=sender, chat=chat, text="halo\x00\r\n\ud800dunia\x07")
    command = CommandInvoked(user=sender, chat=chat, name="absen", args="\ud800\x00X")
    assert chat.title == "Grup\u202e\ufffd"
    assert sender.display_name == "Budi PMO"
    assert sender.username == "a\ufffdb"
    assert said.text == "halo\n\ufffddunia"
    assert command.args == "\ufffdX"
    # What comes out encodes, whatever came in.
    for text in (chat.title, sender.display_name, said.text, command.args):
        text.encode("utf-8")


def test_parse_id_bounds() -> None:
    assert parse_id("42") == 42
    assert parse_id(" #7 ") == 7
    for bad in ("0", "-1", "99999999999999999999", str(2**31), "²", "١", "", "1e3", "4 2"):
        assert parse_id(bad) is None, bad


def test_terminal_safe_shows_controls() -> None:
    assert terminal_safe("a\x1b[31mb\x07\x00\n\tc\u202e\ud800") == "a␛[31mb␇␀\n\tc<U+202E>\ufffd"
    assert clean_line("a\tb\nc") == "a b c"
    assert clean_platform_text("\u2028x\x85") == "\nx\n"
