"""Fixtures for the polls plugin: a few regions answered by a small test plugin (the real
regions plugin is built separately), an admin, and members placed in regions."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import pytest_asyncio

from core import (
    App,
    ChatRef,
    FakeClock,
    Member,
    PluginInfo,
    RegionInfo,
    RegionMatch,
    Role,
    hookimpl,
)
from core.testing import TEST_START, FakeChat, FakeUser, MemoryAdapter, make_app
from plugins import polls

REGIONS = {
    "11": RegionInfo("11", "Aceh", "provinsi", None),
    "11.08": RegionInfo("11.08", "Kab. Aceh Utara", "kabupaten", "11"),
    "11.11": RegionInfo("11.11", "Kab. Bireuen", "kabupaten", "11"),
    "12": RegionInfo("12", "Sumatera Utara", "provinsi", None),
    "12.71": RegionInfo("12.71", "Kota Medan", "kota", "12"),
    "31": RegionInfo("31", "DKI Jakarta", "provinsi", None),
    "31.71": RegionInfo("31.71", "Kota Adm. Jakarta Pusat", "kota", "31"),
}


class RegionsStub:
    """Stands in for the regions plugin: answers the core's region questions."""

    PLUGIN = PluginInfo(name="test_regions")

    def __init__(self) -> None:
        self.chats: dict[str, list[ChatRef]] = {}

    @hookimpl
    def guyub_resolve_region(self, code: str) -> RegionInfo | None:
        return REGIONS.get(code)

    @hookimpl
    def guyub_resolve_region_match(self, text: str) -> RegionMatch | None:
        found = [r for r in REGIONS.values() if text.strip().lower() in r.name.lower()]
        return RegionMatch(tuple(found), certain=len(found) == 1)

    @hookimpl
    def guyub_resolve_region_chats(self, code: str) -> Sequence[ChatRef] | None:
        return self.chats.get(code)


class Town:
    """Helpers to set the scene: members in regions, an admin."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def member(self, user: FakeUser) -> Member:
        account = await self.app.identity.ensure(user.ref, user.name)
        return await Member.get(id=account.member_id)

    async def place(self, user: FakeUser, region: str | None) -> Member:
        """Put the user's member in a region (as onboarding would)."""
        member = await self.member(user)
        member.region_code = region
        await member.save(update_fields=["region_code"])
        # As the core's own write paths do: this process sees it at once (on PostgreSQL the
        # other processes hear of it through NOTIFY, which may come a moment later).
        self.app.cache.member_changed(member.id)
        return member

    async def admin(self, user: FakeUser) -> Member:
        member = await self.member(user)
        await self.app.roles.grant(member.id, Role.ADMIN)
        return member

    async def captain(self, user: FakeUser, scope: str) -> Member:
        member = await self.member(user)
        await self.app.roles.grant(member.id, Role.CAPTAIN, scope)
        return member


@pytest_asyncio.fixture
async def regions() -> RegionsStub:
    return RegionsStub()


@pytest_asyncio.fixture
async def polls_app(regions: RegionsStub) -> AsyncIterator[App]:
    # Pinned plugins: polls and a stand-in for the regions plugin, with a few known regions.
    async with make_app(
        plugins=[polls, regions], discover_plugins=False, clock=FakeClock(TEST_START)
    ) as app:
        yield app


@pytest_asyncio.fixture
async def polls_chat(polls_app: App) -> FakeChat:
    return FakeChat(polls_app, [MemoryAdapter("telegram")])


@pytest_asyncio.fixture
async def town(polls_app: App) -> Town:
    return Town(polls_app)
