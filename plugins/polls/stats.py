"""Figures for ``/stats``: polls run and how many of the eligible members answered."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tortoise.expressions import Q
from tortoise.functions import Sum

from core import App, Member, covers
from plugins.polls.ballots import is_closed
from plugins.polls.models import Ballot, Poll

__all__ = ["collect"]

_RECENT = 5


def _within(codes: Sequence[str], field: str) -> Q:
    query = Q()
    for code in codes:
        query |= Q(**{field: code}) | Q(**{f"{field}__startswith": f"{code}."})
    return query


async def collect(region_codes: Sequence[str] | None, app: App) -> dict[str, Any]:
    """Polls touching these regions (None: the whole country) and the response rate of the
    most recent ones: respondents from the regions over members registered there."""
    polls = await Poll.all().order_by("-id")
    if region_codes is not None:
        polls = [
            p
            for p in polls
            if p.region_code is None
            or any(covers(p.region_code, c) or covers(c, p.region_code) for c in region_codes)
        ]
    now = app.clock.now()
    recent = []
    for poll in polls[:_RECENT]:
        scope = [poll.region_code] if poll.region_code else None
        if region_codes is not None:
            scope = [
                c for c in region_codes if poll.region_code is None or covers(poll.region_code, c)
            ] or [poll.region_code or ""]
        ballots = Ballot.filter(poll_id=poll.id)
        members = Member.filter(region_code__not_isnull=True)
        if scope is not None:
            ballots = ballots.filter(_within(scope, "region_code"))
            members = members.filter(_within(scope, "region_code"))
        row = await ballots.annotate(total=Sum("weight")).first().values("total")
        respondents = int((row or {}).get("total") or 0)
        eligible = await members.count()
        recent.append(
            {
                "poll": poll.id,
                "template": poll.template,
                "wave": poll.wave,
                "open": not is_closed(poll, now),
                "respondents": respondents,
                "eligible": eligible,
                "response_rate": round(respondents / eligible, 4) if eligible else None,
            }
        )
    return {
        "polls": len(polls),
        "open": sum(1 for p in polls if not is_closed(p, now)),
        "recent": recent,
    }
