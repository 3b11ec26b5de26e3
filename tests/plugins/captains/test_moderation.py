"""Moderation in regional groups: warnings lead to a mute, reply targets, capabilities."""

from __future__ import annotations

from core import AuditEntry, Capability, Role
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


async def test_ban_and_mute_with_hapus_pesan_remove_the_scam_message(make_app):
    """Security (issue #15): /blokir on a scammer's message banned the sender but left the
    message up. With "hapus pesan" it goes too."""
    async with world(make_app) as w:
        chat = w.chat
        group = w.group("Aceh Utara", "11.08")
        captain = await w.person("kapten", "11.08")
        await chat.app.roles.grant((await w.member_of(captain)).id, Role.CAPTAIN, "11.08")
        scammer = await w.person("penipu", "11.08")
        await scammer.says(group, "Cairkan insentif di bit.ly/cair, kirim OTP ke saya")
        await captain.says(group, "/blokir hapus pesan", reply_to=scammer)
        chat.expect_sent(group, contains="diblokir")
        adapter = chat.adapter("tg")
        assert [m.action for m in adapter.moderation] == ["ban"]
        assert len(adapter.deleted) == 1
        assert adapter.deleted[0].chat == group
        assert await AuditEntry.filter(action="captains.mod.delete").count() == 1

        other = await w.person("joki", "11.08")
        await other.says(group, "DM saya untuk bantuan pencairan")
        await captain.says(group, "/bisukan 1h hapus pesan", reply_to=other)
        chat.expect_sent(group, contains="dibisukan")
        assert len(adapter.deleted) == 2
        # Without a reply there is nothing to delete: a clear answer, nothing done.
        await captain.says(group, "/blokir @joki hapus pesan")
        chat.expect_sent(group, contains="balas (reply) pesan")
        assert [m.action for m in adapter.moderation] == ["ban", "mute"]
        await captain.says(group, "/blokir @joki semua")
        chat.expect_sent(group, contains="hapus pesan")


def test_every_audited_action_has_a_label_in_both_languages() -> None:
    """/jejak names each action in words: every action the code records (``ctx.audit``,
    ``audit.record``, ``*_ACTION`` constants) has a label, so none reaches a reader as
    "Tindakan lain (web.login)"."""
    import re
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    recorded: set[str] = set()
    for package in ("core", "plugins", "adapters"):
        for path in (root / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            recorded |= set(
                re.findall(r'(?:\.audit\(|audit\.record\()\s*"([a-z_]+(?:\.[a-z_]+)+)"', text)
            )
            recorded |= set(
                re.findall(r'^[A-Z_]*ACTION\s*=\s*"([a-z_]+(?:\.[a-z_]+)+)"', text, re.M)
            )
    assert {"role.grant", "events.create", "safety.secret", "web.login"} <= recorded
    texts = root / "plugins" / "captains" / "texts"
    for lang in ("id", "en"):
        with (texts / f"{lang}.toml").open("rb") as handle:
            labels = tomllib.load(handle)["captains"]["audit"]["action"]
        assert sorted(recorded - set(labels)) == [], lang
