"""A small stand-in for the regions plugin (built elsewhere) and an App with the events
plugin on two in-memory platforms."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest_asyncio

import plugins.events
from core import App, ChatRef, PluginInfo, RegionInfo, RegionMatch, hookimpl
from core.testing import FakeChat, MemoryAdapter

REGIONS = {
    r.code: r
    for r in (
        RegionInfo("11", "Aceh", "provinsi", None, "Asia/Jakarta"),
        RegionInfo("11.08", "Kabupaten Aceh Utara", "kabupaten", "11", "Asia/Jakarta"),
        RegionInfo("73", "Sulawesi Selatan", "provinsi", None, "Asia/Makassar"),
        RegionInfo("73.71", "Kota Makassar", "kota", "73", "Asia/Makassar"),
        RegionInfo("91", "Papua", "provinsi", None, "Asia/Jayapura"),
        RegionInfo("91.71", "Kota Jayapura", "kota", "91", "Asia/Jayapura"),
    )
}


@dataclass
class RegionsForTests:
    """Answers the core's region questions from a fixed table; chats bound by the test."""

    chats: dict[str, list[ChatRef]] = field(default_factory=dict)
    PLUGIN = PluginInfo(name="test_regions")

    @hookimpl
    def guyub_resolve_region(self, code: str) -> RegionInfo | None:
        return REGIONS.get(code)

    @hookimpl
    def guyub_resolve_region_chats(self, code: str) -> list[ChatRef] | None:
        return self.chats.get(code, [])

    @hookimpl
    def guyub_resolve_region_match(self, text: str) -> RegionMatch | None:
        wanted = text.lower().strip()
        found = tuple(r for r in REGIONS.values() if wanted in r.name.lower())
        exact = [r for r in found if r.name.lower().endswith(wanted)]
        return RegionMatch(found, certain=len(found) == 1 or len(exact) == 1)

    def bind(self, code: str, *chats: ChatRef) -> None:
        self.chats.setdefault(code, []).extend(chats)


@pytest_asyncio.fixture
async def regions() -> RegionsForTests:
    return RegionsForTests()


@pytest_asyncio.fixture
async def events_app(make_app, clock, regions) -> AsyncIterator[App]:  # type: ignore[no-untyped-def]
    # Cards are edited on every RSVP here; test_card_edits_are_spaced_out covers the spacing.
    async with make_app(
        plugins=[plugins.events, regions],
        discover_plugins=False,
        clock=clock,
        events={"card_refresh_seconds": 0},
    ) as app:
        yield app


@pytest_asyncio.fixture
async def chat(events_app: App) -> FakeChat:
    """Telegram-like and Discord-like platforms side by side."""
    return FakeChat(events_app, [MemoryAdapter("telegram"), MemoryAdapter("discord")])
