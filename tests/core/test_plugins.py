"""The plugin manager: isolation, timeouts, requires, enable/disable, first-answer-wins."""

from __future__ import annotations

import asyncio
import logging

import pytest

from core import (
    Command,
    Context,
    MemberJoined,
    MessageReceived,
    PluginInfo,
    RegionInfo,
    Settings,
    hookimpl,
)
from core._plugins import Plugins, select
from core._settings import PluginSettings
from core.testing import FakeChat, make_app, test_settings


class Exploding:
    """Raises in every hook it implements."""

    PLUGIN = PluginInfo(name="exploding")

    @hookimpl
    async def guyub_on_message(self, ctx: Context, event: MessageReceived) -> None:
        raise RuntimeError("boom in on_message")

    @hookimpl
    async def guyub_on_member_joined(self, ctx: Context, event: MemberJoined) -> None:
        raise RuntimeError("boom in on_member_joined")

    @hookimpl
    async def guyub_resolve_region(self, code: str) -> RegionInfo | None:
        raise RuntimeError("boom in resolve_region")

    @hookimpl
    async def guyub_on_startup(self, app: object) -> None:
        raise RuntimeError("boom in startup")


class Sleepy:
    """Sleeps past the hook timeout everywhere."""

    PLUGIN = PluginInfo(name="sleepy")

    @hookimpl
    async def guyub_on_message(self, ctx: Context, event: MessageReceived) -> None:
        await asyncio.sleep(30)

    @hookimpl
    async def guyub_on_member_joined(self, ctx: Context, event: MemberJoined) -> None:
        await asyncio.sleep(30)

    @hookimpl
    async def guyub_resolve_region(self, code: str) -> RegionInfo | None:
        await asyncio.sleep(30)
        return None


class Polite:
    """Answers every message and join, and knows one region."""

    PLUGIN = PluginInfo(name="polite")

    @hookimpl
    async def guyub_on_message(self, ctx: Context, event: MessageReceived) -> None:
        await ctx.reply(f"heard: {event.text}")

    @hookimpl
    async def guyub_on_member_joined(self, ctx: Context, event: MemberJoined) -> None:
        await ctx.reply("welcome")

    @hookimpl
    async def guyub_resolve_region(self, code: str) -> RegionInfo | None:
        return (
            RegionInfo(code, "Kabupaten Aceh Utara", "kabupaten", "11") if code == "11.08" else None
        )


async def test_a_failing_and_a_slow_plugin_do_not_stop_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR)
    settings = test_settings(plugins={"hook_timeout": 0.05})
    async with make_app(
        plugins=[Exploding(), Sleepy(), Polite()], discover_plugins=False, settings=settings
    ) as app:
        chat = FakeChat(app)
        amir = chat.user("amir")
        aceh = chat.group("Aceh")
        await amir.joins(aceh)
        chat.expect_sent(aceh, contains="welcome")
        await amir.says(aceh, "halo semua")
        chat.expect_sent(aceh, contains="heard: halo semua")
        region = await app.regions.get("11.08")
        assert region is not None
        assert region.name == "Kabupaten Aceh Utara"
    log = caplog.text
    assert "plugin exploding failed in guyub_on_message" in log
    assert "plugin exploding failed in guyub_on_member_joined" in log
    assert "plugin exploding failed in guyub_on_startup" in log
    assert "plugin sleepy timed out in guyub_on_message" in log
    assert "plugin sleepy timed out in guyub_resolve_region" in log
    assert "Traceback" not in "".join(s.text for s in chat.sent)


def _candidates(*infos: PluginInfo, source: str = "builtin") -> list[tuple[object, str]]:
    plugins = []
    for info in infos:
        plugins.append((type(info.name, (), {"PLUGIN": info})(), source))
    return plugins


def test_requires_chains_and_config_enable_disable() -> None:
    candidates = _candidates(
        PluginInfo("regions"),
        PluginInfo("onboarding", requires=("regions",)),
        PluginInfo("digest", requires=("onboarding",)),
        PluginInfo("polls"),
    )
    everything = {p.info.name: p for p in select(candidates, PluginSettings())}
    assert all(p.enabled for p in everything.values())

    without_regions = {
        p.info.name: p for p in select(candidates, PluginSettings(disabled=["regions"]))
    }
    assert not without_regions["regions"].enabled
    assert without_regions["regions"].reason == "disabled in config"
    assert without_regions["onboarding"].reason == "requires regions"
    assert without_regions["digest"].reason == "requires onboarding"
    assert without_regions["polls"].enabled

    only = {p.info.name: p for p in select(candidates, PluginSettings(enabled=["polls"]))}
    assert [n for n, p in only.items() if p.enabled] == ["polls"]
    assert only["regions"].reason == "not in plugins.enabled"

    # A plugin handed to the App in code is wanted whatever plugins.enabled says.
    passed = _candidates(PluginInfo("hello"), source="app")
    (hello,) = select(passed, PluginSettings(enabled=["polls"]))
    assert hello.enabled


def test_check_pending_rejects_a_misspelled_hook() -> None:
    class Typo:
        PLUGIN = PluginInfo("typo")

        @hookimpl
        def guyub_register_comands(self) -> list[Command]:
            return []

    from pluggy import PluginValidationError

    plugins = select([(Typo(), "app")], PluginSettings())
    with pytest.raises(PluginValidationError):
        Plugins(plugins)


def test_plugin_names_must_be_unique() -> None:
    with pytest.raises(ValueError, match="two plugins are named"):
        Plugins(select(_candidates(PluginInfo("x"), PluginInfo("x")), PluginSettings()))


async def test_command_name_clash_names_both_plugins() -> None:
    async def noop(ctx: Context) -> None:
        return None

    class A:
        PLUGIN = PluginInfo("alpha")

        @hookimpl
        def guyub_register_commands(self) -> list[Command]:
            return [Command("stats", noop, "x")]

    class B:
        PLUGIN = PluginInfo("beta")

        @hookimpl
        def guyub_register_commands(self) -> list[Command]:
            return [Command("statistik", noop, "x", alias="stats")]

    with pytest.raises(
        ValueError, match=r"/stats of plugin 'beta' clashes with /stats of plugin 'alpha'"
    ):
        async with make_app(plugins=[A(), B()], discover_plugins=False):
            pass


def test_settings_are_layered(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from core import load_settings

    config = tmp_path / "guyub.toml"
    config.write_text(
        'language = "en"\n[scheduler]\nbatch_size = 7\n[plugins]\ndisabled = ["polls"]\n'
    )
    monkeypatch.setenv("GUYUB_SCHEDULER__BATCH_SIZE", "9")
    settings = load_settings(config)
    assert isinstance(settings, Settings)
    assert settings.language == "en"  # file over default
    assert settings.scheduler.batch_size == 9  # environment over file
    assert settings.scheduler.poll_interval == 5.0  # default
    assert settings.plugins.disabled == ["polls"]


def test_a_token_in_a_file_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from core import SettingsError, load_settings

    config = tmp_path / "guyub.toml"
    config.write_text('[telegram]\ntoken = "123456:ABCDEF"\n')
    with pytest.raises(SettingsError, match="GUYUB_TELEGRAM__TOKEN"):
        load_settings(config)


def test_api_ranges() -> None:
    from core._plugins import api_supported

    assert api_supported("", "1.1")
    assert api_supported(">=1.0,<2", "1.1")
    assert api_supported(">=1.1", "1.1")
    assert not api_supported(">=1.2", "1.1")
    assert not api_supported("<1", "1.1")
    assert api_supported("==1.1", "1.1")
    with pytest.raises(ValueError, match="bad API range"):
        api_supported("~=1.1", "1.1")


async def test_a_plugin_for_another_api_is_refused_with_a_clear_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from core import API_VERSION, PluginError
    from core.testing import make_app

    future = _candidates(PluginInfo("future", api=">=2.0"))
    (refused,) = select(future, PluginSettings())
    assert not refused.enabled
    assert refused.reason == f"supports the plugin API >=2.0, this Guyub has {API_VERSION}"
    assert "plugin future not loaded" in caplog.text
    with pytest.raises(PluginError, match=r"supports the plugin API >=2\.0"):
        async with make_app(plugins=[future[0][0]], discover_plugins=False):
            pass
