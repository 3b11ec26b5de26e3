"""Fuzzing every parser with hypothesis (500 examples each, no deadline: the machine is
shared): arbitrary unicode, lengths and argument counts never raise anything but the
documented error, and never reach a chat as a traceback."""

from __future__ import annotations

import contextlib
import io
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import core.testing
from adapters.console import ConsoleSession
from adapters.console._session import ScriptError, parse_clock
from core import (
    Account,
    App,
    Command,
    FakeClock,
    Markup,
    Member,
    Param,
    ParamType,
    UsageError,
    escape,
    parse_command_line,
    parse_duration,
    parse_markup,
    to_plain,
)
from core._commands import MAX_DURATION, parse_args, split_args
from core.testing import TEST_START, FakeChat

EXAMPLES = settings(max_examples=500, deadline=None)
CHAT_EXAMPLES = settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: Unicode with the troublemakers made likely: controls, bidi marks, zero-width, NUL,
#: surrogates excluded (platforms can't send them), quotes, slashes and @.
texts = st.text(
    alphabet=st.one_of(
        st.characters(exclude_categories=("Cs",)),
        st.sampled_from(list("/@ \n\t\"'“”\u200b\u202e\ufeff\x00<>&#:%_\\")),
    ),
    max_size=300,
)
words = st.lists(texts, max_size=12).map(" ".join)


@EXAMPLES
@given(text=texts, bot=st.one_of(st.none(), st.sampled_from(["GuyubBot", "@GuyubBot", ""])))
def test_parse_command_line(text: str, bot: str | None) -> None:
    parsed = parse_command_line(text, bot)
    if parsed is not None:
        name, args = parsed
        assert name == name.lower()
        assert " " not in name
        assert args == args.strip()


@EXAMPLES
@given(text=texts, count=st.integers(min_value=0, max_value=8))
def test_split_args(text: str, count: int) -> None:
    words = split_args(text, count)
    assert len(words) <= max(count, 0) or (count == 0 and words == [])
    for word in words:
        assert isinstance(word, str)


def _noop(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("not called")


COMMANDS = [
    Command(
        "every",
        _noop,
        "x",
        params=(
            Param("word"),
            Param("number", ParamType.INT),
            Param("flag", ParamType.BOOL, required=False),
            Param("wait", ParamType.DURATION, required=False),
            Param("pick", ParamType.CHOICE, required=False, choices=("id", "en")),
            Param("who", ParamType.USER, required=False),
            Param("rest", ParamType.TEXT, required=False),
        ),
    ),
    Command("bare", _noop, "x"),
    Command("one", _noop, "x", params=(Param("only", ParamType.STRING),)),
]


@EXAMPLES
@given(command=st.sampled_from(COMMANDS), args=st.one_of(texts, words))
def test_parse_args(command: Command, args: str) -> None:
    try:
        values = parse_args(command, args)
    except UsageError as exc:
        key = exc.key
        values = {}
    else:
        key = ""
    assert key.startswith("core.usage.") or set(values) == {p.name for p in command.params}


@EXAMPLES
@given(
    text=st.one_of(
        texts,
        st.from_regex(r"\A\s*(\d{1,25}\s*(d|h|m|s|jam|hari|menit|detik)\s*){1,4}\Z"),
        st.integers(min_value=0, max_value=10**30).map(str),
    )
)
def test_parse_duration(text: str) -> None:
    try:
        value = parse_duration(text)
    except ValueError:
        return
    assert timedelta(0) <= value <= MAX_DURATION
    assert TEST_START + value > TEST_START - timedelta(seconds=1)


@EXAMPLES
@given(text=texts)
def test_escape_round_trips_through_parse_markup(text: str) -> None:
    escaped = escape(text)
    spans = parse_markup(escaped)
    assert "".join(span.text for span in spans) == text
    assert not any(span.bold or span.href or span.code for span in spans)
    assert to_plain(Markup("<b>{}</b>").format(text)) == text


@EXAMPLES
@given(text=texts)
def test_parse_markup_takes_anything(text: str) -> None:
    spans = parse_markup(Markup(text))
    for span in spans:
        assert isinstance(span.text, str)


@EXAMPLES
@given(
    arg=st.one_of(
        texts,
        st.from_regex(r"\A\+\d{1,30}[dhms]\Z"),
        st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    )
)
def test_console_parse_clock(arg: str) -> None:
    with contextlib.suppress(ScriptError):
        parse_clock(arg, TEST_START)


# --- through a whole App --------------------------------------------------------------


@pytest_asyncio.fixture
async def busy_app() -> AsyncIterator[App]:
    # Every installed plugin, so their commands and conversation steps are fuzzed too.
    # No rate limit: hypothesis sends hundreds of commands a "minute".
    async with core.testing.make_app(
        clock=FakeClock(TEST_START), limits={"commands_per_minute": 0}
    ) as app:
        yield app


command_lines = st.builds(
    lambda name, args: f"/{name} {args}",
    st.sampled_from(
        [
            "help",
            "bantuan",
            "start",
            "language",
            "bahasa",
            "cancel",
            "link",
            "tautkan",
            "unlink",
            "consent",
            "mydata",
            "nope",
            "HELP",
            "help@GuyubBot",
            "link@other",
        ]
    ),
    st.one_of(texts, words),
)


@CHAT_EXAMPLES
@given(line=st.one_of(command_lines, texts))
async def test_any_line_through_the_app(busy_app: App, line: str) -> None:
    """No traceback reaches the chat, nothing is raised, and rejected input changes no
    member or account."""
    chat = FakeChat(busy_app) if "fuzz" not in busy_app.services else busy_app.services["fuzz"]
    busy_app.services["fuzz"] = chat
    amir = chat.user("amir")
    before = (await Member.all().count(), await Account.all().count())
    await amir.says(line)
    for sent in chat.since_last_action():
        assert "Traceback" not in sent.text
        assert "kesalahan di pihak kami" not in sent.text, f"internal error for {line!r}"
    if before[0]:
        assert (await Member.all().count(), await Account.all().count()) == before


script_lines = st.one_of(
    texts,
    st.builds(
        lambda d, a: f"{d} {a}",
        st.sampled_from(
            [
                ":as",
                ":in",
                ":join",
                ":leave",
                ":press",
                ":vote",
                ":expect",
                ":expect-not",
                ":nope",
                ":in group",
                ":in dm",
            ]
        ),
        texts,
    ),
)


@CHAT_EXAMPLES
@given(lines=st.lists(script_lines, max_size=4))
async def test_console_scripts_end_with_a_result(busy_app: App, lines: list[str]) -> None:
    out = io.StringIO()
    result = await ConsoleSession(busy_app, out).run_script(lines)
    assert result.code in (0, 1, 2)
    assert "kesalahan di pihak kami" not in out.getvalue()
