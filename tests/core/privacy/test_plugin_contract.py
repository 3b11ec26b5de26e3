"""Every plugin keeps the privacy contract: it can export and forget a member's data.
``guyub plugins`` reports the plugins that can't, and this meta-test fails on them."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from core import App, PluginInfo, hookimpl
from core._plugins import PRIVACY_HOOKS, LoadedPlugin, missing_privacy_hooks
from core.cli import cli, privacy_state
from core.testing import test_settings as settings_for_tests


def _installed() -> list[LoadedPlugin]:
    return [
        p for p in App(settings_for_tests()).loaded_plugins() if p.enabled and p.source != "core"
    ]


@pytest.mark.parametrize("plugin", _installed(), ids=lambda p: p.info.name)
def test_every_enabled_plugin_exports_and_forgets(plugin: LoadedPlugin) -> None:
    assert missing_privacy_hooks(plugin.obj) == [], (
        f"plugin {plugin.info.name} must implement {', '.join(PRIVACY_HOOKS)}"
    )


def test_core_plugins_are_the_core() -> None:
    core = [p.info.name for p in App(settings_for_tests()).loaded_plugins() if p.source == "core"]
    assert core == ["core", "privacy", "outbox", "dashboard"]


class Careless:
    PLUGIN = PluginInfo(name="careless")

    @hookimpl
    async def guyub_export_member(self, member: Any) -> None:
        return None


class Careful(Careless):
    PLUGIN = PluginInfo(name="careful")

    @hookimpl
    async def guyub_forget_member(self, member: Any) -> None:
        return None


def test_privacy_column_names_what_is_missing() -> None:
    assert privacy_state(LoadedPlugin(Careless.PLUGIN, Careless(), "app", True)) == (
        "MISSING forget"
    )
    assert privacy_state(LoadedPlugin(PluginInfo("x"), object(), "app", True)) == (
        "MISSING export,forget"
    )
    assert privacy_state(LoadedPlugin(Careful.PLUGIN, Careful(), "app", True)) == "ok"


def test_guyub_plugins_prints_the_privacy_column() -> None:
    result = CliRunner().invoke(cli, ["plugins"])
    assert result.exit_code == 0, result.output
    header, *rows = result.output.splitlines()
    assert header.split() == ["NAME", "VERSION", "SOURCE", "PRIVACY", "ENABLED"]
    assert any(row.split()[:4] == ["privacy", "0.1.0", "core", "core"] for row in rows)
