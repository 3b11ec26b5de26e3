"""Roles and permission checks: member, captain (scoped to regions), admin (the PMO).

Region codes are hierarchical (Kemendagri: ``11`` is Aceh, ``11.08`` Aceh Utara), so a
captain whose scope is ``11`` covers ``11.08``. The empty scope is the whole country.
Every grant and revocation is written to the audit log.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum
from typing import TYPE_CHECKING, Any, cast

from core._clock import Clock
from core.models import AuditEntry, Member, RoleGrant

if TYPE_CHECKING:
    from core._cache import DispatchCache, MemberState

__all__ = ["Audit", "PermissionDenied", "Role", "Roles", "covers", "scope_chain"]


class Role(IntEnum):
    """Roles in order of power; a command requires at least one."""

    MEMBER = 0
    CAPTAIN = 1
    ADMIN = 2

    @property
    def label(self) -> str:
        return self.name.lower()


class PermissionDenied(Exception):
    """The member may not do this; ``reason`` is a text key shown to them."""

    def __init__(self, reason: str = "core.error.forbidden", **kwargs: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kwargs = kwargs


def scope_chain(region_code: str) -> list[str]:
    """The region and every region above it: ``11.08.01`` → ``11.08.01, 11.08, 11``."""
    parts = region_code.split(".")
    return [".".join(parts[:i]) for i in range(len(parts), 0, -1)]


def covers(scope: str, region_code: str) -> bool:
    """Whether a captain scope covers a region (the empty scope covers everything)."""
    return scope == "" or region_code == scope or region_code.startswith(scope + ".")


class Audit:
    """Writes the audit log."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    async def record(
        self,
        action: str,
        *,
        actor: Member | int | None = None,
        target: str = "",
        region: str | None = None,
        **details: Any,
    ) -> AuditEntry:
        actor_id = actor.id if isinstance(actor, Member) else actor
        return await AuditEntry.create(
            at=self.clock.now(),
            actor_id=actor_id,
            action=action,
            target=target[:128],
            region_code=region,
            details=details,
        )

    async def recent(self, *, region: str | None = None, limit: int = 20) -> list[AuditEntry]:
        query = AuditEntry.all()
        if region is not None:
            query = query.filter(region_code__startswith=region)
        return await query.order_by("-at", "-id").limit(limit)


class Roles:
    """Answers "may this member do that here?" and keeps grants."""

    def __init__(self, audit: Audit) -> None:
        self.audit = audit
        self.cache: DispatchCache | None = None

    async def grants(self, member_id: int) -> list[RoleGrant]:
        return await RoleGrant.filter(member_id=member_id)

    async def _cached(self, member_id: int) -> MemberState | None:
        return await self.cache.member(member_id) if self.cache is not None else None

    async def highest(self, member_id: int) -> Role:
        state = await self._cached(member_id)
        if state is not None:
            roles = {r for r, _ in state.roles}
        else:
            roles = {g.role for g in await self.grants(member_id)}
        if Role.ADMIN.label in roles:
            return Role.ADMIN
        if Role.CAPTAIN.label in roles:
            return Role.CAPTAIN
        return Role.MEMBER

    async def is_admin(self, member_id: int) -> bool:
        state = await self._cached(member_id)
        if state is not None:
            return state.has_role(Role.ADMIN.label)
        return await RoleGrant.filter(member_id=member_id, role=Role.ADMIN.label).exists()

    async def captain_scopes(self, member_id: int) -> list[str]:
        state = await self._cached(member_id)
        if state is not None:
            return state.scopes(Role.CAPTAIN.label)
        scopes = await RoleGrant.filter(member_id=member_id, role=Role.CAPTAIN.label).values_list(
            "scope", flat=True
        )
        return sorted(str(s) for s in scopes)

    async def can_manage(self, member_id: int, region_code: str) -> bool:
        """Admins manage everything; captains manage regions their scopes cover."""
        if await self.is_admin(member_id):
            return True
        return any(covers(s, region_code) for s in await self.captain_scopes(member_id))

    async def require_region(self, member_id: int, region_code: str) -> None:
        if not await self.can_manage(member_id, region_code):
            raise PermissionDenied("core.error.not_your_region", region=region_code)

    async def captains_of(self, region_code: str) -> list[Member]:
        """Captains of a region and of every region above it, nearest first."""
        chain = scope_chain(region_code)
        grants = await RoleGrant.filter(role=Role.CAPTAIN.label, scope__in=chain).prefetch_related(
            "member"
        )
        grants.sort(key=lambda g: (chain.index(g.scope), g.member_id))
        seen: set[int] = set()
        out: list[Member] = []
        for grant in grants:
            if grant.member_id not in seen:
                seen.add(grant.member_id)
                out.append(grant.member)
        return out

    async def grant(
        self, member_id: int, role: Role, scope: str = "", *, by: int | None = None
    ) -> bool:
        """Give a role; returns False if the member already had it."""
        _, created = await RoleGrant.get_or_create(
            member_id=member_id, role=role.label, scope=scope, defaults={"granted_by_id": by}
        )
        if created:
            self._changed(member_id)
            await self.audit.record(
                "role.grant",
                actor=by,
                target=f"member:{member_id}",
                region=scope or None,
                role=role.label,
            )
        return created

    async def revoke(
        self, member_id: int, role: Role, scope: str = "", *, by: int | None = None
    ) -> bool:
        deleted = await RoleGrant.filter(member_id=member_id, role=role.label, scope=scope).delete()
        if deleted:
            self._changed(member_id)
            await self.audit.record(
                "role.revoke",
                actor=by,
                target=f"member:{member_id}",
                region=scope or None,
                role=role.label,
            )
        return bool(deleted)

    def _changed(self, member_id: int) -> None:
        # Other workers learn of it through the database; this one at once.
        if self.cache is not None:
            self.cache.member_changed(member_id)

    async def members_with(self, role: Role, scopes: Iterable[str] | None = None) -> list[int]:
        query = RoleGrant.filter(role=role.label)
        if scopes is not None:
            query = query.filter(scope__in=list(scopes))
        ids = await query.values_list("member_id", flat=True)
        return sorted(set(cast(list[int], ids)))
