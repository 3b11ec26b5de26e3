"""Fuzzing every command and every flow step through a whole App (issue #15).

The attack: 10,440 hostile command probes gave 74 internal errors (ids ≥ 2^63, lone
surrogates, an over-long ``/absen`` code). Here hypothesis sends 500 examples to EACH command
of every installed plugin (discovered from the plugins, not listed by hand) and 500 answers to
EACH step of every flow (the steps the flows declare), built from the issue's ingredients:
ids ≥ 2^63 and negative, mentions and ``platform:id`` refs, lone surrogates, NUL/ESC/BEL, RTL
and invisible marks, huge strings, spreadsheet formulas, NIKs and OTP codes, next to the words
the parsers expect (dates, durations, regions, choices, poll options).

Each command is typed under its name or its alias, in a group or in private, as a member, a
region captain or a PMO admin, sometimes in reply to another member, sometimes as a Discord
slash command with typed options. Zero internal errors: no update ends in the App's
internal-error branch, nothing logs an error (a plugin hook, a job, a delivery), and no chat
gets the internal-error text or a traceback.

Reproducible and CI-sized: derandomized (the same examples on every run, no example
database), no deadline (the machine is shared), one App on in-memory SQLite per command or
step, and the outbox drained every few examples rather than after each. Marked slow: it runs
once per CI pass, on SQLite (the probes of ``test_hostile_input.py`` run on PostgreSQL too).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import core.testing
from core import (
    App,
    ChatRef,
    Command,
    CommandInvoked,
    FakeClock,
    MessageReceived,
    MessageRef,
    Role,
)
from core._plugins import Plugins
from core.testing import TEST_START, FakeChat, FakeUser, test_settings
from tests.core.security.test_hostile_input import EVENT_SO_FAR

pytestmark = pytest.mark.slow

EXAMPLES = 500
#: Deliver what the examples queued every this many examples (and at the end).
DRAIN_EVERY = 25
INTERNAL = "kesalahan di pihak kami"

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


def _installed() -> tuple[list[Command], list[tuple[str, str]]]:
    """Every command and every (flow, step) of the installed plugins, as an App loads them."""
    plugins = Plugins(App(test_settings()).loaded_plugins())
    commands = sorted((c for _, cs in plugins.commands() for c in cs), key=lambda c: c.name)
    steps = [(f.name, step) for _, flows in plugins.flows() for f in flows for step in f.step_names]
    return commands, steps


COMMANDS, FLOW_STEPS = _installed()

# --- the ingredients ----------------------------------------------------------------

numbers = st.one_of(
    st.integers(min_value=2**63 - 2, max_value=10**30),
    st.integers(min_value=-(10**30), max_value=-(2**63) + 2),
    st.integers(min_value=2**31 - 2, max_value=2**31 + 2),
    st.integers(min_value=-3, max_value=10**6),
)
ids = st.one_of(
    numbers.map(str),
    numbers.map(lambda n: f"#{n}"),
    numbers.map(lambda n: f"<@{n}>"),
    numbers.map(lambda n: f"<#{n}>"),
    st.tuples(st.sampled_from(["telegram", "discord", "fake", "x"]), numbers).map(
        lambda p: f"{p[0]}:{p[1]}"
    ),
    st.sampled_from(["²³", "١٢٣", "1e400", "0x7fffffffffffffff", "NaN", "-0", "٣"]),
)
marks = st.sampled_from(
    [
        "\ud800",
        "\udfff",
        "\ud83d",
        "a\udc00b",
        "\x00",
        "\x1b[31m",
        "\x1b]0;x\x07",
        "\x07",
        "\x08",
        "\x7f",
        "\u0085",
        "\u2028",
        "\u202e",
        "\u202b",
        "\u200f",
        "\u061c",
        "\u200b",
        "\ufeff",
        "\u3164",
        "\u2800",
        "\r",
        "\t",
        "\n",
    ]
)
formulas = st.sampled_from(
    [
        '=HYPERLINK("https://bit.ly/prakerja-cair","klik")',
        "=1+1",
        "@SUM(A1:A9)",
        "+6281234567890",
        "-2+3",
        "\t=cmd",
        "\r=1",
        "=cmd|' /C calc'!A0",
    ]
)
niks = st.builds(
    lambda prov, reg, dist, day, month, year, serial: (
        f"{prov:02d}{reg:02d}{dist:02d}{day:02d}{month:02d}{year:02d}{serial:04d}"
    ),
    st.integers(11, 94),
    st.integers(1, 79),
    st.integers(1, 40),
    st.one_of(st.integers(1, 31), st.integers(41, 71)),
    st.integers(1, 12),
    st.integers(0, 99),
    st.integers(1, 9999),
)
otps = st.builds(
    lambda word, code: f"{word} {code}",
    st.sampled_from(["kode OTP", "OTP", "PIN", "kode", "kode verifikasi", "otp:", "password"]),
    st.integers(0, 10**8 - 1).map(lambda n: str(n).zfill(6)),
)
secrets = st.one_of(niks, otps, st.sampled_from(["4111 1111 1111 1111", "0812-3456-7890"]))
huge = st.builds(
    lambda piece, times: piece * times,
    st.sampled_from(["K", "9", "\ud800", "é ", "🙂", "a|", "\x00", "=", "1 "]),
    st.integers(1_000, 12_000),
)
#: Words the parsers look for, so examples get past the first check.
expected = st.sampled_from(
    [
        "Aceh Utara",
        "aceh",
        "11.08",
        "11",
        "Bireuen",
        "nasional",
        "2h",
        "1d",
        "90m",
        "3 hari",
        "2026-12-01 10:00",
        "besok 09:00",
        "31/12/2026",
        "10:00",
        "ya",
        "yes",
        "tidak",
        "lewati",
        "skip",
        "id",
        "en",
        "on",
        "off",
        "hapus pesan",
        "semua",
        "|",
        "Makan | Modal usaha | Listrik",
        "mingguan",
        "none",
        "@amir",
        "@pmo",
        "pmo",
        "amir",
        "ABCD2345",
        "A" * 17,
        "/help",
        "*bold* <b>x</b> &amp;",
        "https://t.me/+penipu",
    ]
)
texts = st.text(
    alphabet=st.one_of(
        st.characters(),
        marks.filter(lambda m: len(m) == 1),
        st.sampled_from(list("/@#:|<>&\"'`*_~")),
    ),
    max_size=120,
)
tokens = st.one_of(ids, marks, formulas, secrets, expected, texts)
arguments = st.one_of(
    st.lists(tokens, max_size=6).map(" ".join),
    st.lists(tokens, min_size=2, max_size=6).map(" | ".join),
    huge,
    texts,
    st.just(""),
)

# --- the App ---------------------------------------------------------------------------------


class Errors(logging.Handler):
    """Every error logged anywhere while the fuzz runs (our own handler on the root logger:
    caplog's may be gone after earlier tests)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class Fuzz:
    """One App with a member, a captain of Aceh Utara and a PMO admin, and a group of
    Aceh Utara; it types what hypothesis draws and checks nothing broke."""

    def __init__(self, app: App, errors: Errors) -> None:
        self.app = app
        self.errors = errors
        self.chat = FakeChat(app)
        self.amir = self.chat.user("amir")
        self.cut = self.chat.user("cut")
        self.pmo = self.chat.user("pmo")
        self.group = self.chat.group("Alumni Aceh Utara")
        self.count = 0
        self.sends = 0
        self.recent: list[str] = []

    async def setup(self) -> None:
        for user in (self.amir, self.cut, self.pmo):
            await user.says("/help")
            await user.set_region("11.08")
        await self.app.roles.grant((await self.cut.member()).id, Role.CAPTAIN, "11.08")
        await self.app.roles.grant((await self.pmo.member()).id, Role.ADMIN)
        await self.pmo.says(self.group, "/region_link Aceh Utara")
        self.check("setup")

    def user(self, name: str) -> FakeUser:
        return {"amir": self.amir, "cut": self.cut, "pmo": self.pmo}[name]

    def message(self, chat: ChatRef) -> MessageRef:
        self.count += 1
        return MessageRef(chat, f"fuzz{self.count}")

    async def send(self, event: CommandInvoked | MessageReceived, line: str) -> None:
        self.recent = [*self.recent[-(DRAIN_EVERY - 1) :], line]
        await self.app.dispatch(event, self.chat.adapters[event.platform])
        self.sends += 1
        if self.sends % DRAIN_EVERY == 0:
            await self.drain()
        self.check(line)

    async def drain(self) -> None:
        marks = {name: len(a.sent) for name, a in self.chat.adapters.items()}
        await self.app.run_pending()
        for name, adapter in self.chat.adapters.items():
            for sent in adapter.sent[marks[name] :]:
                assert "Traceback" not in sent.text, self.recent
                assert INTERNAL not in sent.text, f"internal error among {self.recent!r}"

    def check(self, line: str) -> None:
        if self.errors.records:
            record = self.errors.records[0]
            message = record.getMessage()
            self.errors.records.clear()
            raise AssertionError(f"error logged for {line!r} (or just before it): {message}")


@pytest.fixture
def errors() -> Iterator[Errors]:
    handler = Errors()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


@pytest_asyncio.fixture
async def fuzz(errors: Errors) -> AsyncIterator[Fuzz]:
    """One App for the whole of one test (every installed plugin, no command rate limit)."""
    async with core.testing.make_app(
        clock=FakeClock(TEST_START), limits={"commands_per_minute": 0}
    ) as app:
        fuzz = Fuzz(app, errors)
        await fuzz.setup()
        yield fuzz
        await fuzz.drain()
        fuzz.check("the last examples")


# --- the tests -------------------------------------------------------------------------------


def test_every_command_and_flow_step_is_fuzzed() -> None:
    """The lists come from the plugins: every command, every step of every flow."""
    assert len(COMMANDS) > 40
    flows = {flow for flow, _ in FLOW_STEPS}
    assert {"onboarding", "events:new", "captains:broadcast"} <= flows
    for flow in flows:
        assert sum(1 for f, _ in FLOW_STEPS if f == flow) >= 1, flow


async def test_the_app_has_the_commands_and_flows_fuzzed(fuzz: Fuzz) -> None:
    """What was collected is what a running App has: nothing skipped, nothing stale."""
    assert {c.name for c in fuzz.app.commands.all()} == {c.name for c in COMMANDS}
    declared = {(f.name, s) for f in fuzz.app.flows.values() for s in f.step_names}
    assert declared == set(FLOW_STEPS)
    for flow in fuzz.app.flows.values():
        assert flow.step_names, f"flow {flow.name} names no step (Flow(..., asks=...))"


def _option(command: Command, data: st.DataObject) -> dict[str, Any] | None:
    """Typed options as Discord sends a slash command: each a hostile string or number."""
    if not command.params or data.draw(st.integers(0, 3), label="slash") != 0:
        return None
    values = st.one_of(tokens, numbers, st.booleans())
    return {p.name: data.draw(values, label=p.name) for p in command.params}


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
@FUZZ
@given(data=st.data())
async def test_fuzz_command(fuzz: Fuzz, command: Command, data: st.DataObject) -> None:
    spelled = data.draw(
        st.sampled_from([command.name, command.alias or command.name, command.name.upper()]),
        label="spelled",
    )
    args = data.draw(arguments, label="args")
    user = fuzz.user(data.draw(st.sampled_from(["amir", "cut", "pmo"]), label="user"))
    chat = fuzz.group if data.draw(st.booleans(), label="in group") else user.dm
    replied = None
    if chat == fuzz.group and data.draw(st.integers(0, 3), label="reply") == 0:
        replied = fuzz.amir if user is not fuzz.amir else fuzz.cut
    event = CommandInvoked(
        user=user.sender,
        chat=chat,
        name=spelled,
        args=args,
        options=_option(command, data),
        message=fuzz.message(chat),
        reply_to=fuzz.message(chat) if replied else None,
        reply_to_user=replied.sender if replied else None,
        at=fuzz.chat.now(),
    )
    await fuzz.send(event, f"/{spelled} {args[:200]!r} options={event.options!r}")


def _so_far(flow: str, step: str, chat: ChatRef, data: st.DataObject) -> dict[str, Any]:
    if flow == "events:new":
        origin = {"platform": chat.platform, "id": chat.id, "kind": chat.kind.value, "thread": None}
        before = list(EVENT_SO_FAR)
        # Only the answers of the steps before this one, as the flow would have them.
        known = before[: before.index(step)] if step in before else before
        return {"origin": origin, **{k: EVENT_SO_FAR[k] for k in known}}
    if flow == "onboarding" and step != "consent" and data.draw(st.booleans(), label="edit"):
        return {"edit": True}
    return {}


@pytest.mark.parametrize(("flow", "step"), FLOW_STEPS, ids=[f"{f}/{s}" for f, s in FLOW_STEPS])
@FUZZ
@given(data=st.data())
async def test_fuzz_flow_step(fuzz: Fuzz, flow: str, step: str, data: st.DataObject) -> None:
    user = fuzz.user(data.draw(st.sampled_from(["amir", "cut", "pmo"]), label="user"))
    in_group = fuzz.app.flows[flow].groups and data.draw(st.booleans(), label="in group")
    chat = fuzz.group if in_group else user.dm
    member = await user.member()
    so_far = _so_far(flow, step, chat, data)
    await fuzz.app.conversations.start(member.id, chat.key, flow, step, so_far)
    answer = data.draw(arguments, label="answer") or " "
    event = MessageReceived(
        user=user.sender, chat=chat, text=answer, message=fuzz.message(chat), at=fuzz.chat.now()
    )
    await fuzz.send(event, f"{flow}/{step}: {answer[:200]!r}")
