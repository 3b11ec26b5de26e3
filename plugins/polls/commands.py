"""Chat commands and the vote button of the polls plugin."""

from __future__ import annotations

import logging
import shlex
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from core import (
    Attachment,
    AttachmentKind,
    Capability,
    Context,
    Markup,
    Member,
    Message,
    PermissionDenied,
    PollAnswered,
    Unreachable,
    UsageError,
    clean_text,
    parse_duration,
)
from plugins.polls.ballots import (
    VoteRefused,
    choices_of,
    current_choices,
    is_closed,
    label,
    record_vote,
)
from plugins.polls.models import Ballot, Poll, Post
from plugins.polls.posting import CLOSE_JOB, post_poll, schedule_refresh
from plugins.polls.present import ballots_csv
from plugins.polls.results import (
    close_poll,
    compare_message,
    export_message,
    results_message,
)
from plugins.polls.settings import MAX_OPTIONS, MIN_OPTIONS, PollSettings
from plugins.polls.tally import By, tally

__all__ = [
    "close_command",
    "compare_command",
    "export_command",
    "list_command",
    "new_command",
    "poll_answered",
    "post_command",
    "results_command",
    "vote_button",
]

log = logging.getLogger(__name__)

_QUESTION_MAX = 300
_OPTION_MAX = 100
_MAX_OPEN_FOR = timedelta(days=366)

_VALUE_FLAGS = {
    "region": "region",
    "wilayah": "region",
    "closes": "closes",
    "close": "closes",
    "tutup": "closes",
    "label": "label",
}
_SWITCHES = {
    "multi": ("multiple", True),
    "ganda": ("multiple", True),
    "single": ("multiple", False),
    "tunggal": ("multiple", False),
    "anonymous": ("anonymous", True),
    "anon": ("anonymous", True),
    "anonim": ("anonymous", True),
    "public": ("anonymous", False),
    "named": ("anonymous", False),
    "terbuka": ("anonymous", False),
    "hidden": ("results_live", False),
    "tersembunyi": ("results_live", False),
    "live": ("results_live", True),
}


def poll_settings(ctx: Context) -> PollSettings:
    found: PollSettings = ctx.settings("polls")
    return found


# --- /poll_new -----------------------------------------------------------------------------


@dataclass
class Draft:
    """What ``/poll_new`` was asked for, before it is checked against roles and regions."""

    template: str | None = None
    question: dict[str, str] = field(default_factory=dict)
    options: list[dict[str, str]] = field(default_factory=list)
    flags: dict[str, Any] = field(default_factory=dict)


def parse_spec(text: str, settings: PollSettings) -> Draft:
    """``incentive --region 11 --closes 7d`` or ``Question | A | B | C --multi``."""
    body, flags = _split_flags(text)
    draft = Draft(flags=flags)
    found = settings.template(body) if body and "|" not in body and "\n" not in body else None
    if found is not None:
        name, template = found
        draft.template = name
        draft.question = dict(template.question)
        draft.options = [dict(o) for o in template.options]
        draft.flags = {
            "multiple": template.multiple,
            "anonymous": template.anonymous,
            "results_live": template.results_live,
            **({"closes": template.closes_after} if template.closes_after else {}),
            **flags,
        }
        return draft
    parts = [clean_text(p) for p in body.replace("\n", "|").split("|")]
    parts = [p for p in parts if p]
    if len(parts) < 1 + MIN_OPTIONS:
        raise UsageError("polls.new.usage", templates=", ".join(settings.templates) or "-")
    question, options = parts[0], parts[1:]
    if len(options) > MAX_OPTIONS:
        raise UsageError("polls.new.too_many_options", max=MAX_OPTIONS)
    if len(question) > _QUESTION_MAX or any(len(o) > _OPTION_MAX for o in options):
        raise UsageError("polls.new.too_long", question=_QUESTION_MAX, option=_OPTION_MAX)
    if len({o.casefold() for o in options}) != len(options):
        raise UsageError("polls.new.duplicate_options")
    draft.question = {"*": question}
    draft.options = [{"*": o} for o in options]
    return draft


def _split_flags(text: str) -> tuple[str, dict[str, Any]]:
    text = clean_text(text).replace("—", "--")  # phones turn -- into an em dash
    at = text.find("--") if text.startswith("--") else text.find(" --")
    if at < 0:
        return text, {}
    body, rest = text[:at].strip(), text[at:].strip()
    try:
        words = shlex.split(rest)
    except ValueError:
        raise UsageError("polls.new.bad_flag", flag=rest[:40]) from None
    flags: dict[str, Any] = {}
    i = 0
    while i < len(words):
        word = words[i]
        name, _, inline = word.lstrip("-").partition("=")
        name = name.lower()
        if not word.startswith("--"):
            raise UsageError("polls.new.bad_flag", flag=word[:40])
        if name in _SWITCHES:
            key, value = _SWITCHES[name]
            flags[key] = value
        elif name in _VALUE_FLAGS:
            if not inline:
                if i + 1 >= len(words) or words[i + 1].startswith("--"):
                    raise UsageError("polls.new.flag_value", flag=name)
                i += 1
                inline = words[i]
            flags[_VALUE_FLAGS[name]] = inline
        else:
            raise UsageError("polls.new.bad_flag", flag=word[:40])
        i += 1
    return body, flags


async def _scope(ctx: Context, wanted: str | None) -> str | None:
    """The region the poll is for: the one asked (checked against the creator's roles), or
    national for admins, or a captain's only region."""
    assert ctx.member is not None
    if wanted:
        info = await ctx.regions.get(wanted.strip())
        if info is None:
            match = await ctx.regions.match(wanted)
            if not (match.certain and match.best):
                raise UsageError("polls.new.unknown_region", region=wanted[:40])
            info = match.best
        await ctx.require_region(info.code)
        return info.code
    if await ctx.roles.is_admin(ctx.member.id):
        return None
    scopes = await ctx.roles.captain_scopes(ctx.member.id)
    if len(scopes) == 1:
        return scopes[0] or None
    raise UsageError("polls.new.need_region")


async def new_command(ctx: Context, spec: str | None = None) -> None:
    assert ctx.member is not None
    assert ctx.chat is not None
    settings = poll_settings(ctx)
    if not spec or not spec.strip():
        raise UsageError("polls.new.usage", templates=", ".join(settings.templates) or "-")
    draft = parse_spec(spec, settings)
    region = await _scope(ctx, draft.flags.get("region"))
    closes_at = None
    if draft.flags.get("closes"):
        try:
            delay = parse_duration(str(draft.flags["closes"]))
        except ValueError:
            raise UsageError(
                "polls.new.bad_duration", value=str(draft.flags["closes"])[:20]
            ) from None
        if delay < timedelta(minutes=1) or delay > _MAX_OPEN_FOR:
            raise UsageError("polls.new.bad_duration", value=str(draft.flags["closes"])[:20])
        closes_at = ctx.now() + delay
    wave = 1
    if draft.template:
        wave = await Poll.filter(template=draft.template).count() + 1
    question = _localised(draft.question, ctx.lang)
    poll = await Poll.create(
        template=draft.template,
        wave=wave,
        label=str(draft.flags.get("label", ""))[:64],
        question=question,
        options=[_localised(o, ctx.lang) for o in draft.options],
        multiple=bool(draft.flags.get("multiple", False)),
        anonymous=bool(draft.flags.get("anonymous", True)),
        results_live=bool(draft.flags.get("results_live", True)),
        region_code=region,
        language=ctx.lang,
        created_by_id=ctx.member.id,
        created_at=ctx.now(),
        closes_at=closes_at,
    )
    if closes_at is not None:
        await ctx.scheduler.schedule(
            CLOSE_JOB, closes_at, {"poll": poll.id}, key=f"polls:close:{poll.id}"
        )
    await ctx.audit("poll.create", target=f"poll:{poll.id}", region=region, template=draft.template)
    if ctx.in_group:
        await post_poll(ctx, poll, ctx.chat)
        return
    chats = await ctx.regions.chats(region) if region else []
    for chat in chats:
        await post_poll(ctx, poll, chat)
    await ctx.reply(ctx.t("polls.new.created", id=poll.id, chats=len(chats)))


def _localised(texts: dict[str, str], lang: str) -> dict[str, str]:
    # Typed polls have one text whatever the language; templates keep every translation.
    return {lang: texts["*"]} if "*" in texts else dict(texts)


# --- finding polls and checking rights -----------------------------------------------------


async def find_poll(ctx: Context, poll_id: int | None) -> Poll:
    """The poll asked for, or the latest one shown in this chat (or created at all)."""
    if poll_id is not None:
        poll = await Poll.get_or_none(id=poll_id)
        if poll is None:
            raise UsageError("polls.error.unknown_poll", id=poll_id)
        return poll
    if ctx.chat is not None:
        post = (
            await Post.filter(platform=ctx.chat.platform, chat_id=ctx.chat.id)
            .order_by("-id")
            .first()
        )
        if post is not None:
            return await Poll.get(id=post.poll_id)
    poll = await Poll.all().order_by("-id").first()
    if poll is None:
        raise UsageError("polls.error.no_polls")
    return poll


async def can_manage(ctx: Context, poll: Poll) -> bool:
    assert ctx.member is not None
    if poll.created_by_id == ctx.member.id:
        return True
    return await ctx.roles.can_manage(ctx.member.id, poll.region_code or "")


async def require_manager(ctx: Context, poll: Poll) -> None:
    if not await can_manage(ctx, poll):
        # A national poll belongs to the PMO, not to "a captain of another region".
        key = "polls.error.not_yours" if poll.region_code else "polls.error.national"
        raise PermissionDenied(key, id=poll.id)


async def require_visible(ctx: Context, poll: Poll) -> None:
    if poll.results_live or is_closed(poll, ctx.now()) or await can_manage(ctx, poll):
        return
    raise UsageError("polls.results.hidden", id=poll.id)


# --- results, close, compare, export, post, list -------------------------------------------


async def results_command(ctx: Context, poll: int | None = None, by: str | None = None) -> None:
    found = await find_poll(ctx, poll)
    await require_visible(ctx, found)
    await ctx.reply(await results_message(ctx, found, By.parse(by, _default(found))))


def _default(poll: Poll) -> By:
    return By.KABUPATEN if poll.region_code else By.PROVINCE


async def close_command(ctx: Context, poll: int) -> None:
    found = await find_poll(ctx, poll)
    await require_manager(ctx, found)
    if is_closed(found, ctx.now()) and found.closed_at is not None:
        await ctx.reply(ctx.t("polls.close.already", id=found.id))
        return
    await ctx.audit("poll.close", target=f"poll:{found.id}", region=found.region_code)
    await close_poll(ctx, found)
    posted_here = (
        ctx.chat is not None
        and await Post.filter(
            poll_id=found.id, platform=ctx.chat.platform, chat_id=ctx.chat.id
        ).exists()
    )
    if not posted_here:
        await ctx.reply(await results_message(ctx, found, None))
    await ctx.reply(ctx.t("polls.close.done", id=found.id))


async def compare_command(ctx: Context, first: int, second: int) -> None:
    a = await find_poll(ctx, first)
    b = await find_poll(ctx, second)
    if a.id == b.id:
        raise UsageError("polls.compare.same")
    same_template = a.template == b.template
    if len(a.options) != len(b.options) or ((a.template or b.template) and not same_template):
        raise UsageError("polls.compare.mismatch", a=a.id, b=b.id)
    await require_visible(ctx, a)
    await require_visible(ctx, b)
    await ctx.reply(await compare_message(ctx, a, b))


async def export_command(ctx: Context, poll: int, what: str | None = None) -> None:
    assert ctx.member is not None
    found = await find_poll(ctx, poll)
    await require_manager(ctx, found)
    if not ctx.supports(Capability.FILES):
        raise UsageError("polls.export.no_files", id=found.id)
    await ctx.audit("poll.export", target=f"poll:{found.id}", region=found.region_code, what=what)
    if what in ("ballots", "suara"):
        await _export_ballots(ctx, found)
        return
    await ctx.reply(await export_message(ctx, found, By.parse(what, _default(found))))


async def _export_ballots(ctx: Context, poll: Poll) -> None:
    assert ctx.member is not None
    if poll.anonymous:
        raise UsageError("polls.export.anonymous", id=poll.id)
    if not await ctx.roles.is_admin(ctx.member.id):
        raise PermissionDenied("polls.export.admins_only")
    ids = await Ballot.filter(poll_id=poll.id).values_list("member_id", flat=True)
    names = {
        m.id: m.display_name for m in await Member.filter(id__in=[i for i in ids if i is not None])
    }
    data = (await ballots_csv(poll, ctx.lang, names)).encode("utf-8")
    document = Attachment(
        AttachmentKind.FILE, f"poll-{poll.id}-ballots.csv", data, mime_type="text/csv"
    )
    message = Message(ctx.t("polls.export.ballots_sent", id=poll.id), attachments=(document,))
    try:
        await ctx.send_dm(ctx.member, message)
    except Unreachable:
        raise UsageError("polls.export.need_dm") from None
    if ctx.in_group:
        await ctx.reply(ctx.t("polls.export.ballots_in_dm"))


async def post_command(ctx: Context, poll: int) -> None:
    assert ctx.chat is not None
    found = await find_poll(ctx, poll)
    await require_manager(ctx, found)
    if is_closed(found, ctx.now()):
        raise UsageError("polls.vote.closed", poll=found.id)
    await post_poll(ctx, found, ctx.chat)


async def list_command(ctx: Context) -> None:
    polls = await Poll.all().order_by("-id").limit(10)
    if not polls:
        await ctx.reply(ctx.t("polls.error.no_polls"))
        return
    lines = [ctx.t("polls.list.title")]
    for poll in polls:
        count = (await tally(poll.id, len(poll.options), By.OVERALL, 1)).overall.respondents
        state = "polls.list.closed" if is_closed(poll, ctx.now()) else "polls.list.open"
        lines.append(
            ctx.t(
                "polls.list.line",
                id=poll.id,
                question=label(poll.question, ctx.lang),
                state=ctx.t(state),
                count=count,
            )
        )
    await ctx.reply(Markup("\n").join(lines))


# --- voting ----------------------------------------------------------------------------------


async def vote_button(ctx: Context, data: dict[str, Any]) -> None:
    """One button per option: pressing it toggles that option in the member's ballot (or, in
    a single-choice poll, makes it the answer). The confirmation goes privately."""
    assert ctx.member is not None
    poll = await Poll.get_or_none(id=int(data["poll"]))
    if poll is None:
        await ctx.reply(ctx.t("core.error.button_expired"), private=True)
        return
    option = int(data["option"])
    mask = await current_choices(poll, ctx.member.id)
    if poll.multiple:
        mask ^= 1 << option
    else:
        mask = 0 if mask == 1 << option else 1 << option
    await _vote(ctx, poll, choices_of(mask, len(poll.options)), confirm=True)


async def poll_answered(ctx: Context, event: PollAnswered) -> None:
    """A vote on one of our native polls, on any platform."""
    post = await Post.get_or_none(platform=event.platform, native_poll_id=event.poll_id)
    if post is None:
        return  # not a poll of ours
    poll = await Poll.get(id=post.poll_id)
    await _vote(ctx, poll, list(event.options), confirm=False)


async def _vote(ctx: Context, poll: Poll, options: list[int], *, confirm: bool) -> None:
    assert ctx.member is not None
    platform = ctx.chat.platform if ctx.chat else None
    try:
        ballot = await record_vote(poll, ctx.member, options, platform, ctx.now())
    except VoteRefused as refused:
        await _tell(ctx, ctx.t(refused.key, **refused.kwargs), fallback=None)
        return
    await schedule_refresh(ctx, poll)
    if not confirm:
        return
    if ballot is None:
        text = ctx.t("polls.vote.withdrawn", id=poll.id)
    else:
        answers = ", ".join(label(poll.options[i], ctx.lang) for i in options)
        text = ctx.t("polls.vote.recorded", id=poll.id, answers=answers)
    await _tell(
        ctx, text, fallback=ctx.t("polls.vote.recorded_public", name=ctx.member.display_name)
    )


async def _tell(ctx: Context, text: Any, *, fallback: Any) -> None:
    """Tell the member privately. If no DM is possible, say only that the vote counted (in
    the group, never what it was)."""
    assert ctx.member is not None
    if ctx.chat is not None and ctx.chat.is_dm:
        await ctx.reply(text)
        return
    try:
        await ctx.send_dm(ctx.member, text)
    except Unreachable:
        if ctx.chat is not None:
            await ctx.reply(fallback if fallback is not None else text)
