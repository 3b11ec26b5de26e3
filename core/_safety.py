"""What the core does when a member types a secret (see :mod:`core._sensitive`).

A flow answer or a message holding a NIK, an OTP code, a password, a phone or a card number
never reaches a plugin, so it is never stored and never echoed. In a private chat the member
is told it was not kept. In a group the bot answers with the joki warning (at most once per
chat per cool-down, so a wave of posts doesn't become a wave of warnings) and deletes the
message where it may (``[safety] delete_secret_messages``). Each catch is written to the
audit log under the member's region (action ``safety.secret``, the kind only), which is what
captains' counts read.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from core._adapter import Capability, DeliveryError
from core._events import MessageReceived
from core._sensitive import SecretKind
from core.models import AuditEntry

if TYPE_CHECKING:
    from core._app import App
    from core._context import Context

__all__ = ["SECRET_ACTION", "Safety"]

log = logging.getLogger(__name__)

SECRET_ACTION = "safety.secret"


class Safety:
    """Handles caught secrets for one App."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._warned: dict[str, float] = {}

    async def caught(self, ctx: Context, event: MessageReceived, kind: SecretKind) -> None:
        """``event`` holds a secret of ``kind``: record it, then delete and warn (groups) or
        tell the member it was not kept (private chats). The text itself goes nowhere."""
        member = ctx.member
        region = member.region_code if member is not None else None
        await self.app.audit.record(
            SECRET_ACTION, actor=member, target=event.chat.key, region=region, kind=kind.value
        )
        what = ctx.t(f"core.secret.kind.{kind.value}")
        if event.chat.is_dm:
            await ctx.reply(ctx.t("core.secret.not_kept", what=what))
            return
        settings = self.app.settings.safety
        deleted = False
        if (
            settings.delete_secret_messages
            and event.message is not None
            and ctx.supports(Capability.DELETE_MESSAGES)
        ):
            deleted = await self._delete(ctx, event)
        now = self.app.clock.now().timestamp()
        last = self._warned.get(event.chat.key)
        if last is not None and now - last < settings.group_warning_cooldown_seconds:
            return
        self._warned[event.chat.key] = now
        key = "core.secret.group_deleted" if deleted else "core.secret.group_warning"
        await ctx.reply(ctx.t(key, what=what))

    async def _delete(self, ctx: Context, event: MessageReceived) -> bool:
        assert ctx.adapter is not None
        assert event.message is not None
        try:
            await ctx.adapter.delete(event.message)
        except DeliveryError as exc:
            # Not an admin there (or the message is gone): the warning still goes out.
            log.info("could not delete a message with a secret in %s: %s", event.chat.key, exc)
            return False
        return True

    async def counts(self, scopes: Sequence[str] | None) -> dict[str, int]:
        """Secrets caught per kind, among members of regions under ``scopes`` (None: all)."""
        query = AuditEntry.filter(action=SECRET_ACTION)
        rows = await query.values_list("region_code", "details")
        out: dict[str, int] = {}
        for region, details in rows:
            if scopes is not None and not any(
                s == "" or (region or "") == s or (region or "").startswith(s + ".") for s in scopes
            ):
                continue
            kind = str((details or {}).get("kind", ""))
            out[kind] = out.get(kind, 0) + 1
        return out
