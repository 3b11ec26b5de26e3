"""Moderation in regional groups: warnings lead to a mute, reply targets, capabilities."""

from __future__ import annotations

from core import AuditEntry, Capability
from tests.plugins.captains.world import world


async def test_three_warnings_mute_automatically(make_app):
    async with world(make_app, captains={"auto_mute_minutes": 60}) as w:
        chat = w.chat
        pmo = await w.person("pmo", None)
        amir = await w.person("amir", "11.08")
        tono = await w.person("tono", "11.08")
        group = w.group("Aceh Utara", "11.08")
        await pmo.says("/kapten_tambah @amir 11.08")
        await tono.says(group, "beli pulsa murah di sini")
        for n in (1, 2):
            await amir.says(group, "/warn", reply_to=tono)
            chat.expect_sent(group, contains=f"tono mendapat peringatan ({n}/3)")
        assert not chat.adapter("tg").moderation
        await amir.says(group, "/peringatkan @tono jualan lagi")
        chat.expect_sent(group, contains="dibisukan otomatis selama 1 jam")
        muted = chat.adapter("tg").moderation[-1]
        assert muted.action == "mute"
        assert muted.user.id == "tono"
        assert muted.until is not None
        actions = await AuditEntry.all().values_list("action", flat=True)
        assert actions.count("captains.mod.warn") == 3
        assert "captains.mod.mute" in actions
        await amir.says(group, "/unmute", reply_to=tono)
        chat.expect_sent(group, contains="tono dapat berbicara lagi")
        await amir.says(group, "/warn")
        chat.expect_sent(group, contains="Balas pesan anggotanya")
        await amir.says(group, "/kick @amir")
        chat.expect_sent(group, contains="tidak dapat melakukannya pada diri sendiri")
        await amir.says(group, "/ban @pmo")
        chat.expect_sent(group, contains="Admin tidak dapat dimoderasi")


async def test_unsupported_action_gets_a_clear_answer(make_app):
    async with world(make_app) as w:
        chat = w.chat
        pmo = await w.person("pmo", None)
        adi = await w.person("adi", "11.08", platform="dc", started=False)
        group = w.group("aceh-utara", "11.08", platform="dc")
        await adi.says(group, "halo")
        await pmo.says(group, "halo")
        dc = chat.adapter("dc")
        dc.capabilities = dc.capabilities - {Capability.BAN}
        await pmo.says(group, "/ban @adi")
        chat.expect_sent(group, contains="tidak mengizinkan ban")
        assert not dc.moderation
        await pmo.says(group, "/kick @adi")
        chat.expect_sent(group, contains="adi dikeluarkan dari grup")


async def test_moderation_outside_a_regional_group_is_refused(make_app):
    async with world(make_app) as w:
        chat = w.chat
        pmo = await w.person("pmo", None)
        amir = await w.person("amir", "11.08")
        tono = await w.person("tono", "11.08")
        await pmo.says("/kapten_tambah @amir 11.08")
        await tono.says(w.lobby, "halo")
        await amir.says(w.lobby, "/kick @tono")
        chat.expect_sent(w.lobby, contains="bukan grup wilayah Anda")
        await amir.says("/kick @tono")
        chat.expect_sent(amir, contains="hanya bisa dipakai di grup")
