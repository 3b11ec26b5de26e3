"""Helpers for dashboard tests: an App serving its web server on a free port, members in
regions, and a browser-like HTTP client (cookies kept, redirects visible)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from core import App, Member, Role
from core.testing import FakeChat, FakeUser, make_app

LINK = re.compile(r"https?://\S+/dasbor/masuk/[A-Za-z0-9_-]+")


@dataclass
class Served:
    app: App
    chat: FakeChat

    @property
    def url(self) -> str:
        return self.app.web.url


@asynccontextmanager
async def served(**overrides: Any) -> AsyncIterator[Served]:
    web = {"listen": "127.0.0.1:0", **overrides.pop("web", {})}
    async with make_app(web=web, **overrides) as app:
        await app.web.start()
        try:
            yield Served(app, FakeChat(app))
        finally:
            await app.web.stop()


async def login_link(served: Served, user: FakeUser) -> str:
    """What the bot answers to /dasbor in a private chat: the link in it."""
    await user.says("/dasbor")
    text = str(served.chat.last(user).markup)
    found = LINK.search(text)
    assert found, text
    return found.group(0)


def token_of(link: str) -> str:
    return link.rsplit("/", 1)[1]


def browser() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def sign_in(served: Served, user: FakeUser, http: aiohttp.ClientSession) -> None:
    link = await login_link(served, user)
    async with http.get(link) as page:
        assert page.status == 200
        assert token_of(link) in await page.text()
    async with http.post(
        f"{served.url}/dasbor/masuk", data={"token": token_of(link)}, allow_redirects=False
    ) as response:
        assert response.status == 303, await response.text()


async def member_of(served: Served, user: FakeUser) -> Member:
    account = await served.app.identity.account_for(user.ref)
    assert account is not None
    return await Member.get(id=account.member_id)


async def make_admin(served: Served, user: FakeUser) -> Member:
    await user.says("/help")  # the account exists once it has spoken
    member = await member_of(served, user)
    await served.app.roles.grant(member.id, Role.ADMIN)
    return member


async def make_captain(served: Served, user: FakeUser, scope: str) -> Member:
    await user.says("/help")
    member = await member_of(served, user)
    await served.app.roles.grant(member.id, Role.CAPTAIN, scope)
    return member


async def seed_members(
    now: datetime, counts: dict[str, tuple[int, int]], *, active: int = 0
) -> None:
    """``{region: (members, registered)}``; the first ``active`` of each are active today."""
    rows = []
    for code, (members, registered) in counts.items():
        for i in range(members):
            rows.append(
                Member(
                    display_name=f"m{code}-{i}",
                    region_code=code,
                    registered_at=now - timedelta(days=i % 20) if i < registered else None,
                    last_active_at=now if i < active else None,
                )
            )
    await Member.bulk_create(rows)


async def csrf_of(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(url) as page:
        html = await page.text()
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)
