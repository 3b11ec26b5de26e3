"""Adapters' calendar methods: the in-memory platform records them, the base refuses."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core import ChatRef, NotSupported, ScheduledEvent
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
