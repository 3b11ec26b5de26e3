"""/broadcast: write once, preview the audience, confirm, and the core outbox delivers.

Steps: ``/broadcast [REGIONS]`` in a private chat → the bot asks for the message → a
preview with the audience per platform (and who can't be reached by DM) and buttons to
choose groups, DMs or both → Send. Above ``captains.approval_threshold`` members a second
captain of the region or an admin approves first. Progress is one message, edited; the
final report goes to the sender per platform and region; Stop cancels what is not sent.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from core import (
    App,
    BatchReport,
    Button,
    Capability,
    ChatKind,
    ChatRef,
    Context,
    Markup,
    Member,
    Message,
    MessageRef,
    OutboxBatch,
    PermissionDenied,
    Recipient,
    Role,
    Unreachable,
    in_areas,
)
from plugins.captains._areas import area_codes_below, names_of, parse_areas
from plugins.captains.models import Broadcast

__all__ = [
    "ACTION",
    "FLOW",
    "KIND",
    "Audience",
    "audience_of",
    "broadcast_command",
    "broadcast_flow",
    "on_button",
    "on_progress",
    "plan",
]

log = logging.getLogger(__name__)

FLOW = "captains:broadcast"
ACTION = "captains:broadcast"
KIND = "captains:broadcast"
MODES = ("groups", "dms", "both")


@dataclass
class Audience:
    """Who a broadcast reaches: one private chat per member of the areas (counted in the
    database: a province is 440,000 members), and the areas' groups."""

    #: the members, as a query of their ids (the outbox plans their DMs from it)
    member_ids: Any = None
    groups: list[Recipient] = field(default_factory=list)
    members: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    unreachable: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    group_count: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def member_total(self) -> int:
        return sum(self.members.values())

    def platforms(self) -> list[str]:
        return sorted(set(self.members) | set(self.group_count))


async def audience_of(app: App, codes: Sequence[str]) -> Audience:
    """Every member in the areas (one account each: one already open for DMs first, the
    outbox's choice) and every group bound to the areas or the regions inside them."""
    audience = Audience(member_ids=Member.filter(in_areas(codes)).values("id"))
    for platform, (total, unreachable) in (
        await app.outbox.dm_audience(audience.member_ids)
    ).items():
        audience.members[platform] = total
        audience.unreachable[platform] = unreachable
    seen: set[ChatRef] = set()
    for code in await area_codes_below(codes):
        for chat in await app.regions.chats(code):
            if chat in seen or chat.platform not in app.adapters:
                continue
            seen.add(chat)
            audience.group_count[chat.platform] += 1
            audience.groups.append(Recipient(chat.platform, chat.id, ChatKind.GROUP, code))
    return audience


async def plan(
    app: App,
    broadcast: Broadcast,
    audience: Audience,
    message: Message,
) -> OutboxBatch:
    """The broadcast's deliveries, stored before anything is sent (one transaction): the
    groups, and one private chat per member planned by one ``INSERT ... SELECT``. The key
    makes planning again return the same batch."""
    groups = audience.groups if broadcast.mode in ("groups", "both") else []
    members = audience.member_ids if broadcast.mode in ("dms", "both") else None
    return await app.outbox.enqueue(
        KIND,
        message,
        groups,
        members=members,
        key=f"captains:broadcast:{broadcast.id}",
        meta={"broadcast": broadcast.id},
    )


# --- command and flow --------------------------------------------------------------------


async def broadcast_command(ctx: Context, region: str | None = None) -> None:
    assert ctx.member is not None
    areas = await parse_areas(ctx, region)
    broadcast = await Broadcast.create(
        sender_id=ctx.member.id,
        regions=[a.code for a in areas],
        lang=ctx.lang,
        created_at=ctx.now(),
    )
    await ctx.start_flow(FLOW, "text", broadcast=broadcast.id)
    names = ", ".join(a.name for a in areas)
    await ctx.reply(ctx.t("captains.broadcast.ask_text", regions=names))


async def broadcast_flow(ctx: Context, text: str) -> None:
    assert ctx.conversation is not None
    broadcast = await Broadcast.get_or_none(id=ctx.conversation.data.get("broadcast"))
    await ctx.end_flow()
    if broadcast is None or broadcast.status != "draft":
        await ctx.reply(ctx.t("captains.broadcast.gone"))
        return
    broadcast.text = text.strip()
    await broadcast.save(update_fields=["text"])
    await _show_preview(ctx, broadcast, None)


async def _preview(ctx: Context, broadcast: Broadcast) -> tuple[Markup, list[list[Button]]]:
    audience = await audience_of(ctx.app, broadcast.regions)
    names = ", ".join([await names_of(ctx.app, c) for c in broadcast.regions])
    lines = [
        ctx.t("captains.broadcast.preview_title", regions=names),
        Markup("\n") + await _body(ctx.app, broadcast) + Markup("\n"),
        ctx.t("captains.broadcast.audience", members=audience.member_total),
    ]
    for platform in audience.platforms():
        lines.append(
            ctx.t(
                "captains.broadcast.audience_platform",
                platform=platform,
                members=audience.members.get(platform, 0),
                unreachable=audience.unreachable.get(platform, 0),
                groups=audience.group_count.get(platform, 0),
            )
        )
    lines.append(ctx.t("captains.broadcast.mode", mode=ctx.t(f"captains.mode.{broadcast.mode}")))
    threshold = ctx.settings("captains").approval_threshold
    needs_approval = audience.member_total > threshold and not await ctx.roles.is_admin(
        broadcast.sender_id or 0
    )
    if needs_approval:
        lines.append(ctx.t("captains.broadcast.needs_approval", threshold=threshold))
    me = ctx.member.id if ctx.member else None

    def button(label: str, do: str, **extra: Any) -> Button:
        return Button(label, ACTION, {"b": broadcast.id, "do": do, **extra}, only_for=me)

    modes = [
        button(
            ("• " if m == broadcast.mode else "") + str(ctx.t(f"captains.mode.{m}")), "mode", mode=m
        )
        for m in MODES
    ]
    actions = [
        button(str(ctx.t("captains.button.send")), "send"),
        button(str(ctx.t("captains.button.cancel")), "cancel"),
    ]
    return Markup("\n").join(lines), [modes, actions]


async def _show_preview(ctx: Context, broadcast: Broadcast, edit: MessageRef | None) -> None:
    text, buttons = await _preview(ctx, broadcast)
    if edit is not None and ctx.supports(Capability.EDIT_MESSAGES):
        await ctx.edit(edit, text, buttons=buttons)
    else:
        await ctx.reply(text, buttons=buttons)


async def _body(app: App, broadcast: Broadcast) -> Markup:
    names = ", ".join([await names_of(app, c) for c in broadcast.regions])
    header = app.translator("captains.broadcast.header", broadcast.lang, regions=names)
    return header + Markup("\n") + Message.of(broadcast.text).text


# --- buttons -----------------------------------------------------------------------------


async def on_button(ctx: Context, data: dict[str, Any]) -> None:
    assert ctx.member is not None
    broadcast = await Broadcast.get_or_none(id=int(data.get("b", 0)))
    if broadcast is None:
        await ctx.reply(ctx.t("captains.broadcast.gone"))
        return
    do = str(data.get("do", ""))
    message = getattr(ctx.event, "message", None)
    if do == "approve":
        await _approve(ctx, broadcast)
        return
    if broadcast.sender_id != ctx.member.id:
        raise PermissionDenied("core.error.not_your_button")
    if do == "stop":
        await _stop(ctx, broadcast)
        return
    if do == "send" and broadcast.status == "sending" and broadcast.batch_id is None:
        # Started, then the process died before its deliveries were stored: start it
        # again (the batch key makes this safe however often it is pressed).
        await _check_scope(ctx, broadcast)
        await _start(ctx, broadcast, await audience_of(ctx.app, broadcast.regions))
        return
    if broadcast.status != "draft":
        await ctx.reply(ctx.t(f"captains.broadcast.status_{broadcast.status}"))
        return
    if do == "mode" and data.get("mode") in MODES:
        broadcast.mode = str(data["mode"])
        await broadcast.save(update_fields=["mode"])
        await _show_preview(ctx, broadcast, message)
    elif do == "cancel":
        await Broadcast.filter(id=broadcast.id, status="draft").update(status="cancelled")
        await ctx.reply(ctx.t("captains.broadcast.cancelled_draft"))
    elif do == "send":
        await _confirm(ctx, broadcast)


async def _check_scope(ctx: Context, broadcast: Broadcast) -> None:
    # Checked again at send time: a captain removed since the draft can't send it.
    for code in broadcast.regions:
        await ctx.require_region(code)


async def _confirm(ctx: Context, broadcast: Broadcast) -> None:
    assert ctx.member is not None
    await _check_scope(ctx, broadcast)
    audience = await audience_of(ctx.app, broadcast.regions)
    threshold = ctx.settings("captains").approval_threshold
    if audience.member_total > threshold and not await ctx.roles.is_admin(ctx.member.id):
        moved = await Broadcast.filter(id=broadcast.id, status="draft").update(
            status="approval", audience=audience.member_total
        )
        if not moved:
            return
        await _ask_approval(ctx, broadcast, audience.member_total)
        await ctx.reply(ctx.t("captains.broadcast.waiting_approval", members=audience.member_total))
        return
    if await Broadcast.filter(id=broadcast.id, status="draft").update(status="sending"):
        await _start(ctx, broadcast, audience)


async def _ask_approval(ctx: Context, broadcast: Broadcast, members: int) -> None:
    assert ctx.member is not None
    approvers: dict[int, Member] = {}
    for code in broadcast.regions:
        for captain in await ctx.roles.captains_of(code) if code else []:
            approvers[captain.id] = captain
    for admin_id in await ctx.roles.members_with(Role.ADMIN):
        member = await Member.get_or_none(id=admin_id)
        if member is not None:
            approvers[member.id] = member
    approvers.pop(ctx.member.id, None)
    names = ", ".join([await names_of(ctx.app, c) for c in broadcast.regions])
    for approver in approvers.values():
        text = ctx.app.translator(
            "captains.broadcast.approve_ask",
            approver.language,
            sender=ctx.member.display_name,
            members=members,
            regions=names,
        )
        body = await _body(ctx.app, broadcast)
        label = ctx.app.translator("captains.button.approve", approver.language)
        try:
            await ctx.send_dm(
                approver,
                text + Markup("\n\n") + body,
                buttons=[Button(str(label), ACTION, {"b": broadcast.id, "do": "approve"})],
            )
        except Unreachable:
            continue
    await ctx.audit(
        "captains.broadcast.approval_requested",
        target=f"broadcast:{broadcast.id}",
        region=broadcast.regions[0] or None,
        members=members,
    )


async def _approve(ctx: Context, broadcast: Broadcast) -> None:
    assert ctx.member is not None
    if broadcast.sender_id == ctx.member.id:
        raise PermissionDenied("captains.broadcast.not_own_approval")
    for code in broadcast.regions:
        await ctx.require_region(code)
    moved = await Broadcast.filter(id=broadcast.id, status="approval").update(
        status="sending", approved_by_id=ctx.member.id
    )
    if not moved:
        await ctx.reply(ctx.t(f"captains.broadcast.status_{broadcast.status}"))
        return
    await ctx.audit(
        "captains.broadcast.approved",
        target=f"broadcast:{broadcast.id}",
        region=broadcast.regions[0] or None,
    )
    await ctx.reply(ctx.t("captains.broadcast.approved"))
    sender = await Member.get_or_none(id=broadcast.sender_id or 0)
    audience = await audience_of(ctx.app, broadcast.regions)
    await _start(ctx, broadcast, audience, sender=sender)


async def _start(
    ctx: Context, broadcast: Broadcast, audience: Audience, *, sender: Member | None = None
) -> None:
    """Hand the broadcast to the outbox and show the sender a progress message."""
    app = ctx.app
    lang = broadcast.lang
    stop = Button(
        str(app.translator("captains.button.stop", lang)),
        ACTION,
        {"b": broadcast.id, "do": "stop"},
        only_for=broadcast.sender_id,
    )
    # The deliveries exist before anything is sent (one transaction; the key makes a second
    # start return the same batch), so no failure below can strand or double the broadcast.
    batch = await plan(app, broadcast, audience, Message(await _body(app, broadcast)))
    await Broadcast.filter(id=broadcast.id).update(
        batch_id=batch.id, audience=audience.member_total, started_at=ctx.now()
    )
    await app.audit.record(
        "captains.broadcast.sent",
        actor=broadcast.sender_id,
        target=f"broadcast:{broadcast.id}",
        region=broadcast.regions[0] or None,
        regions=broadcast.regions,
        mode=broadcast.mode,
        recipients=batch.total,
        approved_by=broadcast.approved_by_id,
    )
    text = app.translator("captains.progress.starting", lang, total=batch.total)
    ref: MessageRef | None = None
    try:
        if sender is None:
            ref = await ctx.reply(text, buttons=[stop])
        else:
            ref = await ctx.send_dm(sender, text, buttons=[stop])
    except Exception:
        # A courtesy: the broadcast goes out anyway and the final report comes by DM.
        log.warning("progress message of broadcast %s failed", broadcast.id, exc_info=True)
    if ref is not None and ref.id:
        progress = {
            "platform": ref.chat.platform,
            "chat": ref.chat.id,
            "kind": ref.chat.kind.value,
            "message": ref.id,
        }
        await Broadcast.filter(id=broadcast.id).update(progress=progress)


async def _stop(ctx: Context, broadcast: Broadcast) -> None:
    if broadcast.status != "sending" or broadcast.batch_id is None:
        await ctx.reply(ctx.t(f"captains.broadcast.status_{broadcast.status}"))
        return
    cancelled = await ctx.outbox.cancel(broadcast.batch_id)
    await Broadcast.filter(id=broadcast.id, status="sending").update(status="cancelled")
    await ctx.audit(
        "captains.broadcast.stopped",
        target=f"broadcast:{broadcast.id}",
        region=broadcast.regions[0] or None,
        cancelled=cancelled,
    )
    report = await ctx.outbox.report(broadcast.batch_id)
    await ctx.reply(ctx.t("captains.broadcast.stopped", sent=report.sent, cancelled=cancelled))


# --- progress from the outbox --------------------------------------------------------------


def on_progress(app: App) -> Any:
    """The outbox callback for broadcast batches (registered at start-up)."""

    async def progress(batch: OutboxBatch, report: BatchReport, finished: bool) -> None:
        broadcast = await Broadcast.get_or_none(id=int(batch.meta.get("broadcast", 0)))
        if broadcast is None:
            return
        lang = broadcast.lang
        if not finished and report.remaining == 0:
            return  # the final report follows at once
        if finished:
            await Broadcast.filter(id=broadcast.id, status="sending").update(status="done")
            text = app.translator(
                "captains.progress.done",
                lang,
                sent=report.sent,
                failed=report.failed,
                unknown=report.unknown,
                unreachable=report.unreachable,
                total=report.total,
            )
        else:
            text = app.translator(
                "captains.progress.running",
                lang,
                sent=report.sent,
                failed=report.failed + report.unreachable,
                unknown=report.unknown,
                remaining=report.remaining,
                total=report.total,
                eta=_eta(app, broadcast, report),
            )
        ref = _progress_ref(broadcast)
        if ref is not None:
            buttons: list[Button] = []
            if not finished:
                buttons = [
                    Button(
                        str(app.translator("captains.button.stop", lang)),
                        ACTION,
                        {"b": broadcast.id, "do": "stop"},
                        only_for=broadcast.sender_id,
                    )
                ]
            try:
                await app.edit(ref, Message.of(text, buttons=buttons) if buttons else Message(text))
            except Exception:
                # Progress is a courtesy: a platform that can't edit gets the final report.
                if not finished:
                    return
        if finished and ref is not None:
            await app.send(ref.chat, Message(await final_report(app, broadcast, report)))
        elif finished and broadcast.sender_id is not None:
            # No progress message to edit (it failed): the sender still gets the report.
            body = Markup("\n\n").join([text, await final_report(app, broadcast, report)])
            try:
                await app.send_dm(broadcast.sender_id, Message(body))
            except Unreachable:
                log.warning("broadcast %s: the sender cannot be told the report", broadcast.id)

    return progress


def _progress_ref(broadcast: Broadcast) -> MessageRef | None:
    p = broadcast.progress or {}
    if not p.get("message"):
        return None
    return MessageRef(ChatRef(p["platform"], p["chat"], ChatKind(p["kind"])), str(p["message"]))


def _eta(app: App, broadcast: Broadcast, report: BatchReport) -> str:
    if broadcast.started_at is None:
        return "-"
    elapsed = (app.clock.now() - broadcast.started_at).total_seconds()
    done = report.total - report.remaining
    if done <= 0 or elapsed <= 0:
        return "-"
    seconds = int(report.remaining * elapsed / done)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


async def final_report(app: App, broadcast: Broadcast, report: BatchReport) -> Markup:
    lang = broadcast.lang
    lines = [app.translator("captains.report.title", lang, id=broadcast.id)]
    for platform in report.platforms():
        lines.append(
            app.translator(
                "captains.report.platform",
                lang,
                platform=platform,
                sent=report.count("sent", platform=platform),
                failed=report.count("failed", platform=platform),
                unknown=report.count("unknown", platform=platform),
                unreachable=report.count("unreachable", platform=platform),
            )
        )
        for region in report.regions(platform):
            lines.append(
                app.translator(
                    "captains.report.region",
                    lang,
                    region=await names_of(app, region) if region else "-",
                    sent=report.count("sent", platform=platform, region=region),
                    failed=report.count("failed", platform=platform, region=region),
                    unknown=report.count("unknown", platform=platform, region=region),
                    unreachable=report.count("unreachable", platform=platform, region=region),
                )
            )
    if report.unknown:
        lines.append(app.translator("captains.report.unknown", lang))
    return Markup("\n").join(lines)
