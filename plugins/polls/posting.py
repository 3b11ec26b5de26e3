"""Posting a poll into chats, editing its live tally in place, and closing it.

A poll message carries one button per option (votes are private to the bot) or, for
non-anonymous polls on platforms that have them, a native poll whose platform id is kept so
its votes can be matched. Tally edits go through a durable job at most once per
``refresh_seconds`` per poll, however fast the votes come.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError

from core import (
    Button,
    Capability,
    ChatKind,
    ChatRef,
    Context,
    DeliveryError,
    Job,
    JobContext,
    Markup,
    Message,
    MessageRef,
    PollSpec,
    escape,
    format_moment,
)
from plugins.polls.ballots import is_closed, label
from plugins.polls.models import Poll, Post
from plugins.polls.present import whole_percent
from plugins.polls.tally import By, tally

__all__ = [
    "CLOSE_JOB",
    "REFRESH_JOB",
    "VOTE_ACTION",
    "chat_of",
    "edit_posts",
    "header_ref",
    "poll_message",
    "post_poll",
    "post_update",
    "refresh_job",
    "schedule_refresh",
]

log = logging.getLogger(__name__)

VOTE_ACTION = "polls:vote"
REFRESH_JOB = "polls:refresh"
CLOSE_JOB = "polls:close"

# Platform limits on native polls (Telegram 300/100 characters, Discord 300/55).
_QUESTION_MAX = 300
_OPTION_MAX = 55


def uses_native(ctx: Context, poll: Poll, chat: ChatRef) -> bool:
    """Native polls show who voted for what to the whole chat: only for non-anonymous polls,
    and only in groups of a platform that has them."""
    adapter = ctx.app.adapters.get(chat.platform)
    return (
        not poll.anonymous
        and not chat.is_dm
        and adapter is not None
        and adapter.supports(Capability.NATIVE_POLLS)
    )


async def header(ctx: Context, poll: Poll, *, native: bool) -> Markup:
    """The poll message's text: question, how to vote, the live tally, closing time."""
    lines = [ctx.t("polls.post.title", id=poll.id, question=label(poll.question, ctx.lang))]
    details = []
    if poll.template:
        details.append(ctx.t("polls.post.wave", wave=poll.wave))
    if poll.label:
        details.append(Markup(escape(poll.label)))
    if poll.region_code:
        details.append(ctx.t("polls.post.region", region=await ctx.regions.name(poll.region_code)))
    details.append(ctx.t("polls.post.multiple" if poll.multiple else "polls.post.single"))
    lines.append(Markup(" · ").join(details))
    if is_closed(poll, ctx.now()):
        if poll.results_live:
            overall = (await tally(poll.id, len(poll.options), By.OVERALL, 1)).overall
            lines.append(ctx.t("polls.post.respondents_final", count=overall.respondents))
        lines.append(ctx.t("polls.post.closed", id=poll.id))
        return Markup("\n").join(lines)
    if native:
        lines.append(ctx.t("polls.post.how_native"))
    else:
        lines.append(ctx.t("polls.post.how_buttons"))
    if poll.anonymous:
        lines.append(ctx.t("polls.post.anonymous"))
    if poll.results_live:
        overall = (await tally(poll.id, len(poll.options), By.OVERALL, 1)).overall
        lines.append(ctx.t("polls.post.respondents", count=overall.respondents))
        if overall.respondents:
            for i, option in enumerate(poll.options):
                lines.append(
                    ctx.t(
                        "polls.post.tally_line",
                        option=label(option, ctx.lang),
                        share=whole_percent(overall.share(i)),
                    )
                )
    if poll.closes_at is not None:
        zone = await ctx.regions.timezone(poll.region_code)
        when = format_moment(poll.closes_at, zone, ctx.app.translator, ctx.lang)
        lines.append(ctx.t("polls.post.closes", when=when))
    return Markup("\n").join(lines)


async def poll_message(ctx: Context, poll: Poll, *, native: bool) -> Message:
    text = await header(ctx, poll, native=native)
    if is_closed(poll, ctx.now()):
        return Message(text)
    if native:
        spec = PollSpec(
            label(poll.question, ctx.lang)[:_QUESTION_MAX],
            tuple(label(o, ctx.lang)[:_OPTION_MAX] for o in poll.options),
            multiple=poll.multiple,
            anonymous=False,  # the bot must see each vote to count it once per member
        )
        return Message(text, poll=spec)
    buttons = tuple(
        (Button(label(option, ctx.lang), VOTE_ACTION, {"poll": poll.id, "option": i}),)
        for i, option in enumerate(poll.options)
    )
    return Message(text, buttons)


#: ``Post.extra`` key of the text message above a native poll (its question, count, status)
HEADER = "header_message_id"


async def post_poll(ctx: Context, poll: Poll, chat: ChatRef) -> Post:
    """Show the poll in ``chat`` (native where it fits, buttons otherwise).

    A native poll is two messages: the text (question, how many answered, closing time) and
    the platform's poll under it. The text's id is kept so that the count stays current and
    the text says when the poll is closed."""
    native = uses_native(ctx, poll, chat)
    message = await poll_message(ctx, poll, native=native)
    extra: dict[str, str] = {}
    if native and message.poll is not None:
        header_ref = await ctx.send(chat, Message(message.text))
        extra[HEADER] = header_ref.id
        message = Message(Markup(""), poll=message.poll)
    ref = await ctx.send(chat, message)
    if native and ref.poll_id is None:
        log.warning("adapter %s sent poll %s without a poll id", chat.platform, poll.id)
    return await Post.create(
        poll_id=poll.id,
        platform=chat.platform,
        chat_id=chat.id,
        chat_kind=chat.kind.value,
        chat_title=chat.title,
        thread=chat.thread,
        message_id=ref.id,
        native_poll_id=ref.poll_id if native else None,
        language=ctx.lang,
        posted_at=ctx.now(),
        extra=extra,
    )


def chat_of(post: Post) -> ChatRef:
    return ChatRef(
        post.platform,
        post.chat_id,
        ChatKind(post.chat_kind),
        title=post.chat_title,
        thread=post.thread,
    )


def header_ref(post: Post) -> MessageRef | None:
    """The text message above a native poll, where one was kept."""
    message_id = (post.extra or {}).get(HEADER)
    return MessageRef(chat_of(post), str(message_id)) if message_id else None


async def post_update(ctx: Context, poll: Poll, post: Post) -> tuple[MessageRef, Message] | None:
    """What a post should now say, and which message to edit: a button post is edited whole;
    a native poll's text above it (the platform counts the votes in the poll itself)."""
    if post.native_poll_id is None:
        return MessageRef(chat_of(post), post.message_id), await poll_message(
            ctx, poll, native=False
        )
    ref = header_ref(post)
    if ref is None:
        return None  # posted before headers were kept: nothing to edit
    return ref, Message(await header(ctx, poll, native=True))


async def edit_posts(ctx: JobContext, poll: Poll) -> int:
    """Edit every post of the poll in place: the tally and count of button posts, the count
    above native polls."""
    edited = 0
    for post in await Post.filter(poll_id=poll.id):
        adapter = ctx.app.adapters.get(post.platform)
        if adapter is None or not adapter.supports(Capability.EDIT_MESSAGES):
            continue
        ctx.lang = post.language
        update = await post_update(ctx, poll, post)
        if update is None:
            continue
        try:
            await ctx.app.edit(*update)
            edited += 1
        except DeliveryError as exc:
            # A deleted message or a chat the bot left: the tally just stops updating there.
            log.info("poll %s: cannot edit post %s: %s", poll.id, post.id, exc)
    return edited


async def schedule_refresh(ctx: Context, poll: Poll) -> None:
    """Edit the tally at the end of the current time slot: one edit per slot, however many
    votes fall in it, and never a moving target that keeps slipping under steady voting."""
    if not poll.results_live:
        return
    every = max(1, int(ctx.settings("polls").refresh_seconds))
    slot = int(ctx.now().timestamp()) // every + 1
    due = datetime.fromtimestamp(slot * every, UTC)
    key = f"polls:refresh:{poll.id}:{slot}"
    if await Job.filter(idempotency_key=key).exists():
        return  # this slot's edit is already planned: a vote costs one read, not a write
    # Another worker may plan the same slot at the same moment: one edit is enough.
    with contextlib.suppress(IntegrityError):
        await ctx.scheduler.schedule(REFRESH_JOB, due, {"poll": poll.id}, key=key)


async def refresh_job(ctx: JobContext) -> None:
    poll = await Poll.get_or_none(id=ctx.payload["poll"])
    if poll is not None and not is_closed(poll, ctx.now()):
        await edit_posts(ctx, poll)
