"""Plugin settings from the environment, as README promises: ``GUYUB_<PLUGIN>__<KEY>``."""

from __future__ import annotations

import pytest

from core import SettingsError, load_settings


def test_environment_overrides_a_plugin_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUYUB_CAPTAINS__AUTO_MUTE_MINUTES", "30")
    monkeypatch.setenv("GUYUB_POLLS__TEMPLATES__DEMO", '{"question": "Q"}')
    monkeypatch.setenv("GUYUB_EVENTS__DEFAULT_REMINDERS", "[60, 15]")
    settings = load_settings()
    captains = settings.section("captains")
    assert captains["auto_mute_minutes"] == "30"  # the plugin's model makes it an int
    assert captains["warnings_before_mute"] == 3  # the rest still comes from the files
    assert settings.section("polls")["templates"]["demo"] == {"question": "Q"}
    assert settings.section("events")["default_reminders"] == [60, 15]


def test_bad_json_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUYUB_EVENTS__DEFAULT_REMINDERS", "[60, ")
    with pytest.raises(SettingsError, match="not valid JSON"):
        load_settings().section("events")


async def test_the_plugin_sees_the_value_typed(
    monkeypatch: pytest.MonkeyPatch,
    make_app,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv("GUYUB_CAPTAINS__AUTO_MUTE_MINUTES", "30")
    monkeypatch.setenv("GUYUB_EVENTS__CARD_REFRESH_SECONDS", "7")
    async with make_app() as app:
        assert app.plugin_settings("captains").auto_mute_minutes == 30
        assert app.plugin_settings("events").card_refresh_seconds == 7.0
