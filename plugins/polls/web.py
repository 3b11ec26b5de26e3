"""The dashboard's Polls pages: the list, and per poll the results overall and per province
or kabupaten/kota (small groups folded exactly as in chat), earlier waves side by side, and
CSV/JSON downloads that are byte for byte what ``guyub export poll`` writes.

A captain sees national polls and the polls of their regions; a poll of another region
answers 403. Results a poll keeps hidden until it closes stay hidden, as in chat.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from tortoise.functions import Sum

from core import App, covers
from core.web import (
    APP_KEY,
    DashboardPage,
    Viewer,
    bar_chart,
    dashboard_page,
    download,
    forbidden,
    language_of,
    record_page,
    render,
)
from plugins.polls.ballots import is_closed, label
from plugins.polls.cli import export_text
from plugins.polls.models import Poll, TallyCell
from plugins.polls.present import export_rows, percent
from plugins.polls.results import default_by
from plugins.polls.tally import By, tally

__all__ = ["pages", "routes"]


def _visible(viewer: Viewer, poll: Poll) -> bool:
    return poll.region_code is None or viewer.sees(poll.region_code)


def _manages(viewer: Viewer, poll: Poll) -> bool:
    """As ``can_manage`` in chat: the poll's author, or whoever manages its region."""
    if viewer.is_admin or poll.created_by_id == viewer.member_id:
        return True
    return any(covers(scope, poll.region_code or "") for scope in viewer.scopes)


def _results_shown(app: App, viewer: Viewer, poll: Poll) -> bool:
    return poll.results_live or is_closed(poll, app.clock.now()) or _manages(viewer, poll)


#: A page about one poll (``/dasbor/polls/{poll}``): 404 if none, 403 for another region's.
poll_page_of = record_page(
    lambda number: Poll.get_or_none(id=number),
    visible=_visible,
    region=lambda poll: poll.region_code,
    key="poll",
)


@dashboard_page()
async def polls_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    app = request.app[APP_KEY]
    lang = language_of(request)
    now = app.clock.now()
    polls = [p for p in await Poll.all().order_by("-id").limit(500) if _visible(viewer, p)][:100]
    # Respondents as /polls counts them (the sum of ballot weights), for every poll at once,
    # from the result cells kept with the ballots (a few thousand rows, not every ballot).
    sums = (
        await TallyCell.filter(poll_id__in=[p.id for p in polls])
        .annotate(n=Sum("weight"))
        .group_by("poll_id")
        .values("poll_id", "n")
    )
    respondents_of = {int(row["poll_id"]): int(row["n"] or 0) for row in sums}
    items = []
    for poll in polls:
        respondents = respondents_of.get(poll.id, 0)
        items.append(
            {
                "poll": poll,
                "question": label(poll.question, lang),
                "closed": is_closed(poll, now),
                "respondents": respondents,
                "region": await app.regions.name(poll.region_code) if poll.region_code else "",
            }
        )
    return await render(request, "polls.html", items=items)


@poll_page_of
async def poll_page(request: web.Request, viewer: Viewer, poll: Poll) -> web.StreamResponse:
    app = request.app[APP_KEY]
    lang = language_of(request)
    by = By.parse(request.query.get("by"), default_by(poll))
    options = [label(o, lang) for o in poll.options]
    context: dict[str, Any] = {
        "poll": poll,
        "question": label(poll.question, lang),
        "options": options,
        "by": by.value,
        "closed": is_closed(poll, app.clock.now()),
        "shown": _results_shown(app, viewer, poll),
        "region": await app.regions.name(poll.region_code) if poll.region_code else "",
    }
    if context["shown"]:
        min_size = int(app.plugin_settings("polls").min_group_size)
        table = await tally(poll.id, len(poll.options), by, min_size)
        rows = await export_rows(
            table,
            app.regions.name,
            str(app.translator("polls.results.other_regions", lang)),
            str(app.translator("polls.export.overall", lang)),
        )
        overall = table.overall
        context.update(
            overall=overall,
            min_size=min_size,
            rows=[
                {
                    "code": item.code,
                    "name": item.name,
                    "respondents": item.row.respondents,
                    "percents": [percent(item.row.share(i)) for i in range(len(options))],
                }
                for item in rows
            ],
            chart=bar_chart(
                [(o, overall.share(i)) for i, o in enumerate(options)],
                title=label(poll.question, lang),
                value_label=[
                    f"{percent(overall.share(i))} ({overall.counts[i]})"
                    for i in range(len(options))
                ],
            ),
            has_waves=bool(poll.template)
            and await Poll.filter(template=poll.template, region_code=poll.region_code)
            .exclude(id=poll.id)
            .exists(),
        )
    return await render(request, "poll.html", **context)


async def _waves(app: App, viewer: Viewer, poll: Poll, lang: str) -> list[dict[str, Any]]:
    """Every wave of the poll's template (same options), for side-by-side shares."""
    if not poll.template:
        return []
    found = await Poll.filter(template=poll.template, region_code=poll.region_code).order_by(
        "wave", "id"
    )
    waves = []
    for other in found:
        if len(other.options) != len(poll.options) or not _results_shown(app, viewer, other):
            continue
        row = (await tally(other.id, len(other.options), By.OVERALL, 1)).overall
        waves.append(
            {
                "poll": other,
                "respondents": row.respondents,
                "percents": [percent(row.share(i)) for i in range(len(other.options))],
            }
        )
    return waves if len(waves) > 1 else []


@poll_page_of
async def waves_page(request: web.Request, viewer: Viewer, poll: Poll) -> web.StreamResponse:
    """Every wave of the poll's template side by side (as /poll_compare, for all waves)."""
    app = request.app[APP_KEY]
    lang = language_of(request)
    return await render(
        request,
        "waves.html",
        poll=poll,
        question=label(poll.question, lang),
        options=[label(o, lang) for o in poll.options],
        waves=await _waves(app, viewer, poll, lang),
    )


@poll_page_of
async def poll_export(request: web.Request, viewer: Viewer, poll: Poll) -> web.StreamResponse:
    app = request.app[APP_KEY]
    if not _results_shown(app, viewer, poll):
        return await forbidden(request, viewer, region=poll.region_code, why="results hidden")
    fmt = request.match_info["format"]
    by = By.parse(request.query.get("by"), By.OVERALL)
    lang = language_of(request)
    text = await export_text(app, poll, fmt, by, lang)
    await app.audit.record(
        "polls.export", actor=viewer.member_id, target=f"poll:{poll.id}", by=by.value, via="web"
    )
    return download(
        text,
        filename=f"poll-{poll.id}-{by.value}.{fmt}",
        content_type="application/json" if fmt == "json" else "text/csv",
        charset="utf-8",
    )


def routes() -> list[web.RouteDef]:
    return [
        web.get("/dasbor/polls", polls_page),
        web.get("/dasbor/polls/{poll}", poll_page),
        web.get("/dasbor/polls/{poll}/waves", waves_page),
        web.get(r"/dasbor/polls/{poll}/export.{format:csv|json}", poll_export),
    ]


def pages() -> list[DashboardPage]:
    return [DashboardPage("/dasbor/polls", "polls.web.nav", templates="plugins.polls", order=20)]
