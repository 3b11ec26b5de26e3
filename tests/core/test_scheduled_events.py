"""Adapters' calendar methods: the in-memory platform records them, the base refuses."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core import (
    ChatRef,
    Context,
    NotSupported,
    ScheduledEvent,
    ScheduledEventInterest,
    Sender,
    UserRef,
    hookimpl,
)
from core.testing import TEST_START, MemoryAdapter


async def test_memory_adapter_keeps_scheduled_events() -> None:
    adapter = MemoryAdapter()
    chat = ChatRef("fake", "aceh")
    event = ScheduledEvent("Temu alumni", TEST_START + timedelta(days=1), location="Banda Aceh")
    event_id = await adapter.create_scheduled_event(chat, event)
    moved = ScheduledEvent("Temu alumni", TEST_START + timedelta(days=2))
    await adapter.update_scheduled_event(chat, event_id, moved)
    await adapter.cancel_scheduled_event(chat, event_id)
    assert adapter.scheduled[event_id] == (chat, moved, True)


async def test_platforms_without_a_calendar_refuse() -> None:
    adapter = MemoryAdapter(caps=frozenset())
    with pytest.raises(NotSupported):
        await adapter.create_scheduled_event(
            ChatRef("fake", "aceh"), ScheduledEvent("Temu", TEST_START)
        )


class _Listener:
    """A plugin noting calendar interest."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, bool, int | None]] = []

    @hookimpl
    async def guyub_on_scheduled_event_interest(
        self, ctx: Context, event: ScheduledEventInterest
    ) -> None:
        self.seen.append((event.event_id, event.interested, ctx.member.id if ctx.member else None))


async def test_interest_in_a_calendar_event_reaches_plugins(make_app) -> None:
    listener = _Listener()
    async with make_app(plugins=[listener]) as app:
        sender = Sender(UserRef("fake", "7"), "Ani")
        for interested in (True, False):
            await app.dispatch(
                ScheduledEventInterest(
                    user=sender, chat=ChatRef("fake", "aceh"), event_id="e1", interested=interested
                )
            )
        member_id = listener.seen[0][2]
        assert member_id is not None
        assert listener.seen == [("e1", True, member_id), ("e1", False, member_id)]
