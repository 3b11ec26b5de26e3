"""Onboarding: from a join to a registered member with a region.

A welcome in the group (rules, a *joki* warning and a way into registration), an optional
"I'm human" gate, a persisted registration flow in the private chat, at most two nudges,
``/profile`` to change answers later, and a digest to the region's captains. Regions are
matched through the core service ``ctx.regions``; this plugin imports no other plugin.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from core import (
    Action,
    App,
    Button,
    Capability,
    ChatKind,
    ChatRef,
    Command,
    Context,
    Flow,
    JobContext,
    JobKind,
    Markup,
    Member,
    MemberJoined,
    MemberLeft,
    ModelModule,
    NotSupported,
    PluginInfo,
    Role,
    Unreachable,
    UserRef,
    Where,
    hookimpl,
    load_texts,
)
from plugins.onboarding import _flow
from plugins.onboarding._flow import FLOW, settings
from plugins.onboarding._settings import OnboardingSettings
from plugins.onboarding.models import PendingNotice, Profile

PLUGIN = PluginInfo(
    name="onboarding",
    version="0.1.0",
    description="Welcome, anti-spam gate, registration flow, nudges and /profile",
    requires=("regions",),  # a member can't finish registering without region matching
)

log = logging.getLogger(__name__)

_LANGUAGES = ("id", "en")


# --- registration -----------------------------------------------------------------------


@hookimpl
def guyub_register_models() -> Sequence[ModelModule]:
    return [
        ModelModule(
            app="onboarding",
            models=("plugins.onboarding.models",),
            migrations="plugins.onboarding.migrations",
        )
    ]


@hookimpl
def guyub_register_settings() -> type[Any] | None:
    return OnboardingSettings


@hookimpl
def guyub_register_texts() -> dict[str, dict[str, str]]:
    return load_texts(__name__)


@hookimpl
def guyub_register_flows() -> Sequence[Flow]:
    return [Flow(FLOW, _flow.handle_text, asks=_flow.STEPS)]


@hookimpl
def guyub_register_commands() -> Sequence[Command]:
    return [
        Command("profile", profile, "onboarding.cmd.profile", alias="profil", where=Where.DM),
        # Anywhere: from a group the registration moves to the member's private chat.
        Command("register", register, "onboarding.cmd.register", alias="daftar", private=True),
    ]


@hookimpl
def guyub_register_actions() -> Sequence[Action]:
    return [
        Action("onboarding:begin", _begin_pressed),
        Action("onboarding:resume", _begin_pressed),
        Action("onboarding:human", _human),
        Action("onboarding:consent", _consent),
        Action("onboarding:keep_name", _keep_name),
        Action("onboarding:region", _region),
        Action("onboarding:region_retry", _region_retry),
        Action("onboarding:skip", _skip),
        Action("onboarding:language", _language),
        Action("onboarding:edit", _edit),
    ]


@hookimpl
def guyub_register_jobs() -> Sequence[JobKind]:
    return [
        JobKind("onboarding:nudge", _nudge, late_after=24 * 3600),
        # After a long outage nobody could press the button: drop the removal instead.
        JobKind("onboarding:verify", _verify_expired, late_after=3600),
        JobKind("onboarding:digest", _digest),
    ]


# --- commands and /start -----------------------------------------------------------------


async def profile(ctx: Context) -> None:
    """/profile: show and edit the member's details, or carry on registering."""
    if _flow.is_registered(ctx.member):
        await _flow.show_profile(ctx)
    else:
        await _flow.begin(ctx)


async def register(ctx: Context) -> None:
    """/register: start (or continue) registration; registered members see their profile."""
    await _flow.begin(ctx)


@hookimpl
async def guyub_handle_start(ctx: Context, payload: str) -> bool | None:
    if payload not in ("", "onboard"):
        return None
    if _flow.is_registered(ctx.member) and payload == "":
        return None
    await _flow.begin(ctx)
    return True


# --- joining and leaving a group ---------------------------------------------------------


def _gate_applies(ctx: Context, chat: ChatRef) -> bool:
    config = settings(ctx)
    return config.verify_timeout > 0 and (
        not config.verify_groups or chat.key in config.verify_groups
    )


@hookimpl
async def guyub_on_member_joined(ctx: Context, event: MemberJoined) -> None:
    member = ctx.member
    if member is None or event.chat.is_dm:
        return
    if _flow.is_registered(member):
        await ctx.reply(ctx.t("onboarding.welcome_back", name=member.display_name))
        return
    config = settings(ctx)
    rules: Markup | str = config.rules or ctx.t("onboarding.rules")
    parts = [
        ctx.t("onboarding.welcome", name=member.display_name),
        ctx.t("onboarding.rules_title"),
        rules,
        ctx.t("onboarding.joki"),
    ]
    link = ctx.adapter.dm_link("onboard") if ctx.adapter is not None else None
    register = (
        Button(ctx.t("onboarding.button.register"), url=link)
        if link
        else Button(ctx.t("onboarding.button.register"), "onboarding:begin", only_for=member.id)
    )
    buttons = [[register]]
    if _gate_applies(ctx, event.chat):
        if ctx.supports(Capability.KICK):
            minutes = config.verify_timeout
            parts.append(ctx.t("onboarding.verify.ask", minutes=minutes))
            buttons.insert(
                0,
                [
                    Button(
                        ctx.t("onboarding.verify.button"),
                        "onboarding:human",
                        {"chat": event.chat.key},
                        only_for=member.id,
                    )
                ],
            )
            await ctx.scheduler.schedule(
                "onboarding:verify",
                ctx.now() + timedelta(minutes=minutes),
                {
                    "member": member.id,
                    "platform": event.chat.platform,
                    "chat": event.chat.id,
                    "thread": event.chat.thread,
                    "user": event.user.ref.id,
                },
                key=_verify_key(event.chat, member.id),
            )
        else:
            log.info(
                "verify gate skipped in %s: the bot can't remove members there", event.chat.key
            )
    await ctx.reply(Markup("\n\n").join(parts), buttons=buttons)


def _verify_key(chat: ChatRef, member_id: int) -> str:
    return f"onboarding:verify:{chat.key}:{member_id}"


@hookimpl
async def guyub_on_member_left(ctx: Context, event: MemberLeft) -> None:
    if ctx.member is None or event.chat.is_dm:
        return
    await ctx.scheduler.cancel(_verify_key(event.chat, ctx.member.id))


async def _human(ctx: Context, data: dict[str, Any]) -> None:
    assert ctx.member is not None
    if ctx.chat is None or data.get("chat") != ctx.chat.key:
        return
    cancelled = await ctx.scheduler.cancel(_verify_key(ctx.chat, ctx.member.id))
    if cancelled:
        await ctx.reply(ctx.t("onboarding.verify.thanks", name=ctx.member.display_name))


async def _verify_expired(job: JobContext) -> None:
    payload = job.payload
    platform = str(payload["platform"])
    chat = ChatRef(platform, str(payload["chat"]), ChatKind.GROUP, thread=payload.get("thread"))
    adapter = job.app.adapters.get(platform)
    if adapter is None or not adapter.supports(Capability.KICK):
        log.warning("cannot remove unverified member %s from %s", payload["member"], chat.key)
        return
    try:
        await adapter.kick(chat, UserRef(platform, str(payload["user"])))
    except NotSupported:
        log.warning("%s refused to remove unverified member %s", chat.key, payload["member"])
        return
    await job.audit("onboarding.unverified_removed", target=f"member:{payload['member']}")
    log.info("removed unverified member %s from %s", payload["member"], chat.key)


# --- buttons of the flow -----------------------------------------------------------------


async def _at(ctx: Context, *steps: str) -> bool:
    """Whether the member's flow here is at one of ``steps``; otherwise say the button is
    old and ask the current question again."""
    conversation = ctx.conversation
    if conversation is not None and conversation.flow == FLOW and conversation.step in steps:
        return True
    await ctx.reply(ctx.t("onboarding.expired"))
    if conversation is not None and conversation.flow == FLOW:
        await _flow.prompt(ctx, conversation.step)
    return False


async def _begin_pressed(ctx: Context, data: dict[str, Any]) -> None:
    await _flow.begin(ctx)


async def _consent(ctx: Context, data: dict[str, Any]) -> None:
    if not await _at(ctx, "consent"):
        return
    assert ctx.conversation is not None
    if data.get("yes") and ctx.conversation.data.get("reconsent"):
        await _flow.consent_renewed(ctx)
    elif data.get("yes"):
        await _flow.consent_given(ctx)
        await _flow.advance(ctx, "consent")
    else:
        await _flow.consent_refused(ctx)


async def _keep_name(ctx: Context, data: dict[str, Any]) -> None:
    if not await _at(ctx, "name"):
        return
    assert ctx.member is not None
    name = ctx.member.display_name or (ctx.account.display_name if ctx.account else "")
    await _flow.advance(ctx, "name", name=name[: _flow.MAX_NAME])


async def _region(ctx: Context, data: dict[str, Any]) -> None:
    if not await _at(ctx, "region"):
        return
    code = str(data.get("code", ""))
    if await ctx.regions.get(code) is None:
        await _flow.prompt(ctx, "region")
        return
    await _flow.advance(ctx, "region", region=code)


async def _region_retry(ctx: Context, data: dict[str, Any]) -> None:
    if await _at(ctx, "region"):
        await _flow.prompt(ctx, "region")


async def _skip(ctx: Context, data: dict[str, Any]) -> None:
    step = str(data.get("step", ""))
    if step not in ("batch", "training") or not await _at(ctx, step):
        return
    await _flow.advance(ctx, step, **{step: None})


async def _language(ctx: Context, data: dict[str, Any]) -> None:
    if not await _at(ctx, "language"):
        return
    lang = str(data.get("lang", ""))
    if lang not in _LANGUAGES:
        await _flow.prompt(ctx, "language")
        return
    ctx.lang = lang
    await _flow.advance(ctx, "language", language=lang)


async def _edit(ctx: Context, data: dict[str, Any]) -> None:
    await _flow.start_edit(ctx, str(data.get("step", "")))


# --- jobs --------------------------------------------------------------------------------


async def _nudge(job: JobContext) -> None:
    member = await Member.get_or_none(id=job.payload["member"])
    if member is None or member.registered_at is not None:
        return
    if not await job.app.conversations.active(member.id, FLOW):
        return  # they said no, or stopped with /cancel: leave them alone
    if await job.app.roles.highest(member.id) > Role.MEMBER:
        return  # captains and the PMO use the bot without registering as alumni
    ctx = job.for_member(member)
    key = "onboarding.nudge.last" if job.payload.get("last") else "onboarding.nudge.first"
    try:
        await ctx.send_dm(
            member,
            ctx.t(key, name=member.display_name),
            buttons=[
                Button(ctx.t("onboarding.button.resume"), "onboarding:resume", only_for=member.id)
            ],
        )
    except Unreachable:
        log.info("could not remind member %s to finish registering", member.id)


async def _digest(job: JobContext) -> None:
    region = str(job.payload["region"])
    notices = await PendingNotice.filter(region_code=region).order_by("id")
    if not notices:
        return
    members = {m.id: m for m in await Member.filter(id__in={n.member_id for n in notices})}
    captains = await job.app.roles.captains_of(region)
    region_name = await job.app.regions.name(region)
    for captain in captains:
        # A captain who registers in their own region is not news to themselves.
        theirs = [n for n in notices if n.member_id != captain.id]
        if not theirs:
            continue
        ctx = job.for_member(captain)
        lines = [ctx.t("onboarding.digest.title", region=region_name, count=len(theirs))]
        for notice in theirs:
            who = members.get(notice.member_id)
            name = (who.display_name if who else "") or f"#{notice.member_id}"
            other = await job.app.regions.name(notice.other_region) if notice.other_region else ""
            lines.append(ctx.t(f"onboarding.digest.{notice.kind}", name=name, other=other))
        try:
            await ctx.send_dm(captain, Markup("\n").join(lines))
        except Unreachable:
            log.info("captain %s of %s can't be reached for the digest", captain.id, region)
    await PendingNotice.filter(id__in=[n.id for n in notices]).delete()


# --- privacy -----------------------------------------------------------------------------


@hookimpl
async def guyub_export_member(member: Member) -> dict[str, Any] | None:
    # Consent is the core's record (exported by the core).
    profile_row = await Profile.get_or_none(member_id=member.id)
    return {
        "profile": (
            {"batch": profile_row.batch, "training": profile_row.training} if profile_row else None
        ),
        "registered_at": member.registered_at.isoformat() if member.registered_at else None,
    }


@hookimpl
async def guyub_forget_member(member: Member) -> None:
    await Profile.filter(member_id=member.id).delete()
    await PendingNotice.filter(member_id=member.id).delete()


@hookimpl
async def guyub_on_members_merged(app: App, kept: Member, merged: Member) -> None:
    if await Profile.filter(member_id=kept.id).exists():
        await Profile.filter(member_id=merged.id).delete()
    else:
        await Profile.filter(member_id=merged.id).update(member_id=kept.id)
    await PendingNotice.filter(member_id=merged.id).update(member_id=kept.id)
