"""The registration flow, persisted step by step: a restart mid-flow resumes at the same step.

Steps: consent → name → region → batch → training → language → done. ``/profile`` reuses
the same steps one at a time (``edit`` in the flow data) to change a single field.
Answers stay in the conversation's data until the end; nothing is written about a member
before they agree to the data use text.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

from tortoise.transactions import in_transaction

from core import (
    Account,
    Button,
    ChatRef,
    Context,
    Markup,
    Member,
    RegionInfo,
    Unreachable,
    UserRef,
    clean_text,
    guard_name,
    neutral_name,
)
from plugins.onboarding._settings import OnboardingSettings
from plugins.onboarding.models import PendingNotice, Profile

__all__ = [
    "FLOW",
    "STEPS",
    "begin",
    "handle_text",
    "is_registered",
    "prompt",
    "queue_notice",
    "show_profile",
]

log = logging.getLogger(__name__)

FLOW = "onboarding"
STEPS = ("consent", "name", "region", "batch", "training", "language")
_NEXT = dict(zip(STEPS, (*STEPS[1:], None), strict=True))
_PREVIOUS = {after: before for before, after in _NEXT.items() if after is not None}
_LANGUAGES = {"id": "Bahasa Indonesia", "en": "English"}

MAX_NAME = 64
MAX_TRAINING = 100
MAX_BATCH = 999
#: Eight digits or more in a row look like a NIK, a phone number or an OTP: never stored.
_SECRET = re.compile(r"\d[\d\s.-]{6,}\d")
_NUMBER = re.compile(r"\d+")


def settings(ctx: Context) -> OnboardingSettings:
    value: OnboardingSettings = ctx.settings("onboarding")
    return value


def is_registered(member: Member | None) -> bool:
    return member is not None and member.registered_at is not None


def _button(ctx: Context, label: str, action: str, **data: Any) -> Button:
    assert ctx.member is not None
    return Button(label, f"onboarding:{action}", data, only_for=ctx.member.id)


# --- starting and resuming ---------------------------------------------------------------


async def begin(ctx: Context) -> None:
    """Start registration (or resume it at the step the member reached).

    In a private chat the flow runs there; from a group (a Discord button) it moves to the
    member's DM, and if that can't be reached the member is told how to open it.
    """
    assert ctx.member is not None
    if ctx.chat is not None and ctx.chat.is_dm:
        await _begin_here(ctx)
        return
    dm = await _open_dm(ctx)
    if dm is None:
        link = ctx.adapter.dm_link("onboard") if ctx.adapter is not None else None
        buttons = [Button(ctx.t("onboarding.button.open_dm"), url=link)] if link else []
        await ctx.reply(ctx.t("onboarding.dm_closed"), buttons=buttons)
        return
    await _begin_here(dm)
    await ctx.reply(ctx.t("onboarding.moved_to_dm"))


async def _open_dm(ctx: Context) -> Context | None:
    """A context for the member's private chat, found by messaging them there."""
    assert ctx.member is not None
    adapter = ctx.adapter
    account = ctx.account
    if adapter is not None and account is not None and account.platform == adapter.platform:
        try:
            chat = await adapter.open_dm(UserRef(account.platform, account.platform_user_id))
            if chat is not None:
                await ctx.send(chat, ctx.t("onboarding.dm_hello"))
                return _DmContext(ctx, chat, account)
        except Unreachable:
            return None
    try:
        ref = await ctx.send_dm(ctx.member, ctx.t("onboarding.dm_hello"))
    except Unreachable:
        return None
    account = ctx.account if ctx.account and ctx.account.platform == ref.chat.platform else None
    return _DmContext(ctx, ref.chat, account)


class _DmContext(Context):
    """A context bound to a private chat without an incoming event (a flow moved there)."""

    def __init__(self, origin: Context, chat: ChatRef, account: Account | None) -> None:
        super().__init__(
            origin.app,
            adapter=origin.app.adapters.get(chat.platform),
            account=account,
            member=origin.member,
        )
        self._dm_chat = chat

    @property
    def chat(self) -> ChatRef | None:
        return self._dm_chat


async def _begin_here(ctx: Context) -> None:
    assert ctx.member is not None
    assert ctx.chat is not None
    current = await ctx.app.conversations.get(ctx.member.id, ctx.chat.key)
    if current is not None and current.flow == FLOW:
        ctx.conversation = current
        await prompt(ctx, current.step)
        return
    if is_registered(ctx.member):
        await show_profile(ctx)
        return
    await ctx.start_flow(FLOW, "consent")
    await _schedule_nudges(ctx)
    await ctx.reply(ctx.t("onboarding.intro"))
    await prompt(ctx, "consent")


async def _schedule_nudges(ctx: Context) -> None:
    assert ctx.member is not None
    assert ctx.chat is not None
    hours = settings(ctx).nudge_after_hours[:2]
    for number, after in enumerate(hours, 1):
        # Keyed per member: a second registration attempt never earns more reminders.
        await ctx.scheduler.schedule(
            "onboarding:nudge",
            ctx.now() + timedelta(hours=after),
            {"member": ctx.member.id, "number": number, "last": number == len(hours)},
            key=f"onboarding:nudge:{ctx.member.id}:{number}",
        )


# --- asking ------------------------------------------------------------------------------


async def prompt(ctx: Context, step: str) -> None:
    """Ask the question of ``step`` (again, after a restart or a wrong answer)."""
    assert ctx.member is not None
    if step == "consent":
        await ctx.reply(
            ctx.t("onboarding.consent.text", version=ctx.app.privacy.settings.consent_version),
            buttons=[
                [
                    _button(ctx, ctx.t("onboarding.consent.yes"), "consent", yes=True),
                    _button(ctx, ctx.t("onboarding.consent.no"), "consent", yes=False),
                ]
            ],
        )
    elif step == "name":
        account_name = (ctx.account.display_name if ctx.account else "") or ""
        current = ctx.member.display_name or account_name
        buttons = (
            [_button(ctx, ctx.t("onboarding.name.keep", name=current[:MAX_NAME]), "keep_name")]
            if current
            else []
        )
        await ctx.reply(ctx.t("onboarding.name.ask"), buttons=buttons)
    elif step == "region":
        await ctx.reply(ctx.t("onboarding.region.ask"))
    elif step == "batch":
        await ctx.reply(
            ctx.t("onboarding.batch.ask"),
            buttons=[_button(ctx, ctx.t("onboarding.button.skip"), "skip", step="batch")],
        )
    elif step == "training":
        await ctx.reply(
            ctx.t("onboarding.training.ask"),
            buttons=[_button(ctx, ctx.t("onboarding.button.skip"), "skip", step="training")],
        )
    elif step == "language":
        await ctx.reply(
            ctx.t("onboarding.language.ask"),
            buttons=[
                [_button(ctx, label, "language", lang=code) for code, label in _LANGUAGES.items()]
            ],
        )
    else:
        log.warning("unknown onboarding step %r; starting over", step)
        await ctx.set_step("consent")
        await prompt(ctx, "consent")


# --- answers -----------------------------------------------------------------------------


async def handle_text(ctx: Context, text: str) -> None:
    """The flow handler: a typed answer to the current step."""
    assert ctx.conversation is not None
    step = ctx.conversation.step
    answer = clean_text(text)
    if step in ("name", "batch", "training") and _SECRET.search(answer):
        await ctx.reply(ctx.t("onboarding.no_secrets"))
        return
    previous = _PREVIOUS.get(step)
    stored = ctx.conversation.data.get(previous) if previous else None
    if stored is not None and str(stored).casefold() == answer.casefold():
        # The previous answer typed again: our question was probably lost on the way (a
        # reply that never arrived). Ask it again instead of storing this as its answer.
        await prompt(ctx, step)
        return
    if step == "name":
        name = " ".join(answer.split())
        if not 2 <= len(name) <= MAX_NAME or name.startswith("/"):
            await ctx.reply(ctx.t("onboarding.name.invalid", max=MAX_NAME))
            return
        # The display-name guard: no links or @handles, no official-looking names.
        seed = f"member:{ctx.member.id if ctx.member else 0}"
        checked = guard_name(name, seed=seed)
        if checked.impersonating:
            await ctx.reply(ctx.t("onboarding.name.official"))
            return
        if checked.shown == neutral_name(seed):  # nothing showable was left
            await ctx.reply(ctx.t("onboarding.name.invalid", max=MAX_NAME))
            return
        await advance(ctx, "name", name=checked.shown)
    elif step == "region":
        await _region_typed(ctx, answer)
    elif step == "batch":
        numbers = _NUMBER.findall(answer)
        if len(numbers) != 1 or not 1 <= int(numbers[0]) <= MAX_BATCH:
            await ctx.reply(ctx.t("onboarding.batch.invalid"))
            return
        await advance(ctx, "batch", batch=int(numbers[0]))
    elif step == "training":
        training = " ".join(answer.split())
        if not 2 <= len(training) <= MAX_TRAINING:
            await ctx.reply(ctx.t("onboarding.training.invalid", max=MAX_TRAINING))
            return
        await advance(ctx, "training", training=training)
    else:
        # Buttons answer this step: show them again.
        await prompt(ctx, step)


async def _label(ctx: Context, region: RegionInfo) -> str:
    if region.parent_code is None:
        return ctx.t("onboarding.region.province_label", name=region.name)
    return f"{region.name} ({await ctx.regions.name(region.parent_code)})"


async def _region_typed(ctx: Context, text: str) -> None:
    if len(text) > 80 or not text:
        await ctx.reply(ctx.t("onboarding.region.not_found", text=text[:80]))
        return
    found = await ctx.regions.match(text)
    best = found.best
    if found.certain and best is not None:
        if best.parent_code is None:
            await ctx.reply(
                ctx.t("onboarding.region.province_only", name=best.name),
                buttons=[
                    _button(
                        ctx,
                        ctx.t("onboarding.region.keep_province", name=best.name),
                        "region",
                        code=best.code,
                    )
                ],
            )
            return
        await ctx.reply(
            ctx.t("onboarding.region.confirm", name=best.name, label=await _label(ctx, best)),
            buttons=[
                [
                    _button(ctx, ctx.t("onboarding.region.yes"), "region", code=best.code),
                    _button(ctx, ctx.t("onboarding.region.no"), "region_retry"),
                ]
            ],
        )
        return
    if found.candidates:
        rows = [
            [_button(ctx, await _label(ctx, r), "region", code=r.code)] for r in found.candidates
        ]
        rows.append([_button(ctx, ctx.t("onboarding.region.none_of_these"), "region_retry")])
        await ctx.reply(ctx.t("onboarding.region.pick", text=text), buttons=rows)
        return
    await ctx.reply(ctx.t("onboarding.region.not_found", text=text))


async def advance(ctx: Context, step: str, **data: Any) -> None:
    """Record the answer to ``step`` and ask the next question (or finish)."""
    assert ctx.conversation is not None
    if ctx.conversation.data.get("edit"):
        await _apply_edit(ctx, step, data)
        return
    following = _NEXT[step]
    if following is None:
        await _finish(ctx, data)
        return
    await ctx.set_step(following, **data)
    await prompt(ctx, following)


# --- the end -----------------------------------------------------------------------------


async def _finish(ctx: Context, last: dict[str, Any]) -> None:
    assert ctx.member is not None
    assert ctx.conversation is not None
    data = {**ctx.conversation.data, **last}
    member = ctx.member
    old_region = member.region_code
    member.display_name = str(data.get("name") or member.display_name)[:MAX_NAME]
    member.region_code = str(data["region"])
    member.language = str(data.get("language") or member.language)
    member.registered_at = ctx.now()
    # All or nothing: a crash leaves either the flow at its last question (answered again
    # after a restart) or a registered member with a profile and no flow; never "registered"
    # without a profile, never a finished flow that starts over.
    async with in_transaction():
        await member.save(
            update_fields=["display_name", "region_code", "language", "registered_at"]
        )
        await Profile.update_or_create(
            member_id=member.id,
            defaults={"batch": data.get("batch"), "training": data.get("training")},
        )
        await ctx.end_flow()
    await ctx.scheduler.cancel_prefix(f"onboarding:nudge:{member.id}:")
    ctx.lang = member.language
    region_name = await ctx.regions.name(member.region_code)
    await ctx.reply(ctx.t("onboarding.done", name=member.display_name, region=region_name))
    await queue_notice(ctx, member.region_code, member.id, "joined")
    if old_region != member.region_code:
        await ctx.app.plugins.member_region_changed(ctx, member, old_region, member.region_code)
    await ctx.audit(
        "onboarding.registered", target=f"member:{member.id}", region=member.region_code
    )
    await ctx.app.plugins.member_onboarded(ctx, member)


async def queue_notice(
    ctx: Context, region: str, member_id: int, kind: str, other: str | None = None
) -> None:
    """Tell the region's captains in the next digest (one message per digest, not per member)."""
    now = ctx.now()
    await PendingNotice.create(
        region_code=region, member_id=member_id, kind=kind, other_region=other, created_at=now
    )
    every = timedelta(minutes=settings(ctx).digest_minutes)
    epoch = now.replace(hour=0, minute=0, second=0, microsecond=0)
    slots = (now - epoch) // every + 1
    due = epoch + slots * every
    await ctx.scheduler.schedule(
        "onboarding:digest",
        due,
        {"region": region},
        key=f"onboarding:digest:{region}:{due.isoformat()}",
    )


async def consent_given(ctx: Context) -> None:
    assert ctx.member is not None
    # One consent record, the core's (its version, time and channel): onboarding keeps none.
    await ctx.app.privacy.record_consent(ctx.member.id, "given", _channel(ctx))


def _channel(ctx: Context) -> str:
    return ctx.chat.platform if ctx.chat is not None else "onboarding"


async def consent_renewed(ctx: Context) -> None:
    """The member agreed to a new version of the data use text."""
    await consent_given(ctx)
    await ctx.end_flow()
    await show_profile(ctx)


async def consent_refused(ctx: Context) -> None:
    assert ctx.member is not None
    assert ctx.conversation is not None
    if ctx.conversation.data.get("reconsent"):
        await ctx.end_flow()
        await ctx.reply(ctx.t("onboarding.consent.update_refused"))
        return
    await ctx.end_flow()
    await ctx.scheduler.cancel_prefix(f"onboarding:nudge:{ctx.member.id}:")
    # Declining is an answer, recorded as such: /persetujuan shows it, nothing is processed
    # until the member agrees there.
    await ctx.app.privacy.record_consent(ctx.member.id, "withdrawn", _channel(ctx))
    await ctx.reply(ctx.t("onboarding.consent.refused"))


# --- the profile -------------------------------------------------------------------------


async def show_profile(ctx: Context) -> None:
    """The member's details with a button to change each one (after asking again for
    consent if the data use text changed since the member agreed)."""
    assert ctx.member is not None
    member = ctx.member
    consent = await ctx.app.privacy.consent_of(member.id)
    given = consent is not None and consent.status == "given"
    if (
        given
        and consent is not None
        and consent.version != ctx.app.privacy.settings.consent_version
    ):
        await ctx.start_flow(FLOW, "consent", reconsent=True)
        await ctx.reply(ctx.t("onboarding.consent.changed"))
        await prompt(ctx, "consent")
        return
    profile = await Profile.get_or_none(member_id=member.id)
    dash = "-"
    batch = str(profile.batch) if profile is not None and profile.batch else dash
    training = (profile.training if profile is not None else None) or dash
    language = _LANGUAGES.get(member.language, member.language)
    lines = [
        ctx.t("onboarding.profile.title"),
        ctx.t("onboarding.profile.name", value=member.display_name or dash),
        ctx.t("onboarding.profile.region", value=await ctx.regions.name(member.region_code)),
        ctx.t("onboarding.profile.batch", value=batch),
        ctx.t("onboarding.profile.training", value=training),
        ctx.t("onboarding.profile.language", value=language),
        ctx.t(
            "onboarding.profile.consent",
            value=consent.version if consent is not None and given else dash,
        ),
    ]
    buttons = [
        [
            _button(ctx, ctx.t("onboarding.edit.name"), "edit", step="name"),
            _button(ctx, ctx.t("onboarding.edit.region"), "edit", step="region"),
        ],
        [
            _button(ctx, ctx.t("onboarding.edit.batch"), "edit", step="batch"),
            _button(ctx, ctx.t("onboarding.edit.training"), "edit", step="training"),
        ],
        [_button(ctx, ctx.t("onboarding.edit.language"), "edit", step="language")],
    ]
    await ctx.reply(Markup("\n").join(lines), buttons=buttons)


async def start_edit(ctx: Context, step: str) -> None:
    assert ctx.member is not None
    if step not in STEPS or step == "consent" or not is_registered(ctx.member):
        await ctx.reply(ctx.t("onboarding.expired"))
        return
    await ctx.start_flow(FLOW, step, edit=True)
    await prompt(ctx, step)


async def _apply_edit(ctx: Context, step: str, data: dict[str, Any]) -> None:
    assert ctx.member is not None
    member = ctx.member
    await ctx.end_flow()
    if step == "name":
        member.display_name = str(data["name"])[:MAX_NAME]
        await member.save(update_fields=["display_name"])
    elif step == "language":
        member.language = str(data["language"])
        ctx.lang = member.language
        await member.save(update_fields=["language"])
    elif step in ("batch", "training"):
        profile, _ = await Profile.get_or_create(member_id=member.id)
        setattr(profile, step, data.get(step))
        await profile.save()
    elif step == "region":
        old, new = member.region_code, str(data["region"])
        if old != new:
            member.region_code = new
            await member.save(update_fields=["region_code"])
            await ctx.audit(
                "onboarding.region_changed", target=f"member:{member.id}", region=new, old=old
            )
            if old:
                await queue_notice(ctx, old, member.id, "moved_out", new)
            await queue_notice(ctx, new, member.id, "moved_in", old)
            await ctx.app.plugins.member_region_changed(ctx, member, old, new)
    await ctx.reply(ctx.t("onboarding.profile.saved"))
    await show_profile(ctx)
