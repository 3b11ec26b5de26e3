"""/link, /unlink and merging two members, through FakeChat on two platforms."""

from __future__ import annotations

from core import Account, AuditEntry, Member, Role, RoleGrant
from core.privacy.models import LinkCode, RateCounter
from core.testing import FakeChat
from tests.core.privacy.privacy_helpers import EventsPlugin, Signup, link_code


async def test_link_joins_two_accounts_into_one_member(two: FakeChat) -> None:
    tg = two.user("sari", platform="telegram")
    dc = two.user("sari", platform="discord")
    await tg.says("/tautkan")
    code = link_code(two, tg)
    await dc.says(f"/link {code.lower()}")
    two.expect_sent(dc, contains="tertaut")
    two.expect_sent(tg, contains="baru saja ditautkan dengan akun discord")
    accounts = await Account.all()
    assert len(accounts) == 2
    assert accounts[0].member_id == accounts[1].member_id
    assert await Member.all().count() == 1
    entry = await AuditEntry.get(action="privacy.link")
    assert entry.details["platforms"] == ["discord"]


async def test_code_is_single_use_and_expires(two: FakeChat) -> None:
    tg = two.user("sari", platform="telegram")
    dc = two.user("sari", platform="discord")
    other = two.user("budi", platform="discord")
    await tg.says("/link")
    code = link_code(two, tg)
    await two.advance("11m")
    await dc.says(f"/link {code}")
    two.expect_sent(dc, contains="Kode tidak berlaku")
    await tg.says("/link")
    code = link_code(two, tg)
    await dc.says(f"/link {code}")
    two.expect_sent(dc, contains="tertaut")
    await other.says(f"/link {code}")
    two.expect_sent(other, contains="Kode tidak berlaku")
    assert await Member.all().count() == 2


async def test_wrong_codes_are_rate_limited(two: FakeChat) -> None:
    tg = two.user("sari", platform="telegram")
    mallory = two.user("mallory", platform="discord")
    await tg.says("/link")
    code = link_code(two, tg)
    for guess in ("AAAAAA", "BBBBBB", "CCCCCC", "DDDDDD", "EEEEEE"):
        await mallory.says(f"/link {guess}")
        two.expect_sent(mallory, contains="Kode tidak berlaku")
    # Even the right code is refused once the attempts are used up.
    await mallory.says(f"/link {code}")
    two.expect_sent(mallory, contains="Terlalu banyak percobaan")
    assert await Member.all().count() == 2
    await two.advance("10m")
    await tg.says("/link")  # the old code expired meanwhile; the window reset
    await mallory.says(f"/link {link_code(two, tg)}")
    two.expect_sent(mallory, contains="tertaut")


async def test_link_in_a_group_gives_no_code_there(two: FakeChat) -> None:
    tg = two.user("sari", platform="telegram")
    group = two.group("Aceh", platform="telegram")
    await tg.says(group, "/link")
    two.expect_sent(group, contains="chat pribadi")
    assert not await LinkCode.exists()


async def test_same_platform_on_both_sides_is_refused(two: FakeChat) -> None:
    one = two.user("sari", platform="telegram")
    other = two.user("sari2", platform="telegram")
    await one.says("/link")
    await other.says(f"/link {link_code(two, one)}")
    two.expect_sent(other, contains="telegram")
    assert await Member.all().count() == 2


async def test_both_profiles_member_chooses_and_signups_not_double_counted(
    two: FakeChat, signups: EventsPlugin
) -> None:
    tg = two.user("sari", platform="telegram")
    dc = two.user("sari", platform="discord")
    await tg.says("/testregister 11.08 Sari Telegram")
    await dc.says("/testregister 12.01 Sari Discord")
    await tg.says("/testsignup temu")
    await dc.says("/testsignup temu")
    await dc.says("/testsignup webinar")
    await tg.says("/testcount temu")
    two.expect_sent(tg, contains="temu: 2 signed up")
    await tg.says("/link")
    await dc.says(f"/link {link_code(two, tg)}")
    sent = two.expect_sent(dc, contains="Profil mana yang disimpan")
    assert sent.button_labels() == ["Simpan: Sari Telegram (11.08)", "Simpan: Sari Discord (12.01)"]
    # Nobody else can press the choice for her.
    await two.user("mallory", platform="discord").presses("Simpan: Sari Telegram", dc.dm)
    assert await Member.all().count() == 3
    await dc.presses("Simpan: Sari Discord")
    two.expect_sent(dc, contains="tertaut")
    kept = await Member.get(display_name="Sari Discord")
    assert kept.region_code == "12.01"
    assert await Member.filter(display_name="Sari Telegram").count() == 0
    assert signups.merged == [(kept.id, signups.merged[0][1])]
    await tg.says("/testcount temu")
    two.expect_sent(tg, contains="temu: 1 signed up")
    assert sorted(await Signup.filter(member_id=kept.id).values_list("event", flat=True)) == [
        "temu",
        "webinar",
    ]


async def test_profile_of_the_registered_side_is_kept(two: FakeChat) -> None:
    tg = two.user("sari", platform="telegram")
    dc = two.user("sari", platform="discord")
    await dc.says("/testregister 11.08 Sari Lengkap")
    await tg.says("/link")
    await dc.says(f"/link {link_code(two, tg)}")
    (member,) = await Member.all()
    assert member.display_name == "Sari Lengkap"
    assert member.region_code == "11.08"


async def test_roles_are_held_until_an_admin_confirms_then_merge_without_duplicates(
    two: FakeChat,
) -> None:
    tg = two.user("sari", platform="telegram")
    dc = two.user("sari", platform="discord")
    pmo = two.user("pmo", platform="telegram")
    await tg.says("/help")
    await dc.says("/help")
    await pmo.says("/help")
    tg_account = await Account.get(platform="telegram", platform_user_id=tg.user_id)
    dc_account = await Account.get(platform="discord")
    pmo_account = await Account.get(platform="telegram", platform_user_id=pmo.user_id)
    roles = two.app.roles
    await roles.grant(pmo_account.member_id, Role.ADMIN)
    await roles.grant(tg_account.member_id, Role.CAPTAIN, "11")
    await roles.grant(dc_account.member_id, Role.CAPTAIN, "11")
    await roles.grant(dc_account.member_id, Role.CAPTAIN, "12")
    await tg.says("/link")
    await dc.says(f"/link {link_code(two, tg)}")
    two.expect_sent(dc, contains="ditahan sampai admin PMO")
    member = await Member.get(id=(await Account.get(id=dc_account.id)).member_id)
    assert await RoleGrant.filter(member_id=member.id).count() == 0
    ask = two.expect_sent(pmo, contains="Peran captain 11, captain 12 ditahan")
    assert f"#{member.id}" in ask.text
    # Only an admin's press gives them back.
    await pmo.presses("Kembalikan peran")
    two.expect_sent(pmo, contains="dikembalikan")
    grants = await RoleGrant.filter(member_id=member.id).order_by("scope")
    assert [(g.role, g.scope) for g in grants] == [("captain", "11"), ("captain", "12")]
    # Old audit entries keep the ids they were written with.
    assert await AuditEntry.filter(target=f"member:{dc_account.member_id}").exists()


async def test_guessing_after_forgetme_starts_no_fresh_count(two: FakeChat) -> None:
    """Security (issue #15): link attempts were counted per member, and /hapusdata makes a
    new member: unlimited guesses from one account."""
    tg = two.user("cut", platform="telegram")
    mallory = two.user("mallory", platform="discord")
    await tg.says("/link")
    code = link_code(two, tg)
    for _ in range(3):
        for guess in ("AAAAAA", "BBBBBB"):
            await mallory.says(f"/link {guess}")
        await mallory.says("/hapusdata")
        await mallory.presses("Ya, hapus semua")
    # Six wrong guesses by three "members" on one account: the limit (5) holds.
    await mallory.says(f"/link {code}")
    two.expect_sent(mallory, contains="Terlalu banyak percobaan")
    accounts = await Account.filter(platform="telegram").values_list("member_id", flat=True)
    assert await Account.filter(member_id__in=accounts).count() == 1
    # The counters hold digests, never the platform ids.
    buckets = await RateCounter.all().values_list("bucket", flat=True)
    assert not any(mallory.user_id in b for b in buckets)


async def test_a_guessed_captain_code_gives_no_roles(two: FakeChat) -> None:
    """Security (issue #15): a hit merged the guesser into the victim, roles included."""
    victim = two.user("kapten", platform="telegram")
    attacker = two.user("penipu", platform="discord")
    await victim.says("/help")
    await attacker.says("/help")
    victim_account = await Account.get(platform="telegram")
    await two.app.roles.grant(victim_account.member_id, Role.CAPTAIN, "11.08")
    await victim.says("/link")
    await attacker.says(f"/link {link_code(two, victim)}")
    two.expect_sent(attacker, contains="tertaut")
    attacker_account = await Account.get(platform="discord")
    assert await two.app.roles.highest(attacker_account.member_id) is Role.MEMBER
    held = await AuditEntry.get(action="privacy.link.roles_held")
    assert held.details["roles"] == [["captain", "11.08"]]


async def test_unlink_splits_and_keeps_the_profile(two: FakeChat) -> None:
    tg = two.user("sari", platform="telegram")
    dc = two.user("sari", platform="discord")
    await tg.says("/testregister 11.08 Sari")
    await tg.says("/link")
    await dc.says(f"/link {link_code(two, tg)}")
    await dc.says("/unlink whatsapp")
    two.expect_sent(dc, contains="tidak punya akun tertaut di whatsapp")
    await dc.says("/putuskan discord")
    two.expect_sent(dc, contains="sudah dipisahkan")
    tg_account = await Account.get(platform="telegram")
    dc_account = await Account.get(platform="discord")
    assert tg_account.member_id != dc_account.member_id
    kept = await Member.get(id=tg_account.member_id)
    assert kept.region_code == "11.08"
    fresh = await Member.get(id=dc_account.member_id)
    assert fresh.region_code is None
    assert await AuditEntry.filter(action="privacy.unlink").count() == 1
    await dc.says("/unlink telegram")
    two.expect_sent(dc, contains="Tidak ada akun tertaut")
