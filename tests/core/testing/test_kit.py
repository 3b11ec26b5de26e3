"""The test kit a plugin author uses: make_app, FakeChat helpers, attachments, matching."""

from __future__ import annotations

from typing import Any

import pytest

from core import (
    Attachment,
    AttachmentKind,
    Command,
    Context,
    Member,
    Message,
    PluginError,
    PluginInfo,
    Role,
    SettingsError,
    hookimpl,
)
from core.testing import ExpectationFailed, FakeChat, HandlerError, MemoryAdapter


class _NeedsRegions:
    PLUGIN = PluginInfo(name="needy", version="1", requires=("regions",))


class _Files:
    PLUGIN = PluginInfo(name="files", version="1")

    @staticmethod
    async def report(ctx: Context) -> None:
        csv = Attachment(AttachmentKind.FILE, "report.csv", b"kode,nama\n11.08,Aceh Utara\n")
        await ctx.reply(Message.of("Laporan terlampir", attachments=(csv,)))

    @hookimpl
    def guyub_register_commands(self) -> list[Command]:
        return [Command("report", self.report, "files.cmd", alias="laporan")]

    @hookimpl
    def guyub_register_texts(self) -> dict[str, dict[str, str]]:
        return {"id": {"files.cmd": "Laporan"}, "en": {"files.cmd": "Report"}}


async def test_a_plugin_passed_explicitly_that_cannot_load_fails_loudly(make_app: Any) -> None:
    with pytest.raises(PluginError, match=r"needy.*requires regions"):
        async with make_app(plugins=[_NeedsRegions()], discover_plugins=False):
            pass


async def test_a_plugin_disabled_in_config_but_passed_explicitly_fails(make_app: Any) -> None:
    with pytest.raises(PluginError, match="disabled in config"):
        async with make_app(plugins=[_Files()], plugin_settings={"disabled": ["files"]}):
            pass


async def test_plugin_settings_is_the_plugins_table(make_app: Any) -> None:
    async with make_app(plugin_settings={"disabled": ["polls"]}) as app:
        assert "polls" not in app.plugins.names()
        assert "events" in app.plugins.names()


async def test_a_plugins_own_table_in_plugin_settings_is_refused_with_the_right_keyword(
    make_app: Any,
) -> None:
    with pytest.raises(TypeError, match=r"keyword named after it: make_app\(kelas=\{\.\.\.\}\)"):
        async with make_app(plugin_settings={"kelas": {"capacity": 3}}):
            pass


async def test_an_unknown_key_in_a_plugins_settings_table_is_refused(make_app: Any) -> None:
    with pytest.raises(SettingsError, match=r"\[events\] settings: unknown key default_remindrs"):
        async with make_app(events={"default_remindrs": "1d"}):
            pass


async def test_a_mapping_for_plugins_is_refused(make_app: Any) -> None:
    with pytest.raises(TypeError, match="plugin_settings"):
        async with make_app(plugins={"disabled": ["polls"]}):
            pass


async def test_member_captain_and_region_helpers(chat: FakeChat) -> None:
    amir = chat.user("amir")
    member = await chat.member(amir)
    assert member.display_name == "amir"
    assert chat.sent == []  # nothing was said to create the member
    assert (await amir.member()).id == member.id
    await chat.make_captain(amir, "11.08")
    assert await chat.app.roles.highest(member.id) is Role.CAPTAIN
    assert await chat.app.roles.captain_scopes(member.id) == ["11.08"]
    await amir.set_region("11.08")
    assert (await Member.get(id=member.id)).region_code == "11.08"
    with pytest.raises(ValueError, match="unknown region"):
        await amir.set_region("99.99")
    with pytest.raises(ValueError, match="unknown region"):
        await chat.make_captain(amir, "99")
    pmo = chat.user("pmo")
    await chat.make_admin(pmo)
    assert await chat.app.roles.is_admin((await pmo.member()).id)


async def test_helpers_that_change_state_start_a_new_action(chat: FakeChat) -> None:
    """What ``expect_sent`` looks at after ``set_region``/``make_captain`` is what they
    caused, never an earlier action's messages."""
    amir = chat.user("amir")
    await amir.says("/help")
    chat.expect_sent(amir, contains="Perintah Guyub")
    await amir.set_region("11.08")
    with pytest.raises(ExpectationFailed):
        chat.expect_sent(amir, contains="Perintah Guyub")
    await amir.says("/help")
    await chat.make_captain(amir, "11.08")
    chat.expect_nothing()
    await amir.says("/help")
    await chat.make_admin(amir)
    assert chat.since_last_action() == []


async def test_attachments_are_core_attachments_with_assertable_contents(make_app: Any) -> None:
    async with make_app(plugins=[_Files()]) as app:
        chat = FakeChat(app)
        amir = chat.user("amir")
        await amir.says("/laporan")
        sent = chat.expect_sent(amir, attachment="*.csv")
        (attached,) = sent.attachments
        assert isinstance(attached, Attachment)
        assert attached.kind is AttachmentKind.FILE
        assert sent.attachment("report.*").filename == "report.csv"
        assert "11.08,Aceh Utara" in sent.attachment_text("*.csv")
        with pytest.raises(AssertionError, match=r"no attachment matching '\*.png'"):
            sent.attachment("*.png")
        with pytest.raises(ExpectationFailed, match=r"attachment '\*.png'"):
            chat.expect_sent(amir, attachment="*.png")


async def test_contains_is_case_insensitive_and_matches_is_a_regex(chat: FakeChat) -> None:
    amir = chat.user("amir")
    await amir.says("/help")
    chat.expect_sent(amir, contains="PERINTAH GUYUB")
    chat.expect_sent(amir, matches=r"perintah\s+guyub.*untuk semua anggota")
    with pytest.raises(ExpectationFailed):
        chat.expect_sent(amir, contains="Perintah Guyub", matches="tidak ada")


class _Crashy:
    PLUGIN = PluginInfo(name="crashy", version="1")

    @staticmethod
    async def crash(ctx: Context) -> None:
        raise ZeroDivisionError("the cause a test must see")

    @hookimpl
    def guyub_register_commands(self) -> list[Command]:
        return [Command("crash", self.crash, "crashy.cmd", alias="rusak")]

    @hookimpl
    def guyub_register_texts(self) -> dict[str, dict[str, str]]:
        return {"id": {"crashy.cmd": "Rusak"}, "en": {"crashy.cmd": "Crash"}}


async def test_a_failed_expectation_shows_the_handlers_traceback(make_app: Any) -> None:
    async with make_app(plugins=[_Crashy()], discover_plugins=False) as app:
        chat = FakeChat(app)
        amir = chat.user("amir")
        await amir.says("/rusak")
        assert [type(e) for e in chat.errors] == [ZeroDivisionError]
        with pytest.raises(ExpectationFailed, match="the cause a test must see") as failed:
            chat.expect_sent(amir, contains="Selesai")
        assert "ZeroDivisionError" in str(failed.value)
        await amir.says("/help")
        assert chat.errors == []  # each action starts clean


async def test_raise_errors_makes_the_action_raise(make_app: Any) -> None:
    async with make_app(plugins=[_Crashy()], discover_plugins=False) as app:
        chat = FakeChat(app, raise_errors=True)
        amir = chat.user("amir")
        with pytest.raises(HandlerError) as raised:
            await amir.says("/rusak")
        assert isinstance(raised.value.__cause__, ZeroDivisionError)
        await amir.says("/help")  # no error: nothing raised


async def test_uses_runs_a_command_with_typed_options_as_discord_does(make_app: Any) -> None:
    async with make_app() as app:
        chat = FakeChat(app, [MemoryAdapter("discord")])
        amir = chat.user("amir")
        await amir.uses("poll_results", poll=10**12)  # an int option, out of range
        sent = chat.expect_sent(amir, contains="harus berupa angka")
        # The parameter and the command as an Indonesian member on Discord reads them.
        assert sent.text.startswith(
            "Polling harus berupa angka. Cara pakai: /polling_hasil [polling]"
        )
