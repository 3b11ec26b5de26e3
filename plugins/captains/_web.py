"""The dashboard's Broadcasts and Captains pages.

Broadcasts: the history with delivered / failed / unknown / unreachable per broadcast (the
outbox's own report), live progress (the page refreshes itself while sending, no script),
and the approval queue: an admin or a captain of the regions approves or rejects in the
browser under the rules of the chat's Approve button (never one's own broadcast, only
inside one's regions, one decision wins). Captains: every captain by region with their last
recorded action.
"""

from __future__ import annotations

import contextlib
from typing import Any

from aiohttp import web
from tortoise.functions import Max

from core import (
    App,
    AuditEntry,
    BatchReport,
    Context,
    Member,
    Message,
    Role,
    RoleGrant,
    Unreachable,
)
from core.web import (
    APP_KEY,
    DashboardPage,
    Viewer,
    dashboard_page,
    forbidden,
    record_page,
    render,
    see_other,
)
from plugins.captains._areas import names_of
from plugins.captains._broadcast import _body, _start, audience_of
from plugins.captains.models import Broadcast

__all__ = ["pages", "routes"]

#: Delivery states shown per broadcast; "unknown" is a send whose outcome nobody knows.
COLUMNS = ("sent", "failed", "unknown", "unreachable", "cancelled")


def _sees(viewer: Viewer, broadcast: Broadcast) -> bool:
    regions = broadcast.regions or [""]
    return all(viewer.sees(code) for code in regions) if regions != [""] else viewer.is_admin


async def _may_decide(app: App, viewer: Viewer, broadcast: Broadcast) -> bool:
    """The chat's Approve rule: not the sender, and managing every region of it."""
    if broadcast.sender_id == viewer.member_id:
        return False
    for code in broadcast.regions or [""]:
        if not await app.roles.can_manage(viewer.member_id, code):
            return False
    return True


async def _summary(app: App, broadcast: Broadcast) -> dict[str, Any]:
    report: BatchReport | None = None
    if broadcast.batch_id is not None:
        report = await app.outbox.report(broadcast.batch_id)
    sender = await Member.get_or_none(id=broadcast.sender_id or 0)
    return {
        "b": broadcast,
        "sender": sender.display_name if sender else "–",
        "regions": ", ".join([await names_of(app, c) for c in broadcast.regions]),
        "report": report,
        "counts": {c: report.count(c) if report else 0 for c in COLUMNS},
        "remaining": report.remaining if report else 0,
        "total": report.total if report else 0,
        "platforms": [
            {"platform": p, **{c: report.count(c, platform=p) for c in COLUMNS}}
            for p in report.platforms()
        ]
        if report is not None
        else [],
    }


@dashboard_page()
async def broadcasts_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    app = request.app[APP_KEY]
    found = [b for b in await Broadcast.all().order_by("-id").limit(500) if _sees(viewer, b)]
    queue = []
    for b in found:
        if b.status == "approval":
            queue.append(
                {**await _summary(app, b), "may_decide": await _may_decide(app, viewer, b)}
            )
    history = [await _summary(app, b) for b in found if b.status != "draft"][:100]
    return await render(request, "broadcasts.html", queue=queue, history=history)


def _region(broadcast: Broadcast) -> str | None:
    """The region a refusal about the broadcast is audited under: its first."""
    return (broadcast.regions or [""])[0] or None


#: A page about one broadcast (``/dasbor/broadcasts/{id}``): 404 if none, 403 if not seen.
broadcast_page_of = record_page(
    lambda number: Broadcast.get_or_none(id=number), visible=_sees, region=_region
)


@broadcast_page_of
async def broadcast_page(
    request: web.Request, viewer: Viewer, broadcast: Broadcast
) -> web.StreamResponse:
    app = request.app[APP_KEY]
    summary = await _summary(app, broadcast)
    return await render(
        request,
        "broadcast.html",
        item=summary,
        body=str(await _body(app, broadcast)),
        may_decide=broadcast.status == "approval" and await _may_decide(app, viewer, broadcast),
        refresh=broadcast.status == "sending",
    )


@broadcast_page_of
async def decide(request: web.Request, viewer: Viewer, broadcast: Broadcast) -> web.StreamResponse:
    """POST approve / reject (the CSRF token is checked by ``dashboard_page``)."""
    app = request.app[APP_KEY]
    region = _region(broadcast)
    if not await _may_decide(app, viewer, broadcast):
        return await forbidden(request, viewer, region=region, why="may not decide")
    approver = await Member.get(id=viewer.member_id)
    approve = request.match_info["decision"] == "approve"
    # One decision wins: only a broadcast still waiting moves.
    moved = await Broadcast.filter(id=broadcast.id, status="approval").update(
        status="sending" if approve else "cancelled", approved_by_id=viewer.member_id
    )
    if not moved:
        return see_other(f"/dasbor/broadcasts/{broadcast.id}")
    await app.audit.record(
        "captains.broadcast.approved" if approve else "captains.broadcast.rejected",
        actor=viewer.member_id,
        target=f"broadcast:{broadcast.id}",
        region=region,
        via="web",
    )
    if approve:
        broadcast = await Broadcast.get(id=broadcast.id)
        sender = await Member.get_or_none(id=broadcast.sender_id or 0)
        # Progress goes to the sender's private chat, as when approved in chat.
        ctx = Context(app, member=approver)
        await _start(
            ctx, broadcast, await audience_of(app, broadcast.regions), sender=sender or approver
        )
    else:
        await _tell_sender(app, broadcast, approver)
    return see_other(f"/dasbor/broadcasts/{broadcast.id}")


async def _tell_sender(app: App, broadcast: Broadcast, approver: Member) -> None:
    sender = await Member.get_or_none(id=broadcast.sender_id or 0)
    if sender is None:
        return
    text = app.translator(
        "captains.web.rejected_dm", sender.language, id=broadcast.id, by=approver.display_name
    )
    with contextlib.suppress(Unreachable):
        await app.send_dm(sender, Message(text))


@dashboard_page()
async def captains_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    app = request.app[APP_KEY]
    grants = await RoleGrant.filter(role=Role.CAPTAIN.label).prefetch_related("member")
    grants = [g for g in grants if viewer.sees(g.scope)]
    last = {
        int(row["actor_id"]): row["last"]
        for row in await AuditEntry.filter(actor_id__in=[g.member_id for g in grants])
        .annotate(last=Max("at"))
        .group_by("actor_id")
        .values("actor_id", "last")
    }
    latest: dict[int, AuditEntry] = {}
    for member_id, at in last.items():
        entry = await AuditEntry.filter(actor_id=member_id, at=at).order_by("-id").first()
        if entry is not None:
            latest[member_id] = entry
    rows = [
        {
            "scope": g.scope,
            "region": await names_of(app, g.scope),
            "name": g.member.display_name or f"#{g.member_id}",
            "member_id": g.member_id,
            "since": g.created_at,
            "last": latest.get(g.member_id),
        }
        for g in grants
    ]
    rows.sort(key=lambda r: (str(r["scope"]), str(r["name"])))
    return await render(request, "captains.html", rows=rows)


def routes() -> list[web.RouteDef]:
    return [
        web.get("/dasbor/broadcasts", broadcasts_page),
        web.get("/dasbor/broadcasts/{id}", broadcast_page),
        web.post(r"/dasbor/broadcasts/{id}/{decision:approve|reject}", decide),
        web.get("/dasbor/captains", captains_page),
    ]


def pages() -> list[DashboardPage]:
    return [
        DashboardPage(
            "/dasbor/broadcasts",
            "captains.web.nav_broadcasts",
            templates="plugins.captains",
            order=40,
        ),
        DashboardPage(
            "/dasbor/captains", "captains.web.nav_captains", templates="plugins.captains", order=50
        ),
    ]
