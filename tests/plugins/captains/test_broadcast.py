"""/broadcast end to end on two fake platforms: preview, confirm, delivery, report,
approval, cancel."""

from __future__ import annotations

from core import DeliveryError, DeliveryStatus, DeliveryUnknown
from core.outbox.models import Delivery
from tests.plugins.captains.world import world


async def setup(w):  # type: ignore[no-untyped-def]
    chat = w.chat
    pmo = await w.person("pmo", None)
    amir = await w.person("amir", "11.08")
    await pmo.says("/kapten_tambah @amir Aceh Utara")
    chat.expect_sent(pmo, contains="amir sekarang kapten Aceh Utara (11.08)")
    people = {
        "ani": await w.person("ani", "11.08"),
        "asep": await w.person("asep", "11.08", started=False),
        "adi": await w.person("adi", "11.08", platform="dc", started=False),
        "budi": await w.person("budi", "11.11"),
    }
    groups = {
        "tg": w.group("Aceh Utara", "11.08"),
        "dc": w.group("aceh-utara", "11.08", platform="dc"),
        "bireuen": w.group("Bireuen", "11.11"),
    }
    return pmo, amir, people, groups


async def test_preview_confirm_delivers_to_exactly_the_region_on_both_platforms(make_app):
    async with world(make_app) as w:
        chat = w.chat
        _, amir, people, groups = await setup(w)
        await amir.says("/siaran Aceh Utara")
        chat.expect_sent(amir, contains="Tulis pesan siaran untuk Aceh Utara")
        await amir.says("Temu alumni hari Sabtu jam 09.00 di Lhokseumawe")
        preview = chat.expect_sent(amir, contains="Pratinjau siaran")
        text = preview.text
        assert "Penerima: 4 anggota" in text
        assert "tg: 3 anggota (1 tidak bisa dihubungi lewat DM), 1 grup" in text
        assert "dc: 1 anggota (0 tidak bisa dihubungi lewat DM), 1 grup" in text
        await amir.presses("DM")
        chat.expect_sent(amir, contains="Cara kirim: DM")
        await amir.presses("Grup + DM")
        await amir.presses("Kirim")
        for who in ("ani", "adi"):
            chat.expect_sent(people[who], contains="Temu alumni hari Sabtu")
        chat.expect_sent(amir, contains="Temu alumni hari Sabtu")
        chat.expect_sent(groups["tg"], contains="Pengumuman untuk Aceh Utara")
        chat.expect_sent(groups["dc"], contains="Temu alumni")
        chat.expect_not_sent(people["budi"], contains="Temu alumni")
        chat.expect_not_sent(groups["bireuen"], contains="Temu alumni")
        assert not [s for s in chat.sent_to(people["asep"]) if "Temu" in s.text]
        done = chat.expect_sent(amir, contains="Siaran selesai")
        assert "5 terkirim, 0 gagal, 0 tidak pasti, 1 tidak terjangkau (dari 6)" in done.text
        report = chat.expect_sent(amir, contains="Laporan siaran")
        assert "tg: 3 terkirim, 0 gagal, 0 tidak pasti, 1 tidak terjangkau" in report.text
        assert "dc: 2 terkirim" in report.text
        assert "Aceh Utara: 3 terkirim" in report.text
        # Pressing Send again sends nothing twice.
        await amir.presses("Kirim")
        chat.expect_sent(amir, contains="sudah selesai dikirim")


async def test_large_broadcast_needs_another_captain_or_admin(make_app):
    async with world(make_app, captains={"approval_threshold": 2}) as w:
        chat = w.chat
        pmo, amir, people, _ = await setup(w)
        await amir.says("/siaran")
        await amir.says("Rapat koordinasi")
        chat.expect_sent(amir, contains="perlu persetujuan")
        await amir.presses("Kirim")
        chat.expect_sent(amir, contains="menunggu persetujuan")
        ask = chat.expect_sent(pmo, contains="amir ingin mengirim siaran ke 4 anggota")
        assert "Setujui" in ask.full_text()
        chat.expect_not_sent(people["ani"], contains="Rapat koordinasi")
        await pmo.presses("Setujui")
        chat.expect_sent(pmo, contains="Disetujui")
        chat.expect_sent(people["ani"], contains="Rapat koordinasi")
        chat.expect_sent(amir, contains="Siaran selesai")
        await pmo.presses("Setujui")
        chat.expect_sent(pmo, contains="sudah selesai dikirim")


async def test_stop_mid_way_cancels_what_is_not_sent(make_app):
    async with world(make_app) as w:
        chat = w.chat
        _, amir, people, _ = await setup(w)
        dc = chat.adapter("dc")
        original = dc.send

        async def down(chat_ref, message, *, reply_to=None):  # type: ignore[no-untyped-def]
            raise DeliveryError("discord is down")

        dc.send = down  # type: ignore[method-assign]
        await amir.says("/siaran 11.08")
        await amir.says("Pesan penting")
        await amir.presses("Kirim")
        chat.expect_sent(people["ani"], contains="Pesan penting")
        chat.expect_not_sent(amir, contains="Siaran selesai")
        await amir.presses("Hentikan")
        chat.expect_sent(amir, contains="Siaran dihentikan")
        dc.send = original  # type: ignore[method-assign]
        await chat.advance("2h")
        assert not [s for s in chat.sent_to(w.chat.group("aceh-utara", platform="dc"))]
        statuses = set(await Delivery.all().values_list("status", flat=True))
        assert DeliveryStatus.CANCELLED in statuses
        assert DeliveryStatus.PENDING not in statuses


async def test_a_send_with_unknown_outcome_is_reported_uncertain_and_not_resent(make_app):
    async with world(make_app) as w:
        chat = w.chat
        _, amir, _people, groups = await setup(w)
        dc = chat.adapter("dc")
        original = dc.send
        tries: list[str] = []

        async def lost(chat_ref, message, *, reply_to=None):  # type: ignore[no-untyped-def]
            # The message reached the group; the platform's answer did not come back.
            tries.append(chat_ref.id)
            await original(chat_ref, message, reply_to=reply_to)
            raise DeliveryUnknown("read timed out")

        dc.send = lost  # type: ignore[method-assign]
        await amir.says("/siaran 11.08")
        await amir.says("Pesan penting")
        await amir.presses("Grup + DM")
        await amir.presses("Kirim")
        done = chat.expect_sent(amir, contains="Siaran selesai")
        assert "1 tidak pasti" in done.text
        report = chat.expect_sent(amir, contains="Laporan siaran")
        assert "dc: 1 terkirim, 0 gagal, 1 tidak pasti" in report.text
        assert "mungkin sudah sampai" in report.text
        await chat.advance("2h")
        assert tries == [groups["dc"].id]
        assert len(chat.sent_to(groups["dc"])) == 1


async def test_member_and_other_region_captain_are_refused(make_app):
    async with world(make_app) as w:
        chat = w.chat
        _, amir, people, _ = await setup(w)
        await people["ani"].says("/siaran Aceh Utara")
        chat.expect_sent(people["ani"], contains="hanya untuk kapten atau admin")
        await amir.says("/siaran Bireuen")
        chat.expect_sent(amir, contains="tidak mengurus wilayah 11.11")
        await amir.says("/siaran Aceh")
        chat.expect_sent(amir, contains="tidak mengurus wilayah 11")
