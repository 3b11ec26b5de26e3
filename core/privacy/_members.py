"""The core side of one person's data: merging two members, splitting an account off,
exporting everything and forgetting everything.

Plugins do their part through hooks (``guyub_on_members_merged``,
``guyub_export_member``, ``guyub_forget_member``); this module does the core tables.
Audit entries keep the member ids they were written with, so a member's history includes
the ids of every member merged into them (found through the ``privacy.link`` entries).
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.transactions import in_transaction

from core._context import Context
from core.models import (
    Account,
    AuditEntry,
    ButtonKey,
    Conversation,
    FlowPrompt,
    Job,
    Member,
    RoleGrant,
)
from core.privacy import _consent, _ratelimit
from core.privacy._sweep import Needles, person_key, points_at, sweep
from core.privacy.models import ConsentRecord, LinkCode

if TYPE_CHECKING:
    from core._app import App
    from core._context import JobContext

__all__ = [
    "FORGET_KIND",
    "HOLD_ACTION",
    "export_member",
    "forget_member",
    "held_roles",
    "history_ids",
    "merge_members",
    "resume_forget",
    "split_platform",
]

log = logging.getLogger(__name__)

LINK_ACTION = "privacy.link"
FORGET_KIND = "privacy:forget"
RESUME_AFTER = timedelta(minutes=10)
HOLD_ACTION = "privacy.link.roles_held"


def _target(member_id: int) -> str:
    return f"member:{member_id}"


async def history_ids(member_id: int) -> list[int]:
    """``member_id`` and the ids of every member merged into it, directly or in a chain."""
    found = [member_id]
    queue = [member_id]
    while queue:
        current = queue.pop()
        for entry in await AuditEntry.filter(action=LINK_ACTION, target=_target(current)):
            merged = (entry.details or {}).get("merged")
            if isinstance(merged, int) and merged not in found:
                found.append(merged)
                queue.append(merged)
    return found


async def held_roles(member_id: int) -> list[tuple[str, str]]:
    """The roles a link put on hold for ``member_id`` (most recent link), for an admin to
    confirm."""
    entry = (
        await AuditEntry.filter(action=HOLD_ACTION, target=_target(member_id))
        .order_by("-id")
        .first()
    )
    roles = (entry.details or {}).get("roles", []) if entry is not None else []
    return [(str(r[0]), str(r[1])) for r in roles if isinstance(r, list) and len(r) == 2]


def _plugin_models(app: App) -> list[type[Model]]:
    """Every model but the core tables ``forget_member`` handles itself."""
    assert app.database.context is not None
    apps = app.database.context.apps
    assert apps is not None
    own = ("core.models", "core.privacy.models")
    return [m for m in apps.get_models_iterable() if m.__module__ not in own]


def _mentions(value: Any, needles: Needles) -> bool:
    """Whether a job payload is about the member: a person key (``member``, ``chat``...)
    holding one of their ids, or one of their platform ids anywhere. A bare number under
    another key (``{"poll": 12}``) is not them."""
    if isinstance(value, dict):
        return any(
            (person_key(str(k)) and points_at(v, needles)) or _mentions(v, needles)
            for k, v in value.items()
        )
    if isinstance(value, list):
        return any(_mentions(v, needles) for v in value)
    return isinstance(value, str) and value in needles.platform


def _about(ids: list[int]) -> Q:
    return Q(actor_id__in=ids) | Q(target__in=[_target(i) for i in ids])


async def merge_members(app: App, kept: Member, merged: Member, *, channel: str) -> None:
    """Make ``merged`` part of ``kept``: plugins merge their rows first (while both members
    exist), then accounts, roles, consents and buttons move, and ``merged`` is deleted."""
    version = app.privacy.settings.consent_version
    kept_consent = await _consent.latest(kept.id)
    merged_consent = await _consent.latest(merged.id)
    await app.plugins.members_merged(app, kept, merged)
    platforms = sorted(
        {
            str(p)
            for p in await Account.filter(member_id=merged.id).values_list("platform", flat=True)
        }
    )
    async with in_transaction():
        await Account.filter(member_id=merged.id).update(member_id=kept.id)
        # Roles never travel with a link on their own: someone who guessed a captain's code
        # would get the captain's rights (or give their account to the captain's member).
        # The roles of both sides are held until an admin confirms (held_roles).
        both = [kept.id, merged.id]
        held = sorted(
            {(str(g.role), str(g.scope)) for g in await RoleGrant.filter(member_id__in=both)}
        )
        if held:
            await RoleGrant.filter(member_id__in=both).delete()
            await app.audit.record(
                HOLD_ACTION,
                actor=kept.id,
                target=_target(kept.id),
                roles=[list(r) for r in held],
                merged=merged.id,
            )
        await RoleGrant.filter(granted_by_id=merged.id).update(granted_by_id=kept.id)
        await Conversation.filter(member_id=merged.id).delete()
        await FlowPrompt.filter(member_id=merged.id).update(member_id=kept.id)
        await ButtonKey.filter(only_for=merged.id).update(only_for=kept.id)
        await ConsentRecord.filter(member_id=merged.id).update(member_id=kept.id)
        await LinkCode.filter(member_id=merged.id).delete()
        changes: dict[str, Any] = {}
        if merged.last_active_at and (
            kept.last_active_at is None or merged.last_active_at > kept.last_active_at
        ):
            changes["last_active_at"] = merged.last_active_at
        if changes:
            await Member.filter(id=kept.id).update(**changes)
            for key, value in changes.items():
                setattr(kept, key, value)
        # A decline or withdrawal on either side wins (linking never widens consent);
        # otherwise the answer the person actually gave counts over an unanswered question.
        rows = [row for row in (kept_consent, merged_consent) if row is not None]
        ranks = [_consent.rank(row, version) for row in rows]
        chosen = None
        if rows:
            chosen = rows[ranks.index(0)] if 0 in ranks else rows[ranks.index(max(ranks))]
        latest = await _consent.latest(kept.id)
        if chosen is not None and (latest is None or latest.id != chosen.id):
            await _consent.record(
                kept.id,
                chosen.version,
                _consent.ConsentStatus(chosen.status),
                app.clock.now(),
                channel,
            )
        await app.audit.record(
            LINK_ACTION,
            actor=kept.id,
            target=_target(kept.id),
            merged=merged.id,
            platforms=platforms,
        )
        await Member.filter(id=merged.id).delete()


async def split_platform(app: App, member: Member, platform: str) -> Member:
    """Move ``member``'s accounts on ``platform`` to a new member of their own; the profile
    and every plugin's rows stay with ``member``."""
    accounts = await Account.filter(member_id=member.id, platform=platform)
    first = accounts[0]
    async with in_transaction():
        fresh = await Member.create(
            display_name=first.display_name or member.display_name,
            language=member.language,
            last_active_at=first.last_seen_at,
        )
        await Account.filter(id__in=[a.id for a in accounts]).update(member_id=fresh.id)
        app.cache.member_changed(member.id)
        current = await _consent.latest(member.id)
        if current is not None:
            await _consent.record(
                fresh.id,
                current.version,
                _consent.ConsentStatus(current.status),
                app.clock.now(),
                "unlink",
            )
        await app.audit.record(
            "privacy.unlink",
            actor=member.id,
            target=_target(member.id),
            platform=platform,
            new_member=fresh.id,
        )
    return fresh


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def export_member(app: App, member: Member) -> dict[str, Any]:
    """Everything Guyub holds about ``member``: core tables and every plugin's answer."""
    ids = await history_ids(member.id)
    accounts = await Account.filter(member_id=member.id).order_by("id")
    roles = await RoleGrant.filter(member_id=member.id).order_by("id")
    consents = await ConsentRecord.filter(member_id=member.id).order_by("id")
    conversations = await Conversation.filter(member_id=member.id).order_by("id")
    audit = await AuditEntry.filter(_about(ids)).order_by("at", "id")
    link_codes = await LinkCode.filter(Q(member_id__in=ids) | Q(claimed_by_id__in=ids))
    return {
        "format": "guyub-member-export/1",
        "generated_at": app.clock.now().isoformat(),
        "member": {
            "id": member.id,
            "earlier_ids": ids[1:],
            "display_name": member.display_name,
            "language": member.language,
            "region_code": member.region_code,
            "registered_at": _when(member.registered_at),
            "created_at": _when(member.created_at),
            "last_active_at": _when(member.last_active_at),
        },
        "accounts": [
            {
                "platform": a.platform,
                "platform_user_id": a.platform_user_id,
                "username": a.username,
                "display_name": a.display_name,
                "language": a.language,
                "dm_open": a.dm_open,
                "dm_chat_id": a.dm_chat_id,
                "created_at": _when(a.created_at),
                "last_seen_at": _when(a.last_seen_at),
            }
            for a in accounts
        ],
        "roles": [
            {
                "role": g.role,
                "scope": g.scope,
                "granted_by": g.granted_by_id,
                "created_at": _when(g.created_at),
            }
            for g in roles
        ],
        "consents": [
            {"version": c.version, "status": c.status, "at": _when(c.at), "channel": c.channel}
            for c in consents
        ],
        "conversations": [
            {"chat": c.chat_key, "flow": c.flow, "step": c.step, "data": c.data}
            for c in conversations
        ],
        "link_codes": [
            {
                "status": c.status,
                "created_at": _when(c.created_at),
                "expires_at": _when(c.expires_at),
            }
            for c in link_codes
        ],
        "audit": [
            {
                "at": _when(e.at),
                "action": e.action,
                "actor": e.actor_id,
                "target": e.target,
                "region": e.region_code,
                "details": e.details,
            }
            for e in audit
        ],
        "plugins": await app.plugins.export_member(member),
    }


async def resume_forget(ctx: JobContext) -> None:
    """The job that finishes a deletion a crash interrupted."""
    member = await Member.get_or_none(id=int(ctx.payload.get("member", 0)))
    if member is not None:
        await forget_member(ctx.app, member, reason=str(ctx.payload.get("reason", "resume")))


async def forget_member(app: App, member: Member, *, reason: str) -> str:
    """Delete ``member``'s personal data everywhere; returns a receipt number.

    Plugins delete theirs first (they get the member while it still exists). Audit entries
    by or about the member are kept for accountability but made anonymous (no actor, no
    target, no details). The deletion itself is logged with the receipt, never the data.
    """
    receipt = secrets.token_hex(4)
    ids = await history_ids(member.id)
    accounts = await Account.filter(member_id__in=ids).values_list(
        "platform", "platform_user_id", "dm_chat_id"
    )
    # Each account's user id and its private chat with the bot (the same on Telegram, a
    # channel of its own on Discord), bare and as ``platform:id``.
    needles = Needles(
        frozenset(ids),
        frozenset(
            text
            for platform, user_id, dm_chat in accounts
            for chat_id in {user_id, dm_chat}
            if chat_id
            for text in (str(chat_id), f"{platform}:{chat_id}")
        ),
    )
    # Resumable: if the process dies part way, this job finishes the deletion later (every
    # step below is idempotent; each plugin's part is one transaction).
    resume = f"{FORGET_KIND}:{member.id}"
    await app.scheduler.schedule(
        FORGET_KIND,
        app.clock.now() + RESUME_AFTER,
        {"member": member.id, "reason": reason},
        key=resume,
    )
    if member.region_code:
        # The member leaves their region first (e.g. its Discord role is taken back).
        old, member.region_code = member.region_code, None
        await app.plugins.member_region_changed(Context(app, member=member), member, old, None)
    failed = await app.plugins.forget_member(member)
    if failed:
        # The member stays until every plugin's part is done: the job retries it all.
        log.error("deletion of one member incomplete (%s); it resumes by job", ", ".join(failed))
        return receipt
    # Whatever the plugins overlooked: every other table, by what its columns can hold.
    swept = await sweep(_plugin_models(app), needles)
    if swept:
        log.info("forget sweep cleared rows the plugins left: %s", swept)
    async with in_transaction():
        # Jobs about the member (reminders, nudges) go, finished or not.
        for job_id, payload in await Job.exclude(kind=FORGET_KIND).values_list("id", "payload"):
            if _mentions(payload, needles):
                await Job.filter(id=job_id).delete()
        await Job.filter(idempotency_key=resume, status="pending").delete()
        await AuditEntry.filter(_about(ids), action__startswith="privacy.").delete()
        # An account split off from someone else keeps its id in their unlink entry.
        for entry in await AuditEntry.filter(action="privacy.unlink"):
            if (entry.details or {}).get("new_member") in ids:
                details = {k: v for k, v in entry.details.items() if k != "new_member"}
                await AuditEntry.filter(id=entry.id).update(details=details)
        await AuditEntry.filter(_about(ids)).update(
            actor_id=None, target="member:forgotten", details={"redacted": True}
        )
        await LinkCode.filter(Q(member_id__in=ids) | Q(claimed_by_id__in=ids)).delete()
        await ConsentRecord.filter(member_id__in=ids).delete()
        app.privacy.budget.drop(ids)
        await _ratelimit.forget([f"{kind}:{i}" for i in ids for kind in ("cmd", "link", "code")])
        await ButtonKey.filter(only_for__in=ids).delete()
        await RoleGrant.filter(granted_by_id__in=ids).update(granted_by_id=None)
        chats = await Conversation.filter(member_id__in=ids).values_list("chat_key", flat=True)
        await Conversation.filter(member_id__in=ids).delete()
        await FlowPrompt.filter(member_id__in=ids).delete()
        await RoleGrant.filter(member_id__in=ids).delete()
        await Account.filter(member_id__in=ids).delete()
        await Member.filter(id__in=ids).delete()
        # The caches' change log must not keep the member's ids or chat keys either.
        await app.cache.scrub([f"m:{i}" for i in ids] + [f"c:{c}" for c in chats])
        await app.audit.record(
            "privacy.forget", receipt=receipt, reason=reason, plugins=app.plugins.names()
        )
    log.info("personal data of one member deleted (%s, receipt %s)", reason, receipt)
    return receipt
