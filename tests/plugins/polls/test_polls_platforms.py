"""One ballot per member across platforms: native polls on Telegram and Discord, buttons on
a platform without native polls, linked accounts, and merging members."""

from __future__ import annotations

from core import Account, App, Capability, Context, Member, PollAnswered
from core.testing import ALL_CAPABILITIES, FakeChat, MemoryAdapter
from plugins.polls.models import Ballot, Poll, Post
from plugins.polls.tally import By, tally


def three_platforms(app: App) -> tuple[FakeChat, MemoryAdapter, MemoryAdapter, MemoryAdapter]:
    telegram = MemoryAdapter("telegram")
    discord = MemoryAdapter("discord")
    web = MemoryAdapter("web", caps=ALL_CAPABILITIES - {Capability.NATIVE_POLLS})
    return FakeChat(app, [telegram, discord, web]), telegram, discord, web


async def link(app: App, *accounts_of: Member) -> None:
    """Point every account of the later members at the first member (what /link does)."""
    kept = accounts_of[0]
    for other in accounts_of[1:]:
        await app.plugins.members_merged(app, kept, other)
        await Account.filter(member_id=other.id).update(member_id=kept.id)
        await other.delete()


async def test_native_and_button_votes_merge_into_one_result(polls_app: App, town) -> None:
    chat, _telegram, _discord, _web = three_platforms(polls_app)
    tg_group = chat.group("Aceh TG", platform="telegram")
    dc_group = chat.group("Aceh DC", platform="discord")
    web_group = chat.group("Aceh Web", platform="web")
    pmo = chat.user("pmo", platform="telegram")
    await town.admin(pmo)
    # A non-anonymous poll may be native: voters are visible to the group anyway.
    await pmo.says(tg_group, "/poll_new Cara belajar? | Video | Modul | Mentor --public --multi")
    poll = await Poll.get(id=1)
    assert not poll.anonymous
    tg_post = chat.last(tg_group)
    assert tg_post.poll_id
    assert tg_post.poll_multiple
    assert tg_post.poll_options == (
        "Video",
        "Modul",
        "Mentor",
    )
    pmo_dc = chat.user("pmo_dc", platform="discord")
    pmo_web = chat.user("pmo_web", platform="web")
    await town.admin(pmo_dc)
    await town.admin(pmo_web)
    await pmo_dc.says(dc_group, "/poll_post 1")
    await pmo_web.says(web_group, "/poll_post 1")
    assert chat.last(dc_group).poll_id  # native on Discord
    assert chat.last(web_group).button_labels() == ["Video", "Modul", "Mentor"]  # buttons
    posts = await Post.filter(poll_id=1)
    assert {(p.platform, p.native_poll_id is not None) for p in posts} == {
        ("telegram", True),
        ("discord", True),
        ("web", False),
    }

    for i in range(2):
        user = chat.user(f"tg{i}", platform="telegram")
        await town.place(user, "11.08")
        await user.votes([1, 3], tg_group)
    for i in range(2):
        user = chat.user(f"dc{i}", platform="discord")
        await town.place(user, "11.08")
        await user.votes([2], dc_group)
    for i in range(2):
        user = chat.user(f"web{i}", platform="web")
        await town.place(user, "11.08")
        await user.presses("Video", web_group)

    result = await tally(1, 3, By.OVERALL, 1)
    assert result.overall.respondents == 6
    assert result.overall.counts == (4, 2, 2)
    platforms = await Ballot.filter(poll_id=1).values_list("platform", flat=True)
    assert sorted(platforms) == ["discord", "discord", "telegram", "telegram", "web", "web"]

    await pmo.says(tg_group, "/poll_close 1")
    assert tg_post.poll_closed  # the platforms stop taking votes
    assert chat.latest_poll(dc_group).poll_closed  # type: ignore[union-attr]
    assert chat.latest_with_button(web_group, "Video") is None  # buttons removed
    for group in (tg_group, dc_group, web_group):
        chat.expect_sent(group, contains="Responden: 6")


async def test_linked_member_counts_once_and_a_retracted_native_vote_withdraws(
    polls_app: App, town
) -> None:
    chat, *_ = three_platforms(polls_app)
    tg_group = chat.group("Aceh TG", platform="telegram")
    dc_group = chat.group("Aceh DC", platform="discord")
    pmo = chat.user("pmo", platform="telegram")
    await town.admin(pmo)
    await pmo.says(tg_group, "/poll_new Hadir temu alumni? | Ya | Tidak --public")
    pmo_dc = chat.user("pmo", platform="discord")
    await town.admin(pmo_dc)
    await pmo_dc.says(dc_group, "/poll_post 1")

    siti_tg = chat.user("siti", platform="telegram")
    siti_dc = chat.user("siti", platform="discord")
    kept = await town.place(siti_tg, "11.08")
    other = await town.member(siti_dc)
    await link(polls_app, kept, other)

    await siti_tg.votes([1], tg_group)
    await siti_dc.votes([2], dc_group)  # the same person changes their mind on Discord
    [ballot] = await Ballot.filter(poll_id=1)
    assert ballot.member_id == kept.id
    assert ballot.choices == 1 << 1
    assert ballot.platform == "discord"
    assert (await tally(1, 2, By.OVERALL, 1)).overall.counts == (0, 1)

    # An empty answer is a retracted vote (Telegram sends it when a voter takes theirs back).
    await chat.emit(
        PollAnswered(
            user=siti_dc.sender,
            chat=dc_group,
            poll_id=chat.last(dc_group).poll_id or "",
            options=(),
            at=chat.now(),
        )
    )
    assert await Ballot.filter(poll_id=1).count() == 0


async def test_merging_members_keeps_one_ballot_the_later_one(polls_app: App, town) -> None:
    chat, *_ = three_platforms(polls_app)
    tg_group = chat.group("Aceh TG", platform="telegram")
    dc_group = chat.group("Aceh DC", platform="discord")
    pmo = chat.user("pmo", platform="telegram")
    await town.admin(pmo)
    await pmo.says(tg_group, "/poll_new Hadir? | Ya | Tidak --public")
    await pmo.says(tg_group, "/poll_new Datang? | Ya | Tidak --public")
    pmo_dc = chat.user("pmo", platform="discord")
    await town.admin(pmo_dc)
    await pmo_dc.says(dc_group, "/poll_post 1")

    budi_tg = chat.user("budi", platform="telegram")
    budi_dc = chat.user("budi", platform="discord")
    first = await town.place(budi_tg, "11.08")
    second = await town.place(budi_dc, "11.08")
    await budi_tg.votes([1], tg_group)  # poll 2 (the latest in the Telegram group)
    await budi_dc.votes([1], dc_group)  # poll 1
    await chat.advance("1m")
    tg_poll1 = next(s for s in chat.sent_to(tg_group) if s.poll_question == "Hadir?")
    await chat.emit(
        PollAnswered(
            user=budi_tg.sender, chat=tg_group, poll_id=tg_poll1.poll_id or "", options=(1,)
        )
    )
    assert await Ballot.filter(poll_id=1).count() == 2  # two members, not linked yet

    await link(polls_app, first, second)
    ballots = await Ballot.filter(poll_id=1)
    assert len(ballots) == 1
    assert ballots[0].member_id == first.id
    assert ballots[0].choices == 1 << 1  # the later vote (Tidak) stays
    assert (await Ballot.get(poll_id=2)).member_id == first.id


async def test_ballots_in_open_polls_follow_a_member_who_moves(polls_app: App, town) -> None:
    chat, *_ = three_platforms(polls_app)
    group = chat.group("Aceh Web", platform="web")
    pmo = chat.user("pmo", platform="web")
    await town.admin(pmo)
    await pmo.says(group, "/poll_new Q | A | B")
    rina = chat.user("rina", platform="web")
    member = await town.place(rina, "11.08")
    await rina.presses("A", group)
    member.region_code = "12.71"
    await member.save(update_fields=["region_code"])
    await polls_app.plugins.member_region_changed(Context(polls_app), member, "11.08", "12.71")
    ballot = await Ballot.get(poll_id=1, member_id=member.id)
    assert (ballot.region_code, ballot.province_code) == ("12.71", "12")


async def test_native_poll_text_keeps_its_count_and_says_when_closed(polls_app: App, town) -> None:
    """Issue #16: the text above a native poll said "Sudah menjawab: 0" after votes, and
    "Jawab pada polling di bawah" after closing."""
    chat, _telegram, _discord, _web = three_platforms(polls_app)
    group = chat.group("Aceh TG", platform="telegram")
    pmo = chat.user("pmo", platform="telegram")
    await town.admin(pmo)
    await pmo.says(group, "/poll_new Cara belajar? | Video | Modul | Mentor --public")
    poll_message = chat.last(group)
    assert poll_message.poll_id
    [header] = [s for s in chat.sent_to(group) if "Jawab pada polling di bawah" in s.text]
    assert "Sudah menjawab: 0" in header.text
    for i in range(3):
        user = chat.user(f"tg{i}", platform="telegram")
        await town.place(user, "11.08")
        await user.votes([1], group)
    await chat.advance("30s")  # the count is edited at a calm rate, not per vote
    assert "Sudah menjawab: 3" in header.text
    await pmo.says(group, "/poll_close 1")
    assert poll_message.poll_closed
    assert "sudah ditutup" in header.text
    assert "Jumlah yang menjawab: 3" in header.text
    assert "Jawab pada polling di bawah" not in header.text
