"""The incentive poll through FakeChat: 20 members in 3 regions answer, shares match a table
computed by hand; change of vote; vote after close; results text and chart."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from core import App, ButtonPressed
from core.testing import FakeChat
from plugins.polls.models import Ballot, Poll
from plugins.polls.tally import By, tally

OPTIONS = ["Bahan pangan", "Modal usaha", "Tagihan listrik", "Bensin", "Pulsa/internet", "Lainnya"]

# Who answers what (0-based option numbers), by kabupaten/kota: 8 + 7 + 5 = 20 members.
ANSWERS = {
    "11.08": [[0, 1, 3], [0, 2], [0, 1, 2, 3], [0, 4], [1, 3], [0, 1, 2], [0, 3, 4], [5]],
    "11.11": [[0, 1], [0, 1, 2, 3], [0, 3], [1, 2, 3], [0, 1, 4], [0, 2, 3, 4], [0, 1, 3]],
    "12.71": [[0, 1, 2, 3, 4], [0, 2, 3], [0, 1], [2, 3, 4], [0, 3]],
}

# Counted by hand from ANSWERS: (respondents, counts per option).
BY_HAND_KABUPATEN = {
    "11.08": (8, (6, 4, 3, 4, 2, 1)),
    "11.11": (7, (6, 5, 3, 5, 2, 0)),
    "12.71": (5, (4, 2, 3, 4, 2, 0)),
}
BY_HAND_PROVINCE = {"11": (15, (12, 9, 6, 9, 4, 1)), "12": (5, (4, 2, 3, 4, 2, 0))}
BY_HAND_OVERALL = (20, (16, 11, 9, 13, 6, 1))
# Shares of respondents as the programme publishes them: 80% food, 55% business capital...
OVERALL_PERCENT = ["80%", "55%", "45%", "65%", "30%", "5%"]


async def start_incentive_poll(chat: FakeChat, town, group) -> Poll:  # type: ignore[no-untyped-def]
    pmo = chat.user("pmo")
    await town.admin(pmo)
    await pmo.says(group, "/polling_baru insentif")
    chat.expect_sent(group, contains="Untuk apa insentif Prakerja Anda gunakan?")
    poll = await Poll.all().order_by("-id").first()
    assert poll is not None
    return poll


async def vote_all(chat: FakeChat, town, group) -> None:  # type: ignore[no-untyped-def]
    for region, ballots in ANSWERS.items():
        for n, options in enumerate(ballots):
            user = chat.user(f"m{region.replace('.', '_')}_{n}")
            await town.place(user, region)
            for option in options:
                await user.presses(OPTIONS[option], group)


async def test_twenty_members_in_three_regions_match_the_hand_computed_table(
    polls_chat: FakeChat, polls_app: App, town
) -> None:
    group = polls_chat.group("Alumni Prakerja")
    poll = await start_incentive_poll(polls_chat, town, group)
    assert poll.multiple
    assert poll.anonymous
    assert poll.template == "incentive"
    assert poll.wave == 1
    post = polls_chat.last(group)
    assert [b for b in post.button_labels()] == OPTIONS
    await vote_all(polls_chat, town, group)

    overall = await tally(poll.id, 6, By.OVERALL, 5)
    assert (overall.overall.respondents, overall.overall.counts) == BY_HAND_OVERALL
    kabupaten = await tally(poll.id, 6, By.KABUPATEN, 5)
    assert {r.code: (r.respondents, r.counts) for r in kabupaten.rows} == BY_HAND_KABUPATEN
    assert kabupaten.other is None
    province = await tally(poll.id, 6, By.PROVINCE, 5)
    assert {r.code: (r.respondents, r.counts) for r in province.rows} == BY_HAND_PROVINCE

    pmo = polls_chat.user("pmo")
    await pmo.says(group, "/poll_results")
    sent = polls_chat.expect_sent(group, contains="Responden: 20")
    for option, share in zip(OPTIONS, OVERALL_PERCENT, strict=True):
        assert f"{option}: {share}" in sent.text
    # Per province by default for a national poll: Aceh 15 respondents, 27% phone credit.
    assert "Aceh (11), 15 responden" in sent.text
    assert "Pulsa/internet 27%" in sent.text
    assert "lebih dari 100%" in sent.text
    await pmo.says(group, f"/poll_results {poll.id} kabupaten")
    sent = polls_chat.expect_sent(group, contains="Per kabupaten/kota")
    assert "Kab. Aceh Utara (11.08), 8 responden: Bahan pangan 75%" in sent.text
    assert "Kota Medan (12.71), 5 responden" in sent.text


async def test_results_come_with_a_bar_chart_png(polls_chat: FakeChat, town) -> None:
    group = polls_chat.group("Alumni Prakerja")
    await start_incentive_poll(polls_chat, town, group)
    await vote_all(polls_chat, town, group)
    await polls_chat.user("pmo").says(group, "/poll_results")
    sent = polls_chat.expect_sent(group, contains="Hasil polling")
    [attached] = sent.attachments
    kind, filename, data = attached.kind, attached.filename, attached.data
    assert kind == "image"
    assert filename.endswith(".png")
    image = Image.open(io.BytesIO(data))
    image.verify()
    width, height = Image.open(io.BytesIO(data)).size
    assert 600 <= width <= 1600
    assert 300 <= height <= 2000
    assert 5_000 < len(data) < 500_000


async def test_a_second_vote_replaces_the_first(polls_chat: FakeChat, town) -> None:
    group = polls_chat.group("Alumni Prakerja")
    poll = await start_incentive_poll(polls_chat, town, group)
    siti = polls_chat.user("siti")
    await town.place(siti, "11.08")
    await siti.presses("Bahan pangan", group)
    polls_chat.expect_sent(siti, contains="Jawaban Anda untuk polling")
    await siti.presses("Bensin", group)
    polls_chat.expect_sent(siti, contains="Bahan pangan, Bensin")
    await siti.presses("Bahan pangan", group)  # pressing again takes it back
    polls_chat.expect_sent(siti, contains=": Bensin.")
    ballots = await Ballot.filter(poll_id=poll.id)
    assert len(ballots) == 1
    assert ballots[0].choices == 1 << 3
    await siti.presses("Bensin", group)
    polls_chat.expect_sent(siti, contains="dibatalkan")
    assert await Ballot.filter(poll_id=poll.id).count() == 0


async def test_vote_after_close_is_refused_politely(polls_chat: FakeChat, town) -> None:
    group = polls_chat.group("Alumni Prakerja")
    pmo = polls_chat.user("pmo")
    await town.admin(pmo)
    await pmo.says(group, "/poll_new incentive --closes 2h")
    polls_chat.expect_sent(group, contains="Ditutup")
    poll = await Poll.all().order_by("-id").first()
    assert poll is not None
    amir = polls_chat.user("amir")
    await town.place(amir, "11.08")
    await amir.presses("Modal usaha", group)
    key = polls_chat.latest_with_button(group, "Bensin").find_button("Bensin").key  # type: ignore[union-attr]

    await polls_chat.advance("2h")
    polls_chat.expect_sent(group, contains="Responden: 1")  # the results, posted at closing
    post = polls_chat.sent_to(group)[0]
    assert post.buttons == ()
    assert "sudah ditutup" in post.text

    # An old client still shows the buttons: the press is refused and nothing changes.
    await polls_chat.emit(
        ButtonPressed(user=amir.sender, chat=group, key=key, at=polls_chat.now())  # type: ignore[arg-type]
    )
    polls_chat.expect_sent(amir, contains="sudah ditutup: suara Anda tidak dihitung")
    [ballot] = await Ballot.filter(poll_id=poll.id)
    assert ballot.choices == 1 << 1


async def test_live_tally_is_edited_in_place_at_a_calm_rate(polls_chat: FakeChat, town) -> None:
    group = polls_chat.group("Alumni Prakerja")
    await start_incentive_poll(polls_chat, town, group)
    post = polls_chat.last(group)
    for name in ("a", "b", "c"):
        user = polls_chat.user(name)
        await town.place(user, "11.08")
        await user.presses("Bahan pangan", group)
    assert post.edits == 0  # votes are batched: no edit per vote
    await polls_chat.advance("30s")
    assert post.edits == 1
    assert "Sudah menjawab: 3" in post.text
    assert "Bahan pangan: 100%" in post.text
    assert post.button_labels() == OPTIONS


async def test_members_cannot_start_polls(polls_chat: FakeChat) -> None:
    group = polls_chat.group("Alumni Prakerja")
    await polls_chat.user("amir").says(group, "/poll_new incentive")
    polls_chat.expect_sent(group, contains="hanya untuk kapten atau admin")
    assert await Poll.all().count() == 0


@pytest.mark.parametrize(
    ("spec", "reply"),
    [
        ("Makan apa? | Nasi", "2 sampai 10 pilihan"),
        ("Q | " + " | ".join(str(i) for i in range(11)), "paling banyak 10 pilihan"),
        ("Q | A | a", "dua pilihan yang sama"),
        ("Q | A | B --closes besok", "tidak terbaca"),
        ("Q | A | B --warna merah", "tidak mengenal pengaturan"),
        ("Q | A | B --region Atlantis", "tidak dikenal"),
    ],
)
async def test_bad_poll_specs_get_a_clear_answer_and_change_nothing(
    polls_chat: FakeChat, town, spec: str, reply: str
) -> None:
    group = polls_chat.group("Alumni Prakerja")
    pmo = polls_chat.user("pmo")
    await town.admin(pmo)
    await pmo.says(group, f"/poll_new {spec}")
    polls_chat.expect_sent(group, contains=reply)
    assert await Poll.all().count() == 0
