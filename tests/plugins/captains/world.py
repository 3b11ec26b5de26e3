"""A small world for the captains tests: a stand-in regions plugin (a few regions of Aceh and
North Sumatra, groups bound to them) and two fake platforms, one behaving like Telegram
(no DM before /start) and one like Discord."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from core import (
    Capability,
    ChatKind,
    ChatRef,
    Member,
    PluginInfo,
    RegionInfo,
    RegionMatch,
    hookimpl,
)
from core.testing import ALL_CAPABILITIES, FakeChat, FakeUser, MemoryAdapter, test_settings

REGIONS = {
    "11": RegionInfo("11", "Aceh", "provinsi", None),
    "11.08": RegionInfo("11.08", "Aceh Utara", "kabupaten", "11"),
    "11.11": RegionInfo("11.11", "Bireuen", "kabupaten", "11"),
    "12": RegionInfo("12", "Sumatera Utara", "provinsi", None),
    "12.71": RegionInfo("12.71", "Kota Medan", "kota", "12"),
}
ALIASES = {"sumut": "12", "medan": "12.71"}


class RegionStub:
    """Answers the core's region questions for the test world."""

    PLUGIN = PluginInfo(name="regionstub")

    def __init__(self) -> None:
        self.chats: dict[str, list[ChatRef]] = {}

    @hookimpl
    async def guyub_resolve_region(self, code: str) -> RegionInfo | None:
        return REGIONS.get(code)

    @hookimpl
    async def guyub_resolve_region_match(self, text: str) -> RegionMatch | None:
        wanted = text.strip().casefold()
        if wanted in ALIASES:
            return RegionMatch((REGIONS[ALIASES[wanted]],), certain=True)
        exact = [r for r in REGIONS.values() if r.name.casefold() == wanted]
        if exact:
            return RegionMatch(tuple(exact), certain=True)
        partial = [r for r in REGIONS.values() if wanted in r.name.casefold()]
        return RegionMatch(tuple(partial), certain=False)

    @hookimpl
    async def guyub_resolve_region_chats(self, code: str) -> list[ChatRef]:
        return self.chats.get(code, [])


def telegram_like() -> MemoryAdapter:
    return MemoryAdapter(
        "tg", caps=ALL_CAPABILITIES - {Capability.DM_WITHOUT_START}, dm_requires_start=True
    )


def discord_like() -> MemoryAdapter:
    return MemoryAdapter("dc")


class World:
    """The app, the chat, the region stub and helpers to place people in regions."""

    def __init__(self, chat: FakeChat, stub: RegionStub) -> None:
        self.chat = chat
        self.stub = stub
        self.lobby = chat.group("Lobby", platform="tg")

    def group(self, title: str, code: str, platform: str = "tg") -> ChatRef:
        group = self.chat.group(title, platform=platform)
        self.stub.chats.setdefault(code, []).append(
            ChatRef(group.platform, group.id, ChatKind.GROUP)
        )
        return group

    async def person(
        self, name: str, region: str | None, *, platform: str = "tg", started: bool = True
    ) -> FakeUser:
        user = self.chat.user(name, platform=platform, username=name)
        if started:
            await user.says("halo")
        else:
            await user.joins(self.chat.group("Lobby", platform=platform))
        account_member = await self._member(user)
        await Member.filter(id=account_member.id).update(region_code=region)
        return user

    async def _member(self, user: FakeUser) -> Member:
        account = await self.chat.app.identity.account_for(user.ref)
        assert account is not None
        return await Member.get(id=account.member_id)

    async def member_of(self, user: FakeUser) -> Member:
        return await self._member(user)


@asynccontextmanager
async def world(make_app: Any, **settings: Any) -> AsyncIterator[World]:
    stub = RegionStub()
    settings.setdefault("admins", ["tg:pmo"])
    # Only the captains plugin and the stand-in regions: the world stays the same whatever
    # else is installed.
    settings.setdefault("limits", {"commands_per_minute": 0})
    only = test_settings(plugins={"enabled": ["captains", "regionstub"]}, **settings)
    async with make_app(plugins=[stub], settings=only) as app:
        chat = FakeChat(app, [telegram_like(), discord_like()])
        yield World(chat, stub)
