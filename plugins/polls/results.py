"""Results in chats: text and chart, comparison of waves, CSV documents, closing a poll."""

from __future__ import annotations

import asyncio
import logging

from core import (
    Attachment,
    AttachmentKind,
    Capability,
    ChatRef,
    Context,
    DeliveryError,
    JobContext,
    Markup,
    Message,
    MessageRef,
)
from plugins.polls.ballots import is_closed, label
from plugins.polls.models import Poll, Post
from plugins.polls.posting import chat_of, post_update
from plugins.polls.present import (
    bar_chart,
    compare_chart,
    export_rows,
    percent,
    table_csv,
    whole_percent,
)
from plugins.polls.tally import OTHER, By, Row, Table, tally

__all__ = [
    "close_job",
    "close_poll",
    "compare_message",
    "default_by",
    "export_message",
    "poll_table",
    "results_message",
]

log = logging.getLogger(__name__)


def default_by(poll: Poll) -> By:
    """National polls break down by province, regional polls by kabupaten/kota."""
    return By.KABUPATEN if poll.region_code else By.PROVINCE


async def poll_table(ctx: Context, poll: Poll, by: By | None) -> Table:
    min_size = int(ctx.settings("polls").min_group_size)
    return await tally(poll.id, len(poll.options), by or default_by(poll), min_size)


async def region_label(ctx: Context, row: Row) -> Markup:
    if row.code == OTHER:
        return ctx.t("polls.results.other_regions")
    if row.code is None:
        return ctx.t("polls.results.no_region")
    return ctx.t("polls.results.region", name=await ctx.regions.name(row.code), code=row.code)


def _supports(ctx: Context, chat: ChatRef | None, capability: Capability) -> bool:
    platform = chat.platform if chat is not None else ctx.chat.platform if ctx.chat else None
    adapter = ctx.app.adapters.get(platform) if platform else None
    return adapter is not None and adapter.supports(capability)


async def results_text(ctx: Context, poll: Poll, table: Table) -> Markup:
    options = [label(o, ctx.lang) for o in poll.options]
    state = "polls.results.closed" if is_closed(poll, ctx.now()) else "polls.results.open"
    lines = [
        ctx.t("polls.results.title", id=poll.id, question=label(poll.question, ctx.lang)),
        ctx.t("polls.results.respondents", count=table.overall.respondents) + " · " + ctx.t(state),
    ]
    if poll.multiple:
        lines.append(ctx.t("polls.results.multi_note"))
    lines.append(Markup(""))
    lines.append(ctx.t("polls.results.overall"))
    for i, option in enumerate(options):
        lines.append(
            ctx.t(
                "polls.results.line",
                option=option,
                share=percent(table.overall.share(i)),
                count=table.overall.counts[i],
            )
        )
    min_size = int(ctx.settings("polls").min_group_size)
    if table.by is not By.OVERALL and table.overall.respondents and not table.rows:
        # Every group is too small: a breakdown would only repeat the overall figures.
        lines.append(Markup(""))
        lines.append(ctx.t("polls.results.no_breakdown", size=min_size))
    elif table.by is not By.OVERALL and table.overall.respondents:
        lines.append(Markup(""))
        lines.append(
            ctx.t(
                "polls.results.by_province"
                if table.by is By.PROVINCE
                else "polls.results.by_kabupaten"
            )
        )
        for row in table.all_rows:
            shares = Markup(" · ").join(
                ctx.t("polls.results.short", option=options[i], share=percent(row.share(i)))
                for i in range(len(options))
            )
            lines.append(
                ctx.t(
                    "polls.results.group",
                    region=await region_label(ctx, row),
                    count=row.respondents,
                    shares=shares,
                )
            )
        if table.other is not None:
            lines.append(
                ctx.t(
                    "polls.results.folded",
                    regions=len(table.folded),
                    size=min_size,
                )
            )
    return Markup("\n").join(lines)


async def chart_png(ctx: Context, poll: Poll, row: Row) -> bytes:
    options = [label(o, ctx.lang) for o in poll.options]
    caption = str(ctx.t("polls.chart.caption", count=row.respondents))
    title = label(poll.question, ctx.lang)
    # Drawing takes a moment of CPU: keep the event loop free for other chats meanwhile.
    return await asyncio.to_thread(bar_chart, title, options, row, caption)


async def results_message(
    ctx: Context, poll: Poll, by: By | None, chat: ChatRef | None = None
) -> Message:
    """The results as text, with the bar chart as an image where the platform takes files."""
    table = await poll_table(ctx, poll, by)
    text = await results_text(ctx, poll, table)
    if not table.overall.respondents or not _supports(ctx, chat, Capability.FILES):
        return Message(text)
    png = await chart_png(ctx, poll, table.overall)
    image = Attachment(
        AttachmentKind.IMAGE,
        f"poll-{poll.id}.png",
        png,
        caption=str(ctx.t("polls.chart.alt", id=poll.id)),
        mime_type="image/png",
    )
    return Message(text, attachments=(image,))


async def compare_message(ctx: Context, a: Poll, b: Poll) -> Message:
    """Change per option from wave ``a`` to wave ``b`` (share of respondents, in points)."""
    first = (await poll_table(ctx, a, By.OVERALL)).overall
    second = (await poll_table(ctx, b, By.OVERALL)).overall
    options = [label(o, ctx.lang) for o in b.options]
    lines = [
        ctx.t("polls.compare.title", a=a.id, b=b.id, question=label(b.question, ctx.lang)),
        ctx.t("polls.compare.respondents", a=first.respondents, b=second.respondents),
    ]
    for i, option in enumerate(options):
        delta = whole_percent(second.share(i)) - whole_percent(first.share(i))
        lines.append(
            ctx.t(
                "polls.compare.line",
                option=option,
                a=percent(first.share(i)),
                b=percent(second.share(i)),
                delta=f"{delta:+d}",
            )
        )
    text = Markup("\n").join(lines)
    if not (first.respondents and second.respondents) or not _supports(ctx, None, Capability.FILES):
        return Message(text)
    names = (
        str(ctx.t("polls.compare.legend", id=a.id, wave=a.wave)),
        str(ctx.t("polls.compare.legend", id=b.id, wave=b.wave)),
    )
    caption = str(ctx.t("polls.chart.share_caption"))
    png = await asyncio.to_thread(
        compare_chart, label(b.question, ctx.lang), options, first, second, names, caption
    )
    image = Attachment(
        AttachmentKind.IMAGE, f"poll-{a.id}-vs-{b.id}.png", png, mime_type="image/png"
    )
    return Message(text, attachments=(image,))


async def export_message(ctx: Context, poll: Poll, by: By | None) -> Message:
    """The aggregated results as a CSV document (no individual ballots)."""
    table = await poll_table(ctx, poll, by)
    rows = await export_rows(
        table,
        ctx.regions.name,
        str(ctx.t("polls.results.other_regions")),
        str(ctx.t("polls.export.overall")),
    )
    data = table_csv(rows, [label(o, ctx.lang) for o in poll.options]).encode("utf-8")
    document = Attachment(
        AttachmentKind.FILE,
        f"poll-{poll.id}-{table.by.value}.csv",
        data,
        caption=str(ctx.t("polls.export.caption", id=poll.id)),
        mime_type="text/csv",
    )
    return Message(ctx.t("polls.export.sent", id=poll.id), attachments=(document,))


async def close_poll(ctx: Context, poll: Poll) -> bool:
    """Close the poll once (a second close does nothing), freeze its posts and send the
    results to every chat it was posted in."""
    now = ctx.now()
    if not await Poll.filter(id=poll.id, closed_at=None).update(closed_at=now):
        return False
    poll.closed_at = now
    await ctx.scheduler.cancel(f"polls:close:{poll.id}")
    seen: set[str] = set()
    for post in await Post.filter(poll_id=poll.id).order_by("id"):
        adapter = ctx.app.adapters.get(post.platform)
        if adapter is None:
            continue
        chat = chat_of(post)
        post_ctx = Context(ctx.app, member=ctx.member)
        post_ctx.lang = post.language
        if post.native_poll_id is not None:
            try:
                await ctx.app.end_poll(MessageRef(chat, post.message_id, post.native_poll_id))
            except DeliveryError as exc:
                # Votes that still arrive are refused politely; the count is already final.
                log.info("poll %s: cannot end native poll %s: %s", poll.id, post.id, exc)
        if adapter.supports(Capability.EDIT_MESSAGES):
            # The post (or the text above a native poll) now says the poll is closed.
            update = await post_update(post_ctx, poll, post)
            try:
                if update is not None:
                    await ctx.app.edit(*update)
            except DeliveryError as exc:
                log.info("poll %s: cannot edit post %s: %s", poll.id, post.id, exc)
        if chat.key in seen:
            continue
        seen.add(chat.key)
        try:
            await post_ctx.send(chat, await results_message(post_ctx, poll, None, chat))
        except DeliveryError as exc:
            log.info("poll %s: cannot send results to %s: %s", poll.id, chat.key, exc)
    return True


async def close_job(ctx: JobContext) -> None:
    poll = await Poll.get_or_none(id=ctx.payload["poll"])
    if poll is not None:
        await close_poll(ctx, poll)
