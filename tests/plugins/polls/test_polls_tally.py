"""Results read from cells kept in the ballots' own transactions: after every kind of ballot
change (a vote, a changed vote, a withdrawn one, a merge, a forgotten member, a member who
moved) the cells give exactly what counting the ballots gives."""

from __future__ import annotations

from datetime import timedelta

from core import App, Member
from core.testing import TEST_START
from plugins.polls.ballots import forget_ballots, merge_ballots, move_region, record_vote
from plugins.polls.models import Ballot, Poll, TallyCell
from plugins.polls.tally import By, raw_rows

OPTIONS = 3


async def _recount(poll: Poll, by: By) -> dict[str | None, tuple[int, tuple[int, ...]]]:
    """The ballots counted one by one, in Python."""
    column = {By.KABUPATEN: "region_code", By.PROVINCE: "province_code"}.get(by)
    out: dict[str | None, list[int]] = {}
    for ballot in await Ballot.filter(poll_id=poll.id):
        key = getattr(ballot, column) if column else None
        row = out.setdefault(key, [0] * (OPTIONS + 1))
        row[0] += ballot.weight
        for i in range(OPTIONS):
            row[i + 1] += ballot.weight * (ballot.choices >> i & 1)
    return {k: (v[0], tuple(v[1:])) for k, v in out.items() if v[0]}


async def _check(poll: Poll) -> None:
    for by in (By.KABUPATEN, By.PROVINCE, By.OVERALL):
        cells = {r.code: (r.respondents, r.counts) for r in await raw_rows(poll.id, OPTIONS, by)}
        assert cells == await _recount(poll, by), by


async def test_cells_follow_every_ballot_change(app: App) -> None:
    poll = await Poll.create(
        question={"id": "Untuk apa?"},
        options=[{"id": "pangan"}, {"id": "modal"}, {"id": "listrik"}],
        multiple=True,
        created_at=TEST_START,
    )
    regions = ["11.08", "11.08", "11.11", "12.71", None, "11.08"]
    members = [
        await Member.create(display_name=f"m{i}", region_code=code)
        for i, code in enumerate(regions)
    ]
    now = TEST_START + timedelta(minutes=1)
    for i, member in enumerate(members):
        await record_vote(poll, member, [i % OPTIONS, (i + 1) % OPTIONS], "telegram", now)
    await _check(poll)
    assert await TallyCell.filter(poll_id=poll.id).count() <= len(members)

    await record_vote(poll, members[0], [2], "discord", now)  # changed
    await record_vote(poll, members[1], [], "telegram", now)  # withdrawn
    await _check(poll)

    later = now + timedelta(minutes=5)
    await record_vote(poll, members[5], [0], "discord", later)
    await merge_ballots(members[5], members[0])  # both voted: the later ballot stays
    await _check(poll)
    assert await Ballot.filter(poll_id=poll.id, member_id=members[5].id).count() == 1

    await forget_ballots(members[2])
    await _check(poll)

    members[3].region_code = "11.11"
    await members[3].save(update_fields=["region_code"])
    await move_region(members[3], later)
    await _check(poll)
    respondents = sum(r.respondents for r in await raw_rows(poll.id, OPTIONS, By.OVERALL))
    assert respondents == await Ballot.filter(poll_id=poll.id).count()
