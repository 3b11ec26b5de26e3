"""Declarative flow steps (core/_steps.py): prompt, parser, checks; answers persisted, a
restart resumes at the same question."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from core import (
    Capability,
    Command,
    Context,
    FakeClock,
    Flow,
    Invalid,
    PluginInfo,
    Settings,
    Step,
    hookimpl,
)
from core._db import throwaway_url
from core._steps import max_length
from core.testing import (
    ALL_CAPABILITIES,
    TEST_START,
    FakeChat,
    MemoryAdapter,
    Restarts,
    make_app,
    test_settings,
)


def _closing_date(text: str) -> str:
    return date.fromisoformat(text).isoformat()  # ValueError re-asks


def _not_past(ctx: Context, value: str) -> None:
    if date.fromisoformat(value) < ctx.now().date():
        raise Invalid("vac.past", when=value)


class Vacancies:
    PLUGIN = PluginInfo(name="vac")

    def __init__(self) -> None:
        self.saved: list[dict[str, Any]] = []

    async def new(self, ctx: Context, title: str | None = None) -> None:
        given = {"title": title} if title else {}
        await ctx.start_steps("vac:new", **given)

    async def save(self, ctx: Context, answers: dict[str, Any]) -> None:
        self.saved.append(answers)
        await ctx.reply(ctx.t("vac.saved", title=answers["title"], closes=answers["closes"]))

    @staticmethod
    async def ask_seats(ctx: Context, answers: Any) -> str:
        return f"Berapa kursi untuk {answers['title']}?"

    @hookimpl
    def guyub_register_commands(self) -> list[Command]:
        from core import Param

        return [
            Command(
                "vacancy",
                self.new,
                "vac.cmd",
                alias="lowongan",
                params=(Param("title", required=False, alias="judul"),),
            )
        ]

    @hookimpl
    def guyub_register_flows(self) -> list[Flow]:
        return [
            Flow.of_steps(
                "vac:new",
                [
                    Step("title", "vac.ask.title", check=max_length(20), label="vac.label.title"),
                    Step(
                        "closes",
                        "vac.ask.closes",
                        _closing_date,
                        check=_not_past,
                        label="vac.label.closes",
                    ),
                    Step(
                        "seats",
                        self.ask_seats,
                        int,
                        error="vac.not_a_number",
                        label="vac.label.seats",
                    ),
                ],
                done=self.save,
                title="vac.cmd",
            )
        ]

    @hookimpl
    def guyub_register_texts(self) -> dict[str, dict[str, str]]:
        return {
            "id": {
                "vac.cmd": "Lowongan baru",
                "vac.ask.title": "Apa judul lowongannya?",
                "vac.ask.closes": "Ditutup tanggal berapa (YYYY-MM-DD)?",
                "vac.past": "Tanggal {when} sudah lewat.",
                "vac.not_a_number": "“{text}” bukan angka.",
                "vac.saved": "Tersimpan: {title}, tutup {closes}.",
                "vac.label.title": "Judul",
                "vac.label.closes": "Tanggal tutup",
                "vac.label.seats": "Jumlah kursi",
            },
            "en": {
                "vac.cmd": "New vacancy",
                "vac.ask.title": "What is the vacancy's title?",
                "vac.ask.closes": "Closing date (YYYY-MM-DD)?",
                "vac.past": "{when} is in the past.",
                "vac.not_a_number": "“{text}” is not a number.",
                "vac.saved": "Saved: {title}, closes {closes}.",
                "vac.label.title": "Title",
                "vac.label.closes": "Closing date",
                "vac.label.seats": "Seats",
            },
        }


async def test_a_flow_of_steps_asks_checks_and_finishes() -> None:
    plugin = Vacancies()
    async with make_app(plugins=[plugin], discover_plugins=False) as app:
        chat = FakeChat(app)
        amir = chat.user("amir")
        await amir.says("/lowongan")
        chat.expect_sent(amir, contains="Apa judul lowongannya?")
        await amir.says("Operator gudang di Lhokseumawe, shift malam")
        chat.expect_sent(amir, contains="paling banyak 20 karakter")
        chat.expect_sent(amir, contains="Apa judul lowongannya?")
        await amir.says("Operator gudang")
        chat.expect_sent(amir, contains="Ditutup tanggal berapa")
        await amir.says("besok")
        chat.expect_sent(amir, contains="“besok” tidak bisa saya pakai")
        await amir.says("2026-11-01")
        chat.expect_sent(amir, contains="Tanggal 2026-11-01 sudah lewat.")
        await amir.says("2026-12-31")
        chat.expect_sent(amir, contains="Berapa kursi untuk Operator gudang?")
        await amir.says("tiga")
        chat.expect_sent(amir, contains="“tiga” bukan angka.")
        await amir.says("3")
        chat.expect_sent(amir, contains="Tersimpan: Operator gudang, tutup 2026-12-31.")
    assert plugin.saved == [{"title": "Operator gudang", "closes": "2026-12-31", "seats": 3}]


async def test_given_answers_are_not_asked_and_cancel_leaves() -> None:
    plugin = Vacancies()
    async with make_app(plugins=[plugin], discover_plugins=False) as app:
        chat = FakeChat(app)
        amir = chat.user("amir")
        await amir.says("/lowongan Kasir")
        chat.expect_sent(amir, contains="Ditutup tanggal berapa")
        await amir.says("/batal")
        chat.expect_sent(amir, contains="Dibatalkan")
        await amir.says("2026-12-31")  # no flow any more: answered as /start, not by the steps
        reply = chat.expect_sent(amir)
        assert "Ditutup tanggal berapa" not in reply.text
    assert plugin.saved == []


def _settings(tmp_path: Path) -> Settings:
    base = os.environ.get("GUYUB_TEST_POSTGRES_URL")
    if base:
        return test_settings(database={"url": throwaway_url(base)})
    return test_settings(database={"url": f"sqlite://{tmp_path}/guyub.sqlite3"})


async def test_a_restart_resumes_at_the_same_question(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    clock = FakeClock(TEST_START)
    lives = Restarts(settings, clock=clock, discover_plugins=False)
    async with lives.app(Vacancies()) as app:
        chat = FakeChat(app)
        amir = chat.user("amir")
        await amir.says("/lowongan Kasir")
        await amir.says("2026-12-31")
        chat.expect_sent(amir, contains="Berapa kursi")
    plugin = Vacancies()
    async with lives.app(plugin, last=True) as app:
        chat = FakeChat(app)
        await chat.user("amir").says("2")
        chat.expect_sent(chat.user("amir"), contains="Tersimpan: Kasir")
    assert plugin.saved == [{"title": "Kasir", "closes": "2026-12-31", "seats": 2}]


def test_a_flow_needs_unique_steps() -> None:
    async def done(ctx: Context, answers: dict[str, Any]) -> None:
        return None

    with pytest.raises(ValueError, match="unique"):
        Flow.of_steps("x", [Step("a", "k"), Step("a", "k")], done)
    with pytest.raises(ValueError, match="at least one"):
        Flow.of_steps("x", [], done)


async def test_where_the_platform_has_forms_the_steps_are_one_form() -> None:
    plugin = Vacancies()
    modals = MemoryAdapter("discord", caps=ALL_CAPABILITIES | {Capability.MODALS})
    async with make_app(plugins=[plugin], discover_plugins=False) as app:
        chat = FakeChat(app, [modals])
        amir = chat.user("amir")
        await amir.says("/lowongan Kasir")
        form, _ = modals.forms[-1]
        assert form.title == "Lowongan baru"
        assert [(f.name, f.label) for f in form.fields] == [
            ("closes", "Tanggal tutup"),
            ("seats", "Jumlah kursi"),
        ]
        await amir.fills({"closes": "2026-12-31", "seats": "4"})
        chat.expect_sent(amir, contains="Tersimpan: Kasir, tutup 2026-12-31.")
        # A refused answer is asked again on its own; the others are kept.
        await amir.says("/lowongan")
        await amir.fills({"title": "Satpam", "closes": "kemarin", "seats": "2"})
        chat.expect_sent(amir, contains="“kemarin” tidak bisa saya pakai")
        chat.expect_sent(amir, contains="Ditutup tanggal berapa")
        await amir.says("2027-01-15")
        chat.expect_sent(amir, contains="Tersimpan: Satpam, tutup 2027-01-15.")
    assert plugin.saved[-1] == {"title": "Satpam", "closes": "2027-01-15", "seats": 2}


class Mentors(Vacancies):
    """The flow of :class:`Vacancies` with a title and a label too long for a form in
    Indonesian (the English ones fit)."""

    PLUGIN = PluginInfo(name="mentors")

    @hookimpl
    def guyub_register_texts(self) -> dict[str, dict[str, str]]:
        texts = super().guyub_register_texts()
        texts["id"]["vac.cmd"] = "Tawarkan diri Anda sebagai mentor suatu keahlian"
        texts["id"]["vac.label.seats"] = "Berapa banyak kursi yang tersedia untuk peserta"
        return texts


async def test_a_long_form_title_fails_the_plugins_own_tests() -> None:
    from core import PluginError

    with pytest.raises(PluginError) as raised:
        async with make_app(plugins=[Mentors()], discover_plugins=False):
            pass
    message = str(raised.value)
    assert "plugin 'mentors', text 'vac.cmd' in 'id' (48 characters" in message
    assert "plugin 'mentors', text 'vac.label.seats' in 'id' (47 characters" in message
    assert "in 'en'" not in message


async def test_a_long_form_title_is_a_warning_and_cut_at_a_word(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Outside the test kit (a deployment) the bot starts, says which text is too long at
    start-up, and the form shows it cut at a word boundary with an ellipsis."""
    from core import App

    settings = test_settings()
    server = not settings.database.url.startswith("sqlite")
    modals = MemoryAdapter("discord", caps=ALL_CAPABILITIES | {Capability.MODALS})
    app = App(
        settings,
        plugins=[Mentors()],
        discover_plugins=False,
        schema="create",
        clock=FakeClock(TEST_START),
        create_database=server,
        drop_database=server,
    )
    with caplog.at_level("WARNING", logger="core._app"):
        await app.start()
    try:
        warned = [r.getMessage() for r in caplog.records if "form text" in r.getMessage()]
        assert len(warned) == 2
        assert warned[0].startswith("plugin mentors: form text 'vac.cmd' in 'id' is 48 chara")
        assert "members see 'Tawarkan diri Anda sebagai mentor suatu…'" in warned[0]
        chat = FakeChat(app, [modals])
        await chat.user("amir").says("/lowongan")
        form, _ = modals.forms[-1]
        assert form.title == "Tawarkan diri Anda sebagai mentor suatu…"
        assert form.fields[2].label == "Berapa banyak kursi yang tersedia untuk…"
    finally:
        await app.stop()
