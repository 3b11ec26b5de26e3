"""Captain management in chat and on the CLI, members, export, stats and privacy hooks."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from core import AuditEntry, Member, PluginInfo, Role, hookimpl
from core.testing import FakeChat
from plugins.captains import guyub_export_member, guyub_forget_member
from plugins.captains._cli import add, list_, members, remove
from plugins.captains._members import COLUMNS
from plugins.captains.models import Warning
from tests.plugins.captains.world import world


async def test_add_list_handover_remove_all_audited(make_app):
    async with world(make_app) as w:
        chat = w.chat
        pmo = await w.person("pmo", None)
        amir = await w.person("amir", "11.08")
        await w.person("budi", "11.08")
        await pmo.says("/kapten_tambah @amir Aceh Utara")
        chat.expect_sent(amir, contains="Anda sekarang kapten Aceh Utara")
        await pmo.says("/kapten_tambah @amir Aceh Utara")
        chat.expect_sent(pmo, contains="sudah menjadi kapten")
        await pmo.says("/kapten_tambah @amir Aceh Ut")
        chat.expect_sent(pmo, contains="sudah menjadi kapten")  # one partial match is certain
        await pmo.says("/kapten_tambah @amir Sumatera Barat")
        chat.expect_sent(pmo, contains="tidak ditemukan")
        await pmo.says("/kapten_tambah @amir semua")
        chat.expect_sent(pmo, contains="jadikan dia admin")
        await amir.says("/kapten_daftar")
        chat.expect_sent(amir, contains="amir (#2) — Aceh Utara (11.08)")
        # A captain hands their own region over in one step.
        await amir.says("/kapten_serah @amir @budi")
        chat.expect_sent(amir, contains="Aceh Utara diserahkan dari amir ke budi")
        app = chat.app
        amir_m, budi_m = (
            await w.member_of(amir),
            await w.member_of(chat.user("budi", platform="tg")),
        )
        assert await app.roles.captain_scopes(amir_m.id) == []
        assert await app.roles.captain_scopes(budi_m.id) == ["11.08"]
        await amir.says("/siaran")
        chat.expect_sent(amir, contains="hanya untuk kapten atau admin")
        await pmo.says("/kapten_hapus @budi")
        chat.expect_sent(pmo, contains="budi bukan lagi kapten: Aceh Utara")
        actions = await AuditEntry.all().order_by("id").values_list("action", flat=True)
        assert actions.count("role.grant") == 3  # the config admin, amir, then budi
        assert "captains.handover" in actions
        assert actions.count("role.revoke") == 2
        await pmo.says("/jejak 11.08")
        log = chat.expect_sent(pmo, contains="Catatan tindakan — Aceh Utara")
        assert "Tugas kapten diserahkan" in log.text
        assert "Peran dicabut" in log.text
        assert "WIB" in log.text
        # a report to forward: no raw action keys, no "member:3"
        assert "captains." not in log.text
        assert "role." not in log.text
        assert "member:" not in log.text


async def test_cli_captains_and_member_export(make_app):
    async with world(make_app) as w:
        app = w.chat.app
        amir = await w.person("amir", "11.08")
        await w.person("budi", "11.11", platform="dc")
        await Member.filter(id=2).update(registered_at=app.clock.now())
        out = io.StringIO()
        assert await add(app, out, "tg:amir", "Aceh Utara") == 0
        assert await add(app, out, "tg:amir", "Sumatera Barat") == 2
        assert await list_(app, out) == 0
        assert "\tamir\t11.08\tAceh Utara" in out.getvalue()
        assert await remove(app, out, "#2") == 0
        assert await app.roles.highest((await w.member_of(amir)).id) == Role.MEMBER
        none = io.StringIO()
        assert await list_(app, none) == 0
        assert none.getvalue().startswith("no captains yet")  # not an empty screen

        unknown = io.StringIO()
        assert await members(app, unknown, "csv", "99") == 2  # an error, not a bare header
        assert unknown.getvalue() == "region code '99' does not exist\n"

        buffer = io.StringIO()
        assert await members(app, buffer, "csv", "Aceh") == 0
        rows = list(csv.DictReader(io.StringIO(buffer.getvalue())))
        assert tuple(rows[0]) == COLUMNS
        assert [(r["display_name"], r["region_name"], r["platforms"]) for r in rows] == [
            ("amir", "Aceh Utara", "tg"),
            ("budi", "Bireuen", "dc"),
        ]
        assert rows[0]["registered_at"].startswith("2026-11-23")
        buffer = io.StringIO()
        assert await members(app, buffer, "json", "11.11") == 0
        data = json.loads(buffer.getvalue())
        assert [d["display_name"] for d in data] == ["budi"]
        assert set(data[0]) == set(COLUMNS)


@pytest.mark.slow
def test_cli_commands_are_wired(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'cli.sqlite3'}"
    env = {"GUYUB_DATABASE__URL": url, "PATH": ""}
    guyub = [sys.executable, "-m", "core"]
    result = subprocess.run(
        [*guyub, "export", "members", "--format", "csv"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == ",".join(COLUMNS)
    result = subprocess.run(
        [*guyub, "captains", "add", "telegram:42", "11.08"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "captain of" in result.stdout
    assert "(11.08)" in result.stdout


async def test_members_counts_pages_and_csv(make_app):
    async with world(make_app, captains={"members_page_size": 2}) as w:
        chat = w.chat
        pmo = await w.person("pmo", None)
        for name in ("ani", "asep", "adi"):
            await w.person(name, "11.08")
        await w.person("budi", "11.11")
        await pmo.says("/anggota Aceh Utara")
        first = chat.expect_sent(pmo, contains="Bergabung: 3")
        assert "Aktif dalam 30 hari: 3" in first.text
        assert "Halaman 1 dari 2" in first.text
        assert "budi" not in first.text
        await pmo.presses("Berikutnya")
        chat.expect_sent(pmo, contains="Halaman 2 dari 2")
        await pmo.presses("CSV")
        sent = chat.expect_sent(pmo, contains="Daftar anggota (3 baris)")
        filename, data = sent.attachments[0].filename, sent.attachments[0].data
        assert filename == "members.csv"
        assert data.decode().splitlines()[0] == ",".join(COLUMNS)


async def test_stats_text_and_chart(make_app):
    async with world(make_app) as w:
        chat = w.chat
        pmo = await w.person("pmo", None)
        await w.person("ani", "11.08")
        await w.person("budi", "11.11")
        await pmo.says("/statistik Aceh")
        sent = chat.expect_sent(pmo, contains="Statistik — Aceh")
        assert "Anggota: 2" in sent.text
        assert "Siaran dalam 30 hari: 0" in sent.text
        kind, filename, png = (
            sent.attachments[0].kind,
            sent.attachments[0].filename,
            sent.attachments[0].data,
        )
        assert (kind, filename) == ("image", "statistik.png")
        assert png.startswith(b"\x89PNG")


async def test_export_and_forget_warnings(make_app):
    async with world(make_app) as w:
        pmo = await w.person("pmo", None)
        tono = await w.person("tono", "11.08")
        group = w.group("Aceh Utara", "11.08")
        await tono.says(group, "spam spam")
        await pmo.says(group, "/warn @tono jualan")
        member = await w.member_of(tono)
        exported = await guyub_export_member(member)
        assert exported is not None
        assert exported["warnings"][0]["reason"] == "jualan"
        await guyub_forget_member(member)
        assert not await Warning.filter(member_id=member.id).exists()
        assert await guyub_export_member(member) is None


async def test_member_exports_neutralise_formula_names(make_app):
    """Security: a display name that is a formula reaches the CSV (CLI and /anggota file)
    as text, not as a formula. (``=HYPERLINK("https://...")`` can't be a name any more: the
    name guard takes its link out, even from a name stored before the guard; ``=SUM(...)``
    passes the guard, so the CSV writer must neutralise it.)"""
    async with world(make_app) as w:
        chat = w.chat
        app = chat.app
        pmo = await w.person("pmo", None)
        evil = await w.person("evil", "11.08")
        name = "=SUM(A1:A9)+Klik"
        await Member.filter(id=(await w.member_of(evil)).id).update(display_name=name)
        buffer = io.StringIO()
        assert await members(app, buffer, "csv", "Aceh") == 0
        rows = list(csv.DictReader(io.StringIO(buffer.getvalue())))
        assert [r["display_name"] for r in rows] == ["'" + name]
        await pmo.says("/anggota Aceh Utara")
        await pmo.presses("CSV")
        sent = chat.expect_sent(pmo, contains="Daftar anggota")
        rows = list(csv.DictReader(io.StringIO(sent.attachments[0].data.decode())))
        assert [r["display_name"] for r in rows] == ["'" + name]


class _Untitled:
    """A plugin whose /stats figures have labels but no section heading."""

    PLUGIN = PluginInfo(name="mentoring", version="1")

    @hookimpl
    async def guyub_collect_stats(self, region_codes: Any, app: Any) -> dict[str, Any]:
        return {"mentors": 4}

    @hookimpl
    def guyub_register_texts(self) -> dict[str, dict[str, str]]:
        return {
            "id": {"mentoring.stats.mentors": "Mentor"},
            "en": {"mentoring.stats.mentors": "Mentors"},
        }


async def test_figures_without_a_section_text_are_under_other_never_the_plugin_name(
    make_app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async with make_app(plugins=[_Untitled()]) as app:
        chat = FakeChat(app)
        sari = chat.user("sari")
        await chat.make_admin(sari)
        await sari.says("/statistik")
        sent = chat.expect_sent(sari, matches=r"Lainnya\s+• Mentor: 4")
        assert "mentoring" not in sent.text
    assert "no mentoring.stats.section text" in caplog.text
