"""The registration flow through FakeChat: consent, name, region, batch, training, language."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from core import App, AuditEntry, Context, Member, Role, hookimpl
from core.privacy.models import ConsentRecord
from core.testing import FakeChat, FakeUser
from plugins.onboarding.models import PendingNotice, Profile


class Recorder:
    """A plugin that writes down the community hooks onboarding raises."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    @hookimpl
    async def guyub_on_member_onboarded(self, ctx: Context, member: Member) -> None:
        self.calls.append(("onboarded", member.id, member.region_code))

    @hookimpl
    async def guyub_on_member_region_changed(
        self, ctx: Context, member: Member, old_region: str | None, new_region: str | None
    ) -> None:
        self.calls.append(("region_changed", member.id, old_region, new_region))


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def rchat(make_app: Any, clock: Any, recorder: Recorder) -> AsyncIterator[FakeChat]:
    async with make_app(clock=clock, plugins=[recorder]) as app:
        yield FakeChat(app)


async def member_of(chat: FakeChat, user: FakeUser) -> Member:
    account = await chat.app.identity.account_for(user.ref)
    assert account is not None
    return await Member.get(id=account.member_id)


async def register_until_region(chat: FakeChat, user: FakeUser) -> None:
    await user.says("/start onboard")
    chat.expect_sent(user, contains="Persetujuan data")
    await user.presses("Setuju")
    chat.expect_sent(user, contains="Nama apa")
    await user.presses(f"Pakai “{user.name}”")
    chat.expect_sent(user, contains="kabupaten/kota mana")


async def test_whole_flow_from_join_to_captain_digest(rchat: FakeChat, recorder: Recorder) -> None:
    chat = rchat
    cut = chat.user("cut")
    await cut.says("/help")
    captain = await member_of(chat, cut)
    await chat.app.roles.grant(captain.id, Role.CAPTAIN, "11")
    cut.chat.adapter().started.add(cut.user_id)

    amir = chat.user("amir")
    group = chat.group("Alumni Aceh")
    await amir.joins(group)
    welcome = chat.expect_sent(group, contains="Selamat datang, amir")
    assert "Aturan grup" in welcome.text
    assert "OTP" in welcome.text
    assert "NIK" in welcome.text
    register = welcome.find_button("Daftar sekarang")
    assert register is not None
    assert register.url is not None
    assert register.url.endswith("start=onboard")

    await register_until_region(chat, amir)
    await amir.says("aceh utara")
    chat.expect_sent(amir, contains="Kabupaten Aceh Utara (Aceh)?")
    await amir.presses("Ya, benar")
    chat.expect_sent(amir, contains="gelombang berapa")
    await amir.says("gelombang 12")
    chat.expect_sent(amir, contains="Pelatihan apa")
    await amir.says("Pemasaran Digital")
    chat.expect_sent(amir, contains="Pilih bahasa")
    await amir.presses("English")
    chat.expect_sent(amir, contains="Registration complete")
    card = chat.expect_sent(amir, contains="Captains: cut")
    assert "Kabupaten Aceh Utara" in card.text

    member = await member_of(chat, amir)
    assert member.region_code == "11.08"
    assert member.registered_at is not None
    assert member.language == "en"
    assert member.display_name == "amir"
    profile = await Profile.get(member_id=member.id)
    assert (profile.batch, profile.training) == (12, "Pemasaran Digital")
    consent = await chat.app.privacy.consent_of(member.id)
    assert consent is not None
    assert (consent.status, consent.version) == ("given", 1)
    assert ("onboarded", member.id, "11.08") in recorder.calls
    assert ("region_changed", member.id, None, "11.08") in recorder.calls

    # Captains hear about it in one digest, not at once.
    chat.expect_not_sent(cut, contains="amir")
    await chat.advance("1h")
    digest = chat.expect_sent(cut, contains="Kabar anggota Kabupaten Aceh Utara")
    assert "amir baru bergabung" in digest.text
    assert await PendingNotice.all().count() == 0

    # Joining another group later: a short welcome back, no registration button.
    await amir.joins(chat.group("Alumni Sumut"))
    back = chat.expect_sent(chat.group("Alumni Sumut"), contains="Welcome back")
    assert back.button_labels() == []


async def test_no_to_consent_stores_nothing_and_sends_no_nudges(chat: FakeChat) -> None:
    siti = chat.user("siti")
    await siti.says("/start")
    await siti.presses("Tidak")
    chat.expect_sent(siti, contains="tidak menyimpan data")
    member = await member_of(chat, siti)
    assert member.region_code is None
    assert member.registered_at is None
    # Declining is recorded (issue #15: /persetujuan said "belum menjawab").
    declined = await chat.app.privacy.consent_of(member.id)
    assert declined is not None
    assert declined.status == "withdrawn"
    assert await Profile.all().count() == 0
    assert not await chat.app.conversations.active(member.id, "onboarding")
    await chat.advance("5d")
    chat.expect_nothing()
    # The question's buttons are gone; a client that still shows them changes nothing:
    # /persetujuan is the way.
    assert chat.latest_with_button(siti.dm, "Setuju") is None
    await siti.presses("Setuju", spent=True)
    chat.expect_sent(siti, contains="/persetujuan")
    assert await ConsentRecord.filter(status="given").count() == 0


async def test_typo_region_is_confirmed(chat: FakeChat) -> None:
    budi = chat.user("budi")
    await register_until_region(chat, budi)
    await budi.says("Aceh Utra")
    chat.expect_sent(budi, contains="Apakah wilayah Anda Kabupaten Aceh Utara")
    await budi.presses("Bukan")
    chat.expect_sent(budi, contains="kabupaten/kota mana")
    await budi.says("Lhoksumawe")
    chat.expect_sent(budi, contains="Kota Lhokseumawe (Aceh)")
    await budi.presses("Ya, benar")
    chat.expect_sent(budi, contains="gelombang")


async def test_ambiguous_region_asks_with_buttons(chat: FakeChat) -> None:
    dewi = chat.user("dewi")
    await register_until_region(chat, dewi)
    await dewi.says("bekasi")
    pick = chat.expect_sent(dewi, contains="beberapa wilayah")
    assert "Kabupaten Bekasi (Jawa Barat)" in pick.button_labels()
    assert "Kota Bekasi (Jawa Barat)" in pick.button_labels()
    await dewi.presses("Kota Bekasi")
    chat.expect_sent(dewi, contains="gelombang")
    await dewi.presses("Lewati")
    await dewi.presses("Lewati")
    await dewi.presses("Bahasa Indonesia")
    chat.expect_sent(dewi, contains="Pendaftaran selesai")
    assert (await member_of(chat, dewi)).region_code == "32.75"


async def test_province_only_answer(chat: FakeChat) -> None:
    rudi = chat.user("rudi")
    await register_until_region(chat, rudi)
    await rudi.says("Sumatera Utara")
    chat.expect_sent(rudi, contains="Sumatera Utara adalah provinsi")
    await rudi.presses("Simpan provinsi saja")
    chat.expect_sent(rudi, contains="gelombang")
    await rudi.presses("Lewati")
    await rudi.presses("Lewati")
    await rudi.presses("Bahasa Indonesia")
    chat.expect_sent(rudi, contains="Anda terdaftar di Sumatera Utara")
    assert (await member_of(chat, rudi)).region_code == "12"


async def test_unknown_region_and_bad_answers_change_nothing(chat: FakeChat) -> None:
    eko = chat.user("eko")
    await eko.says("/start")
    await eko.presses("Setuju")
    await eko.says("3174012345678901")
    chat.expect_sent(eko, contains="tidak disimpan")
    await eko.says("x")
    chat.expect_sent(eko, contains="2 sampai 64")
    await eko.says("Eko  Prasetyo")
    await eko.says("zzqx wwvv")
    chat.expect_sent(eko, contains="tidak ditemukan")
    await eko.says("bireuen")
    await eko.presses("Ya, benar")
    await eko.says("banyak")
    chat.expect_sent(eko, contains="satu angka")
    await eko.says("0812 3456 7890")
    chat.expect_sent(eko, contains="tidak disimpan")
    member = await member_of(chat, eko)
    conversation = (await chat.app.conversations.active(member.id, "onboarding"))[0]
    assert conversation.step == "batch"
    assert conversation.data["name"] == "Eko Prasetyo"
    assert "0812" not in str(conversation.data)
    # Typing where a button is expected shows the buttons again.
    await eko.says("3")
    await eko.presses("Lewati")
    await eko.says("anything")
    chat.expect_sent(eko, contains="Pilih bahasa")


async def test_profile_edit_region_is_audited_and_old_captains_told(
    rchat: FakeChat, recorder: Recorder
) -> None:
    chat = rchat
    old_captain = chat.user("teuku")
    await old_captain.says("/help")
    old_captain.chat.adapter().started.add(old_captain.user_id)
    await chat.app.roles.grant((await member_of(chat, old_captain)).id, Role.CAPTAIN, "11.08")

    amir = chat.user("amir")
    await register_until_region(chat, amir)
    await amir.says("aceh utara")
    await amir.presses("Ya, benar")
    await amir.says("7")
    await amir.presses("Lewati")
    await amir.presses("Bahasa Indonesia")
    await chat.advance("1h")

    await amir.says("/profil")
    profile = chat.expect_sent(amir, contains="Profil Anda")
    assert "Gelombang: 7" in profile.text
    await amir.presses("Nama")
    await amir.says("Amir H.")
    chat.expect_sent(amir, contains="Tersimpan")
    chat.expect_sent(amir, contains="Nama: Amir H.")
    await amir.says("/profil")
    await amir.presses("Wilayah")
    await amir.says("kota bekasi")
    await amir.presses("Ya, benar")
    chat.expect_sent(amir, contains="Wilayah: Kota Bekasi")
    member = await member_of(chat, amir)
    assert member.region_code == "32.75"
    assert ("region_changed", member.id, "11.08", "32.75") in recorder.calls
    entry = await AuditEntry.get(action="onboarding.region_changed")
    assert entry.details["old"] == "11.08"
    assert entry.region_code == "32.75"
    await chat.advance("1h")
    told = chat.expect_sent(old_captain, contains="Kabupaten Aceh Utara")
    assert "Amir H. pindah ke Kota Bekasi" in told.text
    await amir.says("/profil")
    await amir.presses("Bahasa")
    await amir.presses("English")
    chat.expect_sent(amir, contains="Language: English")


async def test_profile_before_registering_resumes_the_flow(chat: FakeChat) -> None:
    nia = chat.user("nia")
    await register_until_region(chat, nia)
    await nia.says("/profil")
    chat.expect_sent(nia, contains="kabupaten/kota mana")
    await nia.says("/start")
    chat.expect_sent(nia, contains="kabupaten/kota mana")


async def test_nudges_stop_after_two(chat: FakeChat) -> None:
    ani = chat.user("ani")
    await register_until_region(chat, ani)
    await chat.advance("1d")
    chat.expect_sent(ani, contains="belum selesai")
    await chat.advance("2d")
    chat.expect_sent(ani, contains="pengingat terakhir")
    await chat.advance("10d")
    chat.expect_nothing()
    await ani.presses("Lanjutkan pendaftaran")
    chat.expect_sent(ani, contains="kabupaten/kota mana")


async def test_export_and_forget(chat: FakeChat) -> None:
    ani = chat.user("ani")
    await register_until_region(chat, ani)
    await ani.says("aceh")
    await ani.presses("Simpan provinsi saja")
    await ani.says("3")
    await ani.presses("Lewati")
    await ani.presses("English")
    member = await member_of(chat, ani)
    data = await chat.app.plugins.export_member(member)
    assert data["onboarding"]["profile"] == {"batch": 3, "training": None}
    assert "consent" not in data["onboarding"]  # the core's record, exported by the core
    await chat.app.plugins.forget_member(member)
    assert await Profile.filter(member_id=member.id).count() == 0


async def test_members_merged_keeps_one_profile(chat: FakeChat) -> None:
    app: App = chat.app
    a, b = chat.user("a1"), chat.user("b1")
    for user in (a, b):
        await register_until_region(chat, user)
        await user.says("aceh utara")
        await user.presses("Ya, benar")
        await user.says("5")
        await user.presses("Lewati")
        await user.presses("English")
    kept, merged = await member_of(chat, a), await member_of(chat, b)
    await app.plugins.members_merged(app, kept, merged)
    assert await Profile.filter(member_id=kept.id).count() == 1
    assert await Profile.filter(member_id=merged.id).count() == 0


async def test_new_consent_version_is_asked_again(chat: FakeChat) -> None:
    ani = chat.user("ani")
    await register_until_region(chat, ani)
    await ani.says("aceh utara")
    await ani.presses("Ya, benar")
    await ani.presses("Lewati")
    await ani.presses("Lewati")
    await ani.presses("Bahasa Indonesia")
    member = await member_of(chat, ani)
    await ConsentRecord.filter(member_id=member.id).update(version=0)
    # One consent record, the core's: the core asks for the new version at the next command.
    await ani.says("/profil")
    chat.expect_sent(ani, contains="diperbarui")
    await ani.presses("Setuju")
    consent = await chat.app.privacy.consent_of(member.id)
    assert consent is not None
    assert (consent.status, consent.version) == ("given", 1)
    assert (await member_of(chat, ani)).registered_at is not None
    await ani.says("/profil")
    chat.expect_sent(ani, contains="Persetujuan data: versi 1")


async def test_typed_name_goes_through_the_display_name_guard(rchat: FakeChat) -> None:
    """Security (issue #15): an official-looking name is refused, links and handles go."""
    chat = rchat
    eko = chat.user("eko")
    await eko.says("/start")
    await eko.presses("Setuju")
    chat.expect_sent(eko, contains="Nama apa")
    await eko.says("Admin PMO Prakerja")
    chat.expect_sent(eko, contains="mirip nama resmi")
    await eko.says("\u3164\u3164")
    chat.expect_sent(eko, contains="Nama harus")
    await eko.says("Eko Prasetyo https://bit.ly/cair @eko")
    chat.expect_sent(eko, contains="kabupaten/kota mana")
    member = await member_of(chat, eko)
    await eko.says("Aceh Utara")
    assert member.id
    conversation = await chat.app.conversations.get(member.id, eko.dm.key)
    assert conversation is not None
    assert conversation.data["name"] == "Eko Prasetyo"


async def test_a_lost_question_never_shifts_the_answers(rchat: FakeChat) -> None:
    """Security (issue #15): when the training question got lost, the member typed their
    batch again and it was stored as the training."""
    chat = rchat
    budi = chat.user("budi")
    await register_until_region(chat, budi)
    await budi.says("aceh utara")
    await budi.presses("Ya, benar")
    await budi.says("7")  # the batch; the training question is "lost"
    await budi.says("7")  # typed again
    chat.expect_sent(budi, contains="pelatihan")
    member = await member_of(chat, budi)
    conversation = await chat.app.conversations.get(member.id, budi.dm.key)
    assert conversation is not None
    assert conversation.step == "training"
    assert "training" not in conversation.data
    await budi.says("Pemasaran Digital")
    await budi.presses("Bahasa Indonesia")
    profile = await Profile.get(member_id=member.id)
    assert (profile.batch, profile.training) == (7, "Pemasaran Digital")


async def test_a_captain_is_not_news_in_their_own_digest(rchat: FakeChat) -> None:
    """Issue #16: the captain's digest listed the captain himself as a new member."""
    chat = rchat
    cut = chat.user("cut")
    await cut.says("/help")
    captain = await member_of(chat, cut)
    await chat.app.roles.grant(captain.id, Role.CAPTAIN, "11")
    other = chat.user("teuku")
    await other.says("/help")
    await chat.app.roles.grant((await member_of(chat, other)).id, Role.CAPTAIN, "11")
    for user in (cut, other):
        user.chat.adapter().started.add(user.user_id)
    await register_until_region(chat, cut)
    await cut.says("aceh utara")
    await cut.presses("Ya, benar")
    await cut.says("gelombang 3")
    await cut.says("Desain Grafis")
    await cut.presses("Bahasa Indonesia")
    await chat.advance("1h")
    chat.expect_sent(other, contains="cut baru bergabung")  # news to the other captain
    chat.expect_not_sent(cut, contains="Kabar anggota")  # not to cut himself


async def test_captains_who_only_typed_start_are_not_nudged(chat: FakeChat) -> None:
    """Issue #16: a captain who opened the bot with /start got "pendaftaran belum selesai"."""
    kapten = chat.user("kapten")
    await kapten.says("/start")
    chat.expect_sent(kapten, contains="Persetujuan data")
    await chat.app.roles.grant((await member_of(chat, kapten)).id, Role.CAPTAIN, "11")
    await chat.advance("4d")
    chat.expect_not_sent(kapten, contains="belum selesai")
    chat.expect_not_sent(kapten, contains="pengingat terakhir")


async def test_start_onboard_typed_in_a_group_points_to_the_private_chat(chat: FakeChat) -> None:
    """Issue #16: "/start onboard" in a group only greeted."""
    ani = chat.user("ani")
    group = chat.group("Alumni Aceh")
    await ani.says(group, "/start onboard")
    chat.expect_sent(group, contains="mengirim pesan pribadi untuk melanjutkan pendaftaran")
    chat.expect_not_sent(group, contains="Saya Guyub")
    chat.expect_sent(ani, contains="Persetujuan data")  # the flow goes on in the DM
