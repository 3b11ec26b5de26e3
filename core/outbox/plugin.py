"""The outbox's part in privacy, as a core plugin (always loaded): delivery rows name who
got a message, so they are exported and forgotten with the member and deleted after the
retention period (``privacy.delivered_outbox_days``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from tortoise.expressions import Q

from core._events import ChatKind
from core._specs import PluginInfo
from core.hookspecs import hookimpl
from core.models import Account, Member
from core.outbox._outbox import BatchStatus
from core.outbox.models import Delivery, OutboxBatch

if TYPE_CHECKING:
    from core._app import App
    from core.privacy._retention import RetentionPolicy

PLUGIN = PluginInfo(
    name="outbox",
    version="0.1.0",
    description="Durable, paced delivery: member data and retention of delivered rows",
)


async def _rows_of(member: Member) -> Q | None:
    accounts = await Account.filter(member_id=member.id)
    if not accounts:
        return None
    query = Q(account_id__in=[a.id for a in accounts])
    for account in accounts:
        query |= Q(
            platform=account.platform,
            chat_kind=ChatKind.DM.value,
            target=account.platform_user_id,
        )
    return query


@hookimpl
async def guyub_export_member(member: Member) -> dict[str, Any] | None:
    query = await _rows_of(member)
    if query is None:
        return None
    rows = await Delivery.filter(query).order_by("id").limit(1000)
    if not rows:
        return None
    kinds = dict(
        await OutboxBatch.filter(id__in={r.batch_id for r in rows}).values_list("id", "kind")
    )
    return {
        "deliveries": [
            {
                "kind": kinds.get(r.batch_id, ""),
                "platform": r.platform,
                "status": r.status,
                "sent_at": r.sent_at.isoformat() if r.sent_at else None,
            }
            for r in rows
        ]
    }


@hookimpl
async def guyub_forget_member(member: Member) -> None:
    query = await _rows_of(member)
    if query is not None:
        await Delivery.filter(query).delete()


@hookimpl
async def guyub_apply_retention(app: App, policy: RetentionPolicy) -> dict[str, int] | None:
    if policy.delivered_outbox_before is None:
        return None
    old = await OutboxBatch.filter(
        status__in=(BatchStatus.DONE, BatchStatus.CANCELLED),
        finished_at__lt=policy.delivered_outbox_before,
    ).values_list("id", flat=True)
    ids = cast(list[int], list(old))
    if not ids:
        return None  # nothing to report in the audit log
    deliveries = await Delivery.filter(batch_id__in=ids).delete()
    batches = await OutboxBatch.filter(id__in=ids).delete()
    return {"outbox_deliveries": deliveries, "outbox_batches": batches}
