"""/region, /captains, /regions, /region_link and the CLI, through FakeChat."""

from __future__ import annotations

import io
from pathlib import Path

from core import App, Member, Role
from core.testing import FakeChat
from plugins.regions import _cli
from plugins.regions.models import RecipientCount, RegionChat


async def _member(chat: FakeChat, name: str, region: str | None, registered: bool = True) -> Member:
    user = chat.user(name)
    await user.says("/help")
    account = await chat.app.identity.account_for(user.ref)
    assert account is not None
    member = await Member.get(id=account.member_id)
    member.region_code = region
    member.registered_at = chat.now() if registered else None
    await member.save()
    return member


async def test_region_shows_region_captain_and_groups(chat: FakeChat) -> None:
    siti = await _member(chat, "siti", "11.08")
    cut = await _member(chat, "cut", "11")
    await chat.app.roles.grant(cut.id, Role.CAPTAIN, "11")
    group = chat.group("Aceh Utara")
    await chat.user("cut").says(group, "/tautkan_wilayah aceh utara https://t.me/+acehutara")
    chat.expect_sent(group, contains="grup wilayah Kabupaten Aceh Utara")
    await chat.user("siti").says("/wilayah")
    card = chat.expect_sent(chat.user("siti"), contains="Kabupaten Aceh Utara")
    assert "Provinsi: Aceh" in card.text
    assert "Kapten: cut" in card.text
    assert "https://t.me/+acehutara" in card.markup
    assert siti.region_code == "11.08"
    assert await chat.app.regions.chats("11.08") == [group]


async def test_region_without_a_region_says_how_to_set_it(chat: FakeChat) -> None:
    await chat.user("budi").says("/region")
    chat.expect_sent(chat.user("budi"), contains="belum memilih wilayah")
    await chat.user("budi").says("/captains")
    chat.expect_sent(chat.user("budi"), contains="belum memilih wilayah")


async def test_region_by_name_asks_when_ambiguous(chat: FakeChat) -> None:
    budi = chat.user("budi")
    await budi.says("/region bekasi")
    chat.expect_sent(budi, contains="Pilih salah satu")
    await budi.presses("Kota Bekasi")
    chat.expect_sent(budi, contains="Kota Bekasi")
    chat.expect_sent(budi, contains="belum ada kapten")
    await budi.says("/region zzzz qqqq")
    chat.expect_sent(budi, contains="tidak ditemukan")


async def test_captains_lists_kabupaten_then_province(chat: FakeChat) -> None:
    await _member(chat, "siti", "11.08")
    near = await _member(chat, "teuku", "11.08")
    far = await _member(chat, "cut", "11")
    await chat.app.roles.grant(far.id, Role.CAPTAIN, "11")
    await chat.app.roles.grant(near.id, Role.CAPTAIN, "11.08")
    await chat.user("siti").says("/kapten")
    sent = chat.expect_sent(chat.user("siti"), contains="Kapten untuk Kabupaten Aceh Utara")
    assert sent.text.index("teuku") < sent.text.index("cut")
    assert "cut — Aceh" in sent.text


async def test_region_link_needs_a_captain_of_that_region(chat: FakeChat) -> None:
    other = await _member(chat, "dewi", "32.75")
    await chat.app.roles.grant(other.id, Role.CAPTAIN, "32")
    group = chat.group("Aceh")
    dewi = chat.user("dewi")
    await dewi.says(group, "/region_link aceh utara")
    chat.expect_sent(group, contains="tidak mengurus wilayah 11.08")
    assert await RegionChat.all().count() == 0
    await chat.user("budi").says(group, "/region_link aceh utara")
    assert await RegionChat.all().count() == 0


async def test_region_link_ambiguous_asks_with_buttons_and_unlinks(chat: FakeChat) -> None:
    admin = await _member(chat, "pmo", None)
    await chat.app.roles.grant(admin.id, Role.ADMIN)
    group = chat.group("Bekasi Raya")
    pmo = chat.user("pmo")
    await pmo.says(group, "/region_link bekasi <@&123456789>")
    chat.expect_sent(group, contains="Pilih salah satu")
    await pmo.presses("Kabupaten Bekasi", group)
    chat.expect_sent(group, contains="Kabupaten Bekasi")
    bound = await RegionChat.get(chat_id=group.id)
    assert bound.region_code == "32.16"
    assert bound.discord_role_id == "123456789"
    await pmo.says(group, "/lepas_wilayah")
    chat.expect_sent(group, contains="tidak lagi")
    assert await RegionChat.all().count() == 0


async def test_regions_list_counts_members(chat: FakeChat) -> None:
    cap = await _member(chat, "cut", "11")
    await chat.app.roles.grant(cap.id, Role.CAPTAIN, "11")
    await _member(chat, "siti", "11.08")
    await _member(chat, "rudi", "11.08", registered=False)
    cut = chat.user("cut")
    await cut.says("/daftar_wilayah aceh")
    sent = chat.expect_sent(cut, contains="Kabupaten/kota di Aceh")
    assert "11.08 Kabupaten Aceh Utara: 2 / 1" in sent.text
    await cut.says("/regions")
    sent = chat.expect_sent(cut, contains="Wilayah")
    assert "11 Aceh: 3 / 2" in sent.text
    await chat.user("siti").says("/regions")
    chat.expect_not_sent(chat.user("siti"), contains="Wilayah (")


async def test_cli_search_list_and_import(chat: FakeChat, tmp_path: Path) -> None:
    app: App = chat.app
    await _member(chat, "siti", "11.08")
    out = io.StringIO()
    assert await _cli.search(app, out, "Aceh Utra") == 0
    assert "11.08" in out.getvalue()
    assert "certain" in out.getvalue()
    out = io.StringIO()
    await _cli.search(app, out, "bekasi")
    assert "ambiguous" in out.getvalue()
    out = io.StringIO()
    assert await _cli.list_regions(app, out, "11") == 0
    assert out.getvalue().count("\n") == 24
    assert await _cli.list_regions(app, io.StringIO(), "11.08") == 2

    bad = tmp_path / "bad.csv"
    bad.write_text("code,recipients\n11.08,68066\n99.99,5\n", encoding="utf-8")
    out = io.StringIO()
    assert await _cli.import_recipients(app, out, bad) == 1
    assert "99.99" in out.getvalue()
    assert await RecipientCount.all().count() == 0
    good = tmp_path / "good.csv"
    good.write_text("code,recipients\n11.08,68066\n11.11,54176\n", encoding="utf-8")
    assert await _cli.import_recipients(app, io.StringIO(), good) == 0
    stats = await app.plugins.collect_stats(["11.08"], app)
    row = stats["regions"]["regions"][0]
    assert row["code"] == "11.08"
    assert row["members"] == 1
    assert row["recipients"] == 68066
    assert row["coverage"] == round(1 / 68066, 6)
    assert stats["regions"]["without_captain"] == 1  # Aceh Utara itself
    assert stats["regions"]["without_group"] == 1
    national = await app.plugins.collect_stats(None, app)
    assert national["regions"]["without_captain"] == 514


async def test_completions_offer_regions(app: App) -> None:
    provinces = await app.plugins.resolve_completions("regions", "")
    assert ("Provinsi Aceh", "11") in provinces
    found = await app.plugins.resolve_completions("regions", "bekasi")
    assert [code for _, code in found] == ["32.16", "32.75"]
    assert await app.plugins.resolve_completions("events", "x") == []


async def test_export_and_forget(chat: FakeChat) -> None:
    admin = await _member(chat, "pmo", "11.08")
    await chat.app.roles.grant(admin.id, Role.ADMIN)
    await chat.user("pmo").says(chat.group("G"), "/region_link 11.08")
    data = await chat.app.plugins.export_member(admin)
    assert data["regions"]["region"]["code"] == "11.08"
    assert data["regions"]["groups_linked"][0]["region"] == "11.08"
    await chat.app.plugins.forget_member(admin)
    assert (await RegionChat.get(chat_id="g-g")).linked_by_id is None
