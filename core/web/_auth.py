"""Dashboard sign-in without passwords: a one-time link sent in a private chat opens a
session; every request re-reads the member's roles, so a revoked captain is out at once.

Links and sessions are stored as SHA-256 hashes. A link is claimed with one conditional
UPDATE, so two browsers (or two web processes) racing for it cannot both win.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from core._roles import Role, covers
from core.models import Member
from core.web.models import LoginLink, WebSession

if TYPE_CHECKING:
    from core._app import App

__all__ = [
    "LOGIN_PATH",
    "Viewer",
    "create_login_link",
    "end_session",
    "open_session",
    "redeem_login_link",
    "viewer_for",
]

#: Where a login link points: ``{public url}/dasbor/masuk/{token}``.
LOGIN_PATH = "/dasbor/masuk/"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking at the dashboard, and what they may see.

    An admin sees the whole country; a captain only the regions their scopes cover.
    """

    member_id: int
    name: str
    role: Role
    scopes: tuple[str, ...]
    csrf: str

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def sees(self, region_code: str) -> bool:
        """Whether this viewer may see figures of ``region_code`` (and below it)."""
        return self.is_admin or any(covers(scope, region_code) for scope in self.scopes)

    @property
    def areas(self) -> list[str] | None:
        """The region codes the viewer's figures are limited to; None is the whole country."""
        if self.is_admin or "" in self.scopes:
            return None
        return list(self.scopes)

    def csrf_ok(self, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(str(given).encode(), self.csrf.encode())


async def create_login_link(app: App, member_id: int) -> str:
    """A fresh one-time login URL for ``member_id``, valid ``web.login_link_minutes``."""
    token = secrets.token_urlsafe(32)
    now = app.clock.now()
    await LoginLink.create(
        token_hash=_hash(token),
        member_id=member_id,
        created_at=now,
        expires_at=now + timedelta(minutes=app.settings.web.login_link_minutes),
    )
    return f"{app.web.url}{LOGIN_PATH}{token}"


async def redeem_login_link(app: App, token: str) -> int | None:
    """Claim a link: the member id if it was unused, unexpired and its member may still use
    the dashboard; None otherwise. A link works once, whatever the answer."""
    if not token or len(token) > 128:
        return None
    now = app.clock.now()
    digest = _hash(token)
    claimed = await LoginLink.filter(
        token_hash=digest, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if not claimed:
        return None
    link = await LoginLink.get(token_hash=digest)
    if await app.roles.highest(link.member_id) < Role.CAPTAIN:
        return None
    return link.member_id


async def open_session(app: App, member_id: int) -> str:
    """Start a session; returns the cookie value (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    now = app.clock.now()
    await WebSession.create(
        token_hash=_hash(token),
        member_id=member_id,
        csrf=secrets.token_urlsafe(24),
        created_at=now,
        expires_at=now + timedelta(hours=app.settings.web.session_hours),
    )
    # Old sessions and links are swept here rather than by a job: sign-ins are rare.
    await WebSession.filter(expires_at__lte=now).delete()
    await LoginLink.filter(expires_at__lte=now - timedelta(days=1)).delete()
    return token


async def end_session(token: str) -> None:
    await WebSession.filter(token_hash=_hash(token)).delete()


async def viewer_for(app: App, token: str | None) -> Viewer | None:
    """The viewer behind a session cookie, or None (no session, expired, or no longer a
    captain or admin)."""
    if not token or len(token) > 128:
        return None
    session = await WebSession.get_or_none(token_hash=_hash(token))
    if session is None:
        return None
    if session.expires_at <= app.clock.now():
        await session.delete()
        return None
    role = await app.roles.highest(session.member_id)
    if role < Role.CAPTAIN:
        return None
    member = await Member.get_or_none(id=session.member_id)
    if member is None:
        return None
    scopes = () if role is Role.ADMIN else tuple(await app.roles.captain_scopes(member.id))
    return Viewer(member.id, member.display_name, role, scopes, session.csrf)
