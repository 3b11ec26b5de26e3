"""Folding of small groups, exports (chat CSV, CLI csv/json), waves compared, privacy hooks,
stats, and who may do what."""

from __future__ import annotations

import csv
import io
import json

import pytest

from core import App
from core.testing import FakeChat
from plugins.polls import cli
from plugins.polls.models import Ballot, Poll
from plugins.polls.tally import OTHER, By, Row, fold, tally


async def poll_with_votes(
    chat: FakeChat, town, votes: dict[str, list[list[int]]], spec: str
) -> Poll:  # type: ignore[no-untyped-def]
    group = chat.group("Alumni")
    pmo = chat.user("pmo")
    await town.admin(pmo)
    await pmo.says(group, f"/poll_new {spec}")
    poll = await Poll.all().order_by("-id").first()
    assert poll is not None
    labels = chat.last(group).button_labels()
    for region, ballots in votes.items():
        for n, options in enumerate(ballots):
            user = chat.user(f"p{poll.id}_{region.replace('.', '_')}_{n}")
            await town.place(user, region)
            if labels:
                for option in options:
                    await user.presses(labels[option], group)
            else:  # a native poll
                await user.votes([o + 1 for o in options], group)
    return poll


def test_fold_small_groups_into_other_regions() -> None:
    rows = [
        Row("11.08", 8, (8, 0)),
        Row("11.11", 7, (0, 7)),
        Row("12.71", 3, (3, 0)),
        Row("31.71", 2, (1, 1)),
    ]
    kept, other = fold(rows, 5, 2)
    assert [r.code for r in kept] == ["11.08", "11.11"]
    assert other == Row(OTHER, 5, (4, 1))


def test_fold_adds_the_next_smallest_group_when_other_is_still_too_small() -> None:
    # Alone, the folded 4 could be worked out as overall minus the shown groups.
    rows = [Row("11.08", 10, (10, 0)), Row("11.11", 6, (0, 6)), Row("12.71", 4, (4, 0))]
    kept, other = fold(rows, 5, 2)
    assert [r.code for r in kept] == ["11.08"]
    assert other == Row(OTHER, 10, (4, 6))


def test_fold_keeps_everything_when_all_groups_are_big_enough() -> None:
    rows = [Row("11", 5, (1, 4)), Row("12", 9, (9, 0))]
    assert fold(rows, 5, 2) == (rows, None)


async def test_small_regions_are_folded_in_the_results_text(
    polls_chat: FakeChat, polls_app: App, town
) -> None:
    votes = {
        "11.08": [[0]] * 8,
        "11.11": [[1]] * 7,
        "12.71": [[0], [0], [1]],
        "31.71": [[0], [1]],
    }
    poll = await poll_with_votes(polls_chat, town, votes, "Ikut? | Ya | Tidak")
    table = await tally(poll.id, 2, By.KABUPATEN, 5)
    assert [r.code for r in table.rows] == ["11.08", "11.11"]
    assert table.other == Row(OTHER, 5, (3, 2))
    assert sorted(table.folded) == ["12.71", "31.71"]  # type: ignore[type-var]
    await polls_chat.user("pmo").says(polls_chat.group("Alumni"), f"/poll_results {poll.id} kab")
    sent = polls_chat.expect_sent(polls_chat.group("Alumni"), contains="Wilayah lain, 5 responden")
    assert "Medan" not in sent.text
    assert "Jakarta" not in sent.text
    assert "2 wilayah dengan kurang dari 5 responden" in sent.text


async def test_csv_export_in_chat_is_aggregated_and_folded(polls_chat: FakeChat, town) -> None:
    votes = {"11.08": [[0, 1]] * 6, "12.71": [[1]] * 2, "31.71": [[0]] * 3}
    poll = await poll_with_votes(polls_chat, town, votes, "Pakai? | A | B --multi")
    group = polls_chat.group("Alumni")
    await polls_chat.user("pmo").says(group, f"/poll_export {poll.id} provinsi")
    sent = polls_chat.expect_sent(group, contains="agregat")
    [attached] = sent.attachments
    kind, filename, data = attached.kind, attached.filename, attached.data
    assert kind == "file"
    assert filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO(data.decode())))
    assert rows[0] == [
        "region_code",
        "region_name",
        "respondents",
        "A (n)",
        "A (share)",
        "B (n)",
        "B (share)",
    ]
    assert rows[1] == ["11", "Aceh", "6", "6", "1.0000", "6", "1.0000"]
    assert rows[2] == ["other", "Wilayah lain", "5", "3", "0.6000", "2", "0.4000"]
    assert rows[3] == ["all", "Semua wilayah", "11", "9", "0.8182", "8", "0.7273"]
    assert not any("member" in cell for row in rows for cell in row)


async def test_individual_ballots_only_for_admins_and_never_for_anonymous_polls(
    polls_chat: FakeChat, town
) -> None:
    group = polls_chat.group("Alumni")
    anonymous = await poll_with_votes(polls_chat, town, {"11.08": [[0]]}, "Q | A | B")
    public = await poll_with_votes(polls_chat, town, {"11.08": [[1]]}, "Q2 | A | B --public")
    pmo = polls_chat.user("pmo")
    await pmo.says(group, f"/poll_export {anonymous.id} ballots")
    polls_chat.expect_sent(group, contains="tidak pernah diekspor")
    captain = polls_chat.user("kapten")
    await town.captain(captain, "")  # even a captain of the whole country is not an admin
    await captain.says(group, f"/poll_export {public.id} ballots")
    polls_chat.expect_sent(group, contains="Hanya admin PMO")
    await pmo.says(group, f"/poll_export {public.id} ballots")
    polls_chat.expect_sent(group, contains="secara pribadi")
    sent = polls_chat.expect_sent(pmo, contains="Jawaban perorangan")
    rows = list(csv.reader(io.StringIO(sent.attachments[0].data.decode())))
    assert rows[0][:3] == ["member_id", "name", "region_code"]
    assert rows[1][1:3] == [f"p{public.id}_11_08_0", "11.08"]
    assert rows[1][-2:] == ["0", "1"]


async def test_cli_export_csv_and_json_by_region(
    polls_chat: FakeChat, polls_app: App, town
) -> None:
    votes = {"11.08": [[0]] * 5, "11.11": [[1]] * 5, "12.71": [[0]]}
    poll = await poll_with_votes(polls_chat, town, votes, "Q | A | B")
    out = io.StringIO()
    assert await cli.export_poll(polls_app, out, poll.id, format="csv", by="region") == 0
    lines = out.getvalue().splitlines()
    # 12.71 alone is too small, and folding it alone would let anyone subtract it from the
    # total: the next smallest region (11.08) joins it.
    assert lines[1:] == [
        "11.11,Kab. Bireuen,5,0,0.0000,5,1.0000",
        "other,Wilayah lain,6,6,1.0000,0,0.0000",
        "all,Semua wilayah,11,6,0.5455,5,0.4545",
    ]
    out = io.StringIO()
    assert (
        await cli.export_poll(polls_app, out, poll.id, format="json", by="province", lang="en") == 0
    )
    data = json.loads(out.getvalue())
    assert data["by"] == "province"
    assert data["min_group_size"] == 5
    # Sumatera Utara has one respondent: showing Aceh would give it away, so both fold.
    assert [r["region_code"] for r in data["rows"]] == ["other", "all"]
    assert data["rows"][0]["region_name"] == "Other regions"
    assert data["rows"][0]["respondents"] == 11
    assert data["rows"][-1]["respondents"] == 11
    assert data["rows"][-1]["options"][0] == {"label": "A", "count": 6, "share": 0.5455}
    out = io.StringIO()
    assert await cli.export_poll(polls_app, out, 999) == 1


async def test_cli_command_is_registered_under_export(polls_app: App) -> None:
    [(_plugin, commands)] = [(p, c) for p, c in polls_app.plugins.cli_commands() if p == "polls"]
    assert [(c.group, c.name) for c in commands] == [("export", "poll")]


async def test_waves_of_the_template_compare_option_by_option(polls_chat: FakeChat, town) -> None:
    first = await poll_with_votes(polls_chat, town, {"11.08": [[0], [0, 1]]}, "incentive")
    second = await poll_with_votes(polls_chat, town, {"11.08": [[1], [0, 1], [1, 3]]}, "insentif")
    assert (first.wave, second.wave) == (1, 2)
    group = polls_chat.group("Alumni")
    await polls_chat.user("amir").says(group, f"/poll_compare {first.id} {second.id}")
    sent = polls_chat.expect_sent(group, contains="Responden: 2 → 3")
    assert "Bahan pangan: 100% → 33% (-67 poin)" in sent.text
    assert "Modal usaha: 50% → 100% (+50 poin)" in sent.text
    assert sent.attachments
    assert sent.attachments[0].filename.endswith(".png")
    other = await poll_with_votes(polls_chat, town, {}, "Q | A | B")
    await polls_chat.user("amir").says(group, f"/poll_compare {first.id} {other.id}")
    polls_chat.expect_sent(group, contains="tidak bisa dibandingkan")


async def test_forgetting_a_member_keeps_the_counts_right(
    polls_chat: FakeChat, polls_app: App, town
) -> None:
    votes = {"11.08": [[0, 1], [0, 1], [1]]}
    poll = await poll_with_votes(polls_chat, town, votes, "Q | A | B --multi")
    before = await tally(poll.id, 2, By.KABUPATEN, 1)
    members = [await town.member(polls_chat.user(f"p{poll.id}_11_08_{n}")) for n in range(3)]
    exported = await polls_app.plugins.export_member(members[0])
    assert exported["polls"]["ballots"][0]["answers"] == ["A", "B"]
    await polls_app.plugins.forget_member(members[0])
    await polls_app.plugins.forget_member(members[1])
    assert await Ballot.filter(member_id__in=[m.id for m in members[:2]]).count() == 0
    # The two identical answers became one anonymous row standing for two ballots.
    aggregate = await Ballot.get(poll_id=poll.id, member_id=None)
    assert (aggregate.weight, aggregate.platform) == (2, None)
    assert await tally(poll.id, 2, By.KABUPATEN, 1) == before
    assert (await polls_app.plugins.export_member(members[0]))["polls"] == {"ballots": []}


async def test_stats_give_response_rates(polls_chat: FakeChat, polls_app: App, town) -> None:
    poll = await poll_with_votes(
        polls_chat, town, {"11.08": [[0]] * 3, "12.71": [[1]]}, "Q | A | B"
    )
    await town.place(polls_chat.user("silent"), "11.08")
    stats = (await polls_app.plugins.collect_stats(["11"], polls_app))["polls"]
    [recent] = stats["recent"]
    assert recent["poll"] == poll.id
    assert recent["respondents"] == 3
    assert recent["eligible"] == 4
    assert recent["response_rate"] == 0.75
    national = (await polls_app.plugins.collect_stats(None, polls_app))["polls"]
    assert national["recent"][0]["respondents"] == 4
    assert national["open"] == 1


async def test_captain_polls_are_scoped_to_their_region(
    polls_chat: FakeChat, polls_app: App, town, regions
) -> None:
    group = polls_chat.group("Aceh Utara")
    other_group = polls_chat.group("Medan")
    regions.chats["11.08"] = [group, other_group]
    captain = polls_chat.user("kapten")
    await town.captain(captain, "11")
    await town.place(captain, "11.08")
    await captain.says(group, "/poll_new Q | A | B --region 12.71")
    polls_chat.expect_sent(group, contains="tidak mengurus wilayah 12.71")
    await captain.says('/poll_new Kopdar? | Sabtu | Minggu --region "aceh utara" --hidden')
    polls_chat.expect_sent(captain, contains="dikirim ke 2 grup wilayah")
    poll = await Poll.get(id=1)
    assert poll.region_code == "11.08"
    assert not poll.results_live
    medan = polls_chat.user("medan")
    await town.place(medan, "12.71")
    await medan.presses("Sabtu", other_group)
    polls_chat.expect_sent(medan, contains="untuk wilayah lain")
    local = polls_chat.user("lokal")
    await town.place(local, "11.08")
    await local.presses("Minggu", group)
    await local.says(group, "/poll_results 1")
    polls_chat.expect_sent(group, contains="ditampilkan setelah polling ditutup")
    await captain.says(group, "/poll_results 1")  # captains of the region see it early
    polls_chat.expect_sent(group, contains="Responden: 1")
    await medan.says(other_group, "/poll_close 1")
    polls_chat.expect_sent(other_group, contains="hanya untuk kapten atau admin")
    await captain.says(group, "/polling_tutup 1")
    polls_chat.expect_sent(group, contains="Polling #1 sudah ditutup")
    polls_chat.expect_sent(other_group, contains="Hasil polling #1")
    await local.says(group, "/poll_results 1")
    polls_chat.expect_sent(group, contains="Minggu: 100%")
    await captain.says(group, "/poll_close 1")
    polls_chat.expect_sent(group, contains="memang sudah ditutup")


def test_templates_are_checked_when_the_bot_starts() -> None:
    import pydantic

    from plugins.polls.settings import PollSettings

    good = {"question": {"id": "Q?"}, "options": [{"id": "A"}, {"id": "B"}]}
    assert PollSettings.model_validate({"templates": {"t": good}}).template("T") is not None
    for bad in (
        {**good, "options": [{"id": "A"}]},
        {**good, "closes_after": "soon"},
        {**good, "question": {"id": " "}},
    ):
        with pytest.raises(pydantic.ValidationError):
            PollSettings.model_validate({"templates": {"t": bad}})
    with pytest.raises(pydantic.ValidationError):
        PollSettings.model_validate({"templates": {"a": good, "b": {**good, "aliases": ["A"]}}})
