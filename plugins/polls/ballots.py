"""Recording votes: one ballot per member per poll, whatever platform they vote from.

A second vote replaces the first; linked accounts are one member, so they count once.
Forgetting a member folds their ballots into anonymous aggregate rows (no member, a weight),
so the results stay right while the personal row is gone.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from core import Member, covers
from plugins.polls.models import Ballot, Poll, TallyCell

__all__ = [
    "VoteRefused",
    "choices_of",
    "export_ballots",
    "forget_ballots",
    "is_closed",
    "label",
    "mask_of",
    "merge_ballots",
    "record_vote",
]


class VoteRefused(Exception):
    """The vote was not counted; ``key`` is the text key telling the member why."""

    def __init__(self, key: str, **kwargs: Any) -> None:
        super().__init__(key)
        self.key = key
        self.kwargs = kwargs


def label(texts: dict[str, str], lang: str) -> str:
    """A label in ``lang``, else Indonesian, else whatever language it has."""
    return texts.get(lang) or texts.get("id") or next(iter(texts.values()), "")


def mask_of(options: Iterable[int]) -> int:
    mask = 0
    for option in options:
        mask |= 1 << option
    return mask


def choices_of(mask: int, count: int) -> list[int]:
    return [i for i in range(count) if mask >> i & 1]


def is_closed(poll: Poll, now: datetime) -> bool:
    return poll.closed_at is not None or (poll.closes_at is not None and poll.closes_at <= now)


def province_of(region_code: str | None) -> str | None:
    return region_code.split(".", 1)[0] if region_code else None


async def record_vote(
    poll: Poll, member: Member, options: Iterable[int], platform: str | None, now: datetime
) -> Ballot | None:
    """Make ``options`` the member's answer (replacing any earlier one); an empty answer
    withdraws the ballot. Raises :class:`VoteRefused` if the vote can't count."""
    picked = sorted(set(options))
    if is_closed(poll, now):
        raise VoteRefused("polls.vote.closed", poll=poll.id)
    if any(o < 0 or o >= len(poll.options) for o in picked):
        raise VoteRefused("polls.vote.bad_option", poll=poll.id)
    if not poll.multiple and len(picked) > 1:
        raise VoteRefused("polls.vote.single_only", poll=poll.id)
    if poll.region_code and not (
        member.region_code and covers(poll.region_code, member.region_code)
    ):
        raise VoteRefused("polls.vote.out_of_scope", poll=poll.id)
    fields: dict[str, Any] = {
        "choices": mask_of(picked),
        "region_code": member.region_code,
        "province_code": province_of(member.region_code),
        "platform": platform,
        "voted_at": now,
    }
    # The ballot and the result cells change together, or not at all.
    async with in_transaction():
        ballot = await _locked(Ballot.filter(poll_id=poll.id, member_id=member.id)).first()
        if ballot is not None:
            await shift(ballot, -ballot.weight)
        if not picked:
            if ballot is not None:
                await Ballot.filter(id=ballot.id).delete()
            return None
        if ballot is None:
            try:
                async with in_transaction():
                    ballot = await Ballot.create(poll_id=poll.id, member_id=member.id, **fields)
            except IntegrityError:
                # The same member voted from another platform at the same moment: last wins.
                ballot = await _locked(Ballot.filter(poll_id=poll.id, member_id=member.id)).get()
                await shift(ballot, -ballot.weight)
            else:
                await shift(ballot, ballot.weight)
                return ballot
        await Ballot.filter(id=ballot.id).update(**fields)
        for name, value in fields.items():
            setattr(ballot, name, value)
        await shift(ballot, ballot.weight)
    return ballot


def _locked(query: QuerySet[Ballot]) -> QuerySet[Ballot]:
    """The ballot rows locked for this transaction (PostgreSQL; SQLite has one writer and
    tortoise leaves ``FOR UPDATE`` out there)."""
    return query.select_for_update()


async def shift(ballot: Ballot, weight: int) -> None:
    """Add ``weight`` to the result cell of the ballot's poll, region and answer set."""
    cell = (
        await TallyCell.filter(
            poll_id=ballot.poll_id, region_code=ballot.region_code, choices=ballot.choices
        )
        .order_by("id")
        .first()
        .values_list("id", flat=True)
    )
    if cell is not None:
        await TallyCell.filter(id=cell).update(weight=F("weight") + weight)
        return
    await TallyCell.create(
        poll_id=ballot.poll_id,
        region_code=ballot.region_code,
        province_code=ballot.province_code,
        choices=ballot.choices,
        weight=weight,
    )


async def current_choices(poll: Poll, member_id: int) -> int:
    ballot = await Ballot.get_or_none(poll_id=poll.id, member_id=member_id)
    return ballot.choices if ballot else 0


async def merge_ballots(kept: Member, merged: Member) -> int:
    """Give ``merged``'s ballots to ``kept``; where both voted, the later ballot stays."""
    moved = 0
    async with in_transaction():
        for ballot in await Ballot.filter(member_id=merged.id):
            other = await Ballot.get_or_none(poll_id=ballot.poll_id, member_id=kept.id)
            if other is None:
                await Ballot.filter(id=ballot.id).update(member_id=kept.id)
                moved += 1
            elif ballot.voted_at > other.voted_at:
                await shift(other, -other.weight)
                await other.delete()
                await Ballot.filter(id=ballot.id).update(member_id=kept.id)
                moved += 1
            else:
                await shift(ballot, -ballot.weight)
                await ballot.delete()
    return moved


async def forget_ballots(member: Member) -> int:
    """Turn the member's ballots into anonymous aggregate rows: the counts stay, the tie to
    the person goes. Identical answers from the same region share one aggregate row."""
    forgotten = 0
    async with in_transaction():
        for ballot in await Ballot.filter(member_id=member.id):
            aggregate = await Ballot.filter(
                poll_id=ballot.poll_id,
                member_id=None,
                region_code=ballot.region_code,
                choices=ballot.choices,
            ).first()
            if aggregate is None:
                await Ballot.filter(id=ballot.id).update(member_id=None, platform=None)
            else:
                await Ballot.filter(id=aggregate.id).update(weight=F("weight") + ballot.weight)
                await ballot.delete()
            forgotten += 1
    return forgotten


async def export_ballots(member: Member) -> list[dict[str, Any]]:
    """The member's ballots, with the question and answers in the member's language."""
    out = []
    for ballot in await Ballot.filter(member_id=member.id).prefetch_related("poll"):
        poll = ballot.poll
        lang = member.language or "id"
        out.append(
            {
                "poll": poll.id,
                "question": label(poll.question, lang),
                "answers": [
                    label(poll.options[i], lang)
                    for i in choices_of(ballot.choices, len(poll.options))
                ],
                "region": ballot.region_code,
                "platform": ballot.platform,
                "voted_at": ballot.voted_at.isoformat(),
            }
        )
    return out


async def move_region(member: Member, now: datetime) -> int:
    """Ballots in open polls follow the member to their new region (where the poll's scope
    still covers it)."""
    poll_ids = await Ballot.filter(member_id=member.id).values_list("poll_id", flat=True)
    if not poll_ids:
        return 0
    open_ids = [
        p.id
        for p in await Poll.filter(id__in=list(poll_ids), closed_at=None)
        if not is_closed(p, now)
        and (
            p.region_code is None
            or (member.region_code is not None and covers(p.region_code, member.region_code))
        )
    ]
    if not open_ids:
        return 0
    async with in_transaction():
        ballots = await _locked(Ballot.filter(member_id=member.id, poll_id__in=open_ids))
        for ballot in ballots:
            await shift(ballot, -ballot.weight)
            ballot.region_code = member.region_code
            ballot.province_code = province_of(member.region_code)
            await shift(ballot, ballot.weight)
        return await Ballot.filter(member_id=member.id, poll_id__in=open_ids).update(
            region_code=member.region_code, province_code=province_of(member.region_code)
        )
