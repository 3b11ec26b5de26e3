"""Each hook as plugins see it: flows that survive a restart, lifecycle, polls, leaves,
/start deep links, settings models, completions and gathered answers."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from core import (
    App,
    CliCommand,
    Command,
    Context,
    Flow,
    MemberLeft,
    Message,
    PluginInfo,
    PollAnswered,
    PollSpec,
    hookimpl,
)
from core._db import throwaway_url
from core.models import Member
from core.testing import FakeChat, Restarts, make_app, test_settings


class SurveySettings(BaseModel):
    question: str = "Siapa nama Anda?"


class Survey:
    """A two-step flow, poll and leave listeners, a deep link and a settings table."""

    PLUGIN = PluginInfo("survey")

    def __init__(self) -> None:
        self.events: list[str] = []

    async def begin(self, ctx: Context) -> None:
        await ctx.start_flow("survey", "name")
        await ctx.reply(ctx.settings("survey").question)

    async def step(self, ctx: Context, text: str) -> None:
        assert ctx.conversation is not None
        if ctx.conversation.step == "name":
            await ctx.set_step("city", name=text)
            await ctx.reply("Kota?")
        else:
            name = ctx.conversation.data["name"]
            await ctx.end_flow()
            await ctx.reply(f"Terima kasih {name} dari {text}")

    async def ask(self, ctx: Context) -> None:
        await ctx.reply(
            Message.of("Pilih", poll=PollSpec("Makan apa?", ("Nasi", "Mie", "Roti"), multiple=True))
        )

    @hookimpl
    def guyub_register_commands(self) -> list[Command]:
        return [Command("survey", self.begin, "survey.cmd"), Command("ask", self.ask, "survey.cmd")]

    @hookimpl
    def guyub_register_flows(self) -> list[Flow]:
        return [Flow("survey", self.step)]

    @hookimpl
    def guyub_register_settings(self) -> type[BaseModel]:
        return SurveySettings

    @hookimpl
    def guyub_register_texts(self) -> dict[str, dict[str, str]]:
        return {"id": {"survey.cmd": "Survei"}, "en": {"survey.cmd": "Survey"}}

    @hookimpl
    def guyub_register_cli(self) -> list[CliCommand]:
        async def count(app: App, out: Any) -> int:
            out.write(f"{await Member.all().count()} members\n")
            return 0

        return [CliCommand("survey", "count", "Count members", count)]

    @hookimpl
    async def guyub_on_startup(self, app: App) -> None:
        self.events.append("startup")

    @hookimpl
    async def guyub_on_shutdown(self, app: App) -> None:
        self.events.append("shutdown")

    @hookimpl
    async def guyub_on_poll_answered(self, ctx: Context, event: PollAnswered) -> None:
        await ctx.reply(f"suara {list(event.options)} untuk {event.poll_id}")

    @hookimpl
    async def guyub_on_member_left(self, ctx: Context, event: MemberLeft) -> None:
        await ctx.reply(f"sampai jumpa {event.user.display_name}")

    @hookimpl
    async def guyub_handle_start(self, ctx: Context, payload: str) -> bool | None:
        if payload == "survey":
            await self.begin(ctx)
            return True
        return None

    @hookimpl
    async def guyub_resolve_completions(
        self, source: str, text: str, ctx: Context | None
    ) -> list[tuple[str, str]] | None:
        if source != "cities":
            return None
        return [
            (c, c.lower()) for c in ("Banda Aceh", "Bireuen", "Medan") if text.lower() in c.lower()
        ]

    @hookimpl
    async def guyub_export_member(self, member: Member) -> dict[str, Any] | None:
        return {"answers": 1}

    @hookimpl
    async def guyub_forget_member(self, member: Member) -> None:
        self.events.append(f"forget {member.id}")

    @hookimpl
    async def guyub_collect_stats(self, region_codes: list[str] | None, app: App) -> dict[str, Any]:
        return {"surveys": 3, "regions": region_codes}


def _shared_settings(tmp_path: Path) -> Any:
    base = os.environ.get("GUYUB_TEST_POSTGRES_URL")
    url = throwaway_url(base) if base else f"sqlite://{tmp_path}/flow.sqlite3"
    return test_settings(database={"url": url}, survey={"question": "Nama lengkap?"})


async def test_a_flow_resumes_at_its_step_after_a_restart(tmp_path: Path) -> None:
    settings = _shared_settings(tmp_path)
    survey = Survey()
    lives = Restarts(settings)
    async with lives.app(survey) as app:
        chat = FakeChat(app)
        amir = chat.user("amir")
        await amir.says("/survey")
        chat.expect_sent(amir, contains="Nama lengkap?")  # from the [survey] settings table
        await amir.says("Amir Hamzah")
        chat.expect_sent(amir, contains="Kota?")
    assert survey.events == ["startup", "shutdown"]
    async with lives.app(survey, last=True) as app:
        chat = FakeChat(app)
        amir = chat.user("amir")
        await amir.says("Lhokseumawe")
        chat.expect_sent(amir, contains="Terima kasih Amir Hamzah dari Lhokseumawe")
        await amir.says("halo lagi")  # the flow is over: answered as /start, not by it
        reply = chat.expect_sent(amir)
        assert "Kota?" not in reply.text
        assert "Terima kasih" not in reply.text


async def test_cancel_leaves_a_flow() -> None:
    async with make_app(plugins=[Survey()], discover_plugins=False) as app:
        chat = FakeChat(app)
        amir = chat.user("amir")
        await amir.says("/survey")
        await amir.says("/batal")
        chat.expect_sent(amir, contains="Dibatalkan")
        await amir.says("Amir")  # no flow any more: the greeting, not the next question
        chat.expect_sent(amir, contains="Ketik /bantuan")


async def test_deep_link_start_and_polls_and_leaves() -> None:
    async with make_app(plugins=[Survey()], discover_plugins=False) as app:
        chat = FakeChat(app)
        amir = chat.user("amir")
        await amir.says("/start survey")
        chat.expect_sent(amir, contains="Siapa nama Anda?")
        await amir.says("/batal")
        aceh = chat.group("Aceh")
        await amir.says(aceh, "/ask")
        poll = chat.expect_sent(aceh, contains="Makan apa?")
        await amir.votes([1, 3], aceh)
        chat.expect_sent(aceh, contains=f"suara [0, 2] untuk {poll.poll_id}")
        await amir.leaves(aceh)
        chat.expect_sent(aceh, contains="sampai jumpa amir")


async def test_completions_stats_export_and_forget_are_gathered() -> None:
    survey = Survey()
    async with make_app(plugins=[survey], discover_plugins=False) as app:
        chat = FakeChat(app)
        await chat.user("amir").says("/start")
        member = await Member.get(display_name="amir")
        assert await app.plugins.resolve_completions("cities", "bi") == [("Bireuen", "bireuen")]
        assert await app.plugins.resolve_completions("unknown", "x") == []
        assert await app.plugins.collect_stats(["11"], app) == {
            "survey": {"surveys": 3, "regions": ["11"]}
        }
        assert (await app.plugins.export_member(member))["survey"] == {"answers": 1}
        await app.plugins.forget_member(member)
        assert f"forget {member.id}" in survey.events


async def test_plugin_cli_commands_are_collected() -> None:
    async with make_app(plugins=[Survey()], discover_plugins=False) as app:
        commands = {(c.group, c.name) for _, cs in app.plugins.cli_commands() for c in cs}
        assert ("survey", "count") in commands


class Notes:
    """Owns a table, handles a button, and listens to community events."""

    PLUGIN = PluginInfo("notes")

    def __init__(self) -> None:
        self.heard: list[str] = []

    async def note(self, ctx: Context) -> None:
        from core import Button

        assert ctx.member is not None
        await ctx.reply(
            "Simpan?",
            buttons=[Button("Ya", "notes:save", {"text": "halo"}, only_for=ctx.member.id)],
        )

    async def save(self, ctx: Context, data: dict[str, Any]) -> None:
        from tests.core.hook_models import Note

        assert ctx.member is not None
        await Note.create(member_id=ctx.member.id, text=data["text"])
        await ctx.reply("Tersimpan")

    @hookimpl
    def guyub_register_models(self) -> list[Any]:
        from core import ModelModule

        return [ModelModule("hooktest", ("tests.core.hook_models",))]

    @hookimpl
    def guyub_register_commands(self) -> list[Command]:
        return [Command("note", self.note, "survey.cmd", alias="catat")]

    @hookimpl
    def guyub_register_actions(self) -> list[Any]:
        from core import Action

        return [Action("notes:save", self.save)]

    @hookimpl
    def guyub_register_texts(self) -> dict[str, dict[str, str]]:
        return {"id": {"survey.cmd": "Catat"}, "en": {"survey.cmd": "Note"}}

    @hookimpl
    async def guyub_on_member_onboarded(self, ctx: Context, member: Member) -> None:
        self.heard.append(f"onboarded {member.display_name}")

    @hookimpl
    async def guyub_on_member_region_changed(
        self, ctx: Context, member: Member, old_region: str | None, new_region: str | None
    ) -> None:
        self.heard.append(f"moved {old_region}->{new_region}")

    @hookimpl
    async def guyub_on_members_merged(self, app: App, kept: Member, merged: Member) -> None:
        self.heard.append(f"merged {merged.id} into {kept.id}")

    @hookimpl
    async def guyub_resolve_region_match(self, text: str) -> Any:
        from core import RegionInfo, RegionMatch

        if "aceh" in text.lower():
            return RegionMatch((RegionInfo("11", "Aceh", "provinsi", None),), certain=True)
        return None

    @hookimpl
    async def guyub_resolve_region_chats(self, code: str) -> Any:
        from core import ChatKind, ChatRef

        return [ChatRef("fake", "g-aceh", ChatKind.GROUP, "Aceh")] if code == "11" else None


async def test_models_buttons_and_community_hooks() -> None:
    from core import Context as Ctx
    from tests.core.hook_models import Note

    notes = Notes()
    async with make_app(plugins=[notes], discover_plugins=False) as app:
        chat = FakeChat(app)
        amir, siti = chat.user("amir"), chat.user("siti")
        aceh = chat.group("Aceh")
        await amir.says(aceh, "/catat")
        await siti.presses("Ya", aceh)
        chat.expect_sent(siti, contains="Tombol ini bukan untuk Anda")  # privately
        assert await Note.all().count() == 0
        await amir.presses("Ya", aceh)
        chat.expect_sent(aceh, contains="Tersimpan")
        assert await Note.filter(text="halo").count() == 1

        member = await Member.get(display_name="amir")
        other = await Member.get(display_name="siti")
        ctx = Ctx(app, member=member)
        await app.plugins.member_onboarded(ctx, member)
        await app.plugins.member_region_changed(ctx, member, None, "11.08")
        await app.plugins.members_merged(app, member, other)
        assert notes.heard == [
            "onboarded amir",
            "moved None->11.08",
            f"merged {other.id} into {member.id}",
        ]
        match = await app.regions.match("Aceh")
        assert match.certain
        assert match.best is not None
        assert match.best.code == "11"
        assert (await app.regions.match("Papua")).candidates == ()
        assert [c.title for c in await app.regions.chats("11")] == ["Aceh"]
        assert await app.regions.chats("12") == []


async def test_group_chatter_marks_members_active_without_listeners(clock: Any) -> None:
    from datetime import timedelta

    async with make_app(plugins=[], clock=clock) as app:
        chat = FakeChat(app)
        amir = chat.user("amir")
        aceh = chat.group("Aceh")
        await amir.joins(aceh)
        joined = (await Member.get(display_name="amir")).last_active_at
        clock.advance(timedelta(days=3))
        await amir.says(aceh, "halo semua")
        chat.expect_nothing()
        member = await Member.get(display_name="amir")
        assert member.last_active_at == clock.now() != joined


async def test_a_flow_must_declare_that_it_runs_in_groups() -> None:
    import pytest

    async with make_app(plugins=[Survey()], discover_plugins=False) as app:
        chat = FakeChat(app)
        amir = chat.user("amir")
        aceh = chat.group("Aceh")
        from core import Context as Ctx
        from core import MessageReceived

        member = await Member.create(display_name="x")
        ctx = Ctx(app, event=MessageReceived(user=amir.sender, chat=aceh, text="x"), member=member)
        with pytest.raises(ValueError, match="runs in private chats only"):
            await ctx.start_flow("survey", "name")
