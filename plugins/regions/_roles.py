"""Region roles: a group bound with a platform role (``/region_link ... <@&role>`` on
Discord) gives that role to the members who live in its region, moves it when they move,
and takes it back when they leave (or are forgotten).

When a binding itself changes (a role linked, replaced or unlinked, a channel moved to
another region), the members already registered there are brought up to date by a durable
job, a page of members at a time: it survives restarts, and a page run twice changes
nothing (giving a role a member has, or taking one they lack, is a no-op)."""

from __future__ import annotations

import logging
import secrets

from core import (
    Account,
    App,
    Capability,
    ChatKind,
    ChatRef,
    DeliveryError,
    JobContext,
    JobKind,
    Member,
    UserRef,
    in_areas,
)
from plugins.regions.models import RegionChat

__all__ = ["SWEEP_KIND", "jobs", "move", "sweep_after_rebind"]

SWEEP_KIND = "regions:role_sweep"
#: Members handled by one run of the sweep; each role change is one platform call.
SWEEP_PAGE = 50

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


async def _apply(
    app: App, member_id: int, bound: RegionChat, role: str, user_id: str, *, give: bool
) -> None:
    adapter = app.adapters.get(bound.platform)
    if adapter is None or not adapter.supports(Capability.ROLES):
        return
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
            member_id,
            chat.key,
            exc_info=True,
        )


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
        if user_id is not None and bound.discord_role_id:
            await _apply(app, member.id, bound, bound.discord_role_id, user_id, give=give)


async def sweep_after_rebind(
    app: App,
    platform: str,
    chat_id: str,
    *,
    given: tuple[str | None, str | None],
    taken: tuple[str | None, str | None],
) -> None:
    """A binding of ``chat_id`` changed from ``taken`` (region, role) to ``given``: schedule
    the sweep that gives the new role to the members already in the new region and takes
    the old one from those of the old region (unless another binding still gives it)."""
    (new_region, new_role), (old_region, old_role) = given, taken
    if (new_region, new_role) == (old_region, old_role):
        return
    give = [new_role] if new_role and new_region else []
    take = [old_role] if old_role and old_region else []
    regions = sorted({r for r, role in (given, taken) if r and role})
    if not regions:
        return
    # Each rebind is its own sweep, even two at the same instant (a clock that stands
    # still in tests, a coarse one): the time plus a random part.
    stamp = f"{app.clock.now().timestamp():.6f}-{secrets.token_hex(4)}"
    await app.scheduler.schedule(
        SWEEP_KIND,
        app.clock.now(),
        {
            "platform": platform,
            "chat_id": chat_id,
            "regions": regions,
            "give": give,
            "take": take,
            "after": 0,
            "stamp": stamp,
        },
        key=f"{SWEEP_KIND}:{platform}:{chat_id}:{stamp}:0",
    )


async def run_sweep(job: JobContext) -> None:
    """One page of a role sweep; schedules the next page until the region is done."""
    payload = job.payload
    platform, chat_id = str(payload["platform"]), str(payload["chat_id"])
    give, take = [str(r) for r in payload["give"]], [str(r) for r in payload["take"]]
    after = int(payload["after"])
    page = await (
        Member.filter(in_areas(str(r) for r in payload["regions"]), id__gt=after)
        .order_by("id")
        .limit(SWEEP_PAGE)
        .values_list("id", "region_code")
    )
    if not page:
        return
    accounts = dict(
        await Account.filter(member_id__in=[m for m, _ in page], platform=platform).values_list(
            "member_id", "platform_user_id"
        )
    )
    # The roles each region is given now (the binding may have changed again meanwhile).
    bindings = await RegionChat.filter(platform=platform, discord_role_id__not_isnull=True)
    now_given: dict[str, set[str]] = {}
    for b in bindings:
        now_given.setdefault(b.region_code, set()).add(str(b.discord_role_id))
    target = RegionChat(platform=platform, chat_id=chat_id, region_code="")
    for member_id, region in page:
        user_id = accounts.get(member_id)
        if user_id is None:
            continue
        wanted = set().union(*(now_given.get(a, set()) for a in _areas(region)))
        for role in give:
            if role in wanted:
                await _apply(job.app, member_id, target, role, user_id, give=True)
        for role in take:
            if role not in wanted:
                await _apply(job.app, member_id, target, role, user_id, give=False)
    last = page[-1][0]
    stamp = str(payload.get("stamp", ""))
    await job.app.scheduler.schedule(
        SWEEP_KIND,
        job.app.clock.now(),
        {**payload, "after": last},
        key=f"{SWEEP_KIND}:{platform}:{chat_id}:{stamp}:{last}",
    )


def jobs() -> list[JobKind]:
    return [JobKind(SWEEP_KIND, run_sweep)]
