"""Region roles: a group bound with a platform role (``/region_link ... <@&role>`` on
Discord) gives that role to the members who live in its region, moves it when they move,
and takes it back when they leave (or are forgotten)."""

from __future__ import annotations

import logging

from core import Account, App, Capability, ChatKind, ChatRef, DeliveryError, Member, UserRef
from plugins.regions.models import RegionChat

__all__ = ["move"]

log = logging.getLogger(__name__)


def _areas(code: str | None) -> list[str]:
    """The region and the province it lies in (a province group's role covers it too)."""
    if not code:
        return []
    province = code.split(".", 1)[0]
    return [code] if province == code else [code, province]


async def _bound(codes: list[str]) -> list[RegionChat]:
    if not codes:
        return []
    return list(await RegionChat.filter(region_code__in=codes, discord_role_id__not_isnull=True))


async def move(app: App, member: Member, old: str | None, new: str | None) -> None:
    """Take the roles of ``old``'s groups that ``new`` doesn't keep; give ``new``'s."""
    leaving = await _bound(_areas(old))
    joining = await _bound(_areas(new))
    kept = {(c.platform, c.chat_id, c.discord_role_id) for c in joining}
    changes = [
        (c, False) for c in leaving if (c.platform, c.chat_id, c.discord_role_id) not in kept
    ]
    changes += [(c, True) for c in joining]
    if not changes:
        return
    accounts = {a.platform: a.platform_user_id for a in await Account.filter(member_id=member.id)}
    for bound, give in changes:
        user_id = accounts.get(bound.platform)
        adapter = app.adapters.get(bound.platform)
        role = bound.discord_role_id
        if user_id is None or adapter is None or not role:
            continue
        if not adapter.supports(Capability.ROLES):
            continue
        chat = ChatRef(bound.platform, bound.chat_id, ChatKind.GROUP)
        user = UserRef(bound.platform, user_id)
        try:
            if give:
                await adapter.add_role(chat, user, role)
            else:
                await adapter.remove_role(chat, user, role)
        except DeliveryError:
            # NotSupported included: the bot lacks Manage Roles, or the role is gone.
            log.warning(
                "region role %s not %s for member %s in %s",
                role,
                "given" if give else "taken",
                member.id,
                chat.key,
                exc_info=True,
            )
