"""FakeChat with several platforms: "since the last action" is kept per platform, and a
native poll the bot ended takes no more votes."""

from __future__ import annotations

import pytest

from core import ChatRef, Message, MessageRef, PollSpec
from core.testing import ExpectationFailed, FakeChat, MemoryAdapter


async def test_since_last_action_on_several_platforms(app) -> None:
    chat = FakeChat(app, [MemoryAdapter("telegram"), MemoryAdapter("discord")])
    tg = chat.group("TG", platform="telegram")
    dc = chat.group("DC", platform="discord")
    await app.send(dc, Message.of("before"))
    await chat.user("amir", platform="telegram").says(tg, "/help")
    chat.expect_sent(tg, contains="/help")
    chat.expect_not_sent(dc, contains="before")


async def test_an_ended_native_poll_refuses_votes(app) -> None:
    chat = FakeChat(app, [MemoryAdapter("telegram")])
    group: ChatRef = chat.group("TG")
    ref: MessageRef = await app.send(group, Message.of("", poll=PollSpec("Q?", ("A", "B"))))
    assert ref.poll_id == chat.latest_poll(group).poll_id  # type: ignore[union-attr]
    await app.end_poll(ref)
    with pytest.raises(ExpectationFailed, match="closed"):
        await chat.user("amir").votes([1], group)
