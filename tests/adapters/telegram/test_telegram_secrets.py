"""The bot token never reaches a log line, not even the URLs httpx and PTB log."""

from __future__ import annotations

import logging

import pytest
from telegram_kit import Probe, running, text_message

from adapters.telegram import create
from adapters.telegram.testing import TOKEN, FakeBotApi
from core import Capability
from core.testing import test_settings as settings_for


async def test_token_is_masked_in_http_logs(
    api: FakeBotApi, probe: Probe, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")  # setup_logging quietens it elsewhere
    async with running(api, probe):
        api.push_update({"message": text_message("/ping")})
        await api.wait_for("sendMessage")
    requests = [r for r in caplog.records if r.name == "httpx"]
    assert requests, "httpx logged no request"
    assert any("/bot***/getMe" in r.getMessage() for r in requests)
    assert TOKEN not in caplog.text
    secret_part = TOKEN.split(":", 1)[1]
    assert all(secret_part not in r.getMessage() for r in caplog.records)


def test_create_needs_a_token() -> None:
    assert create(settings_for()) is None
    adapter = create(settings_for(telegram={"token": TOKEN}))
    assert adapter is not None
    assert adapter.platform == "telegram"
    assert adapter.application.bot.base_url == f"https://api.telegram.org/bot{TOKEN}"


def test_self_hosted_bot_api_server_urls() -> None:
    adapter = create(
        settings_for(telegram={"token": TOKEN, "api_base_url": "http://127.0.0.1:8081/"})
    )
    assert adapter is not None
    assert adapter.application.bot.base_url == f"http://127.0.0.1:8081/bot{TOKEN}"
    assert adapter.application.bot.base_file_url == f"http://127.0.0.1:8081/file/bot{TOKEN}"


def test_capabilities_are_honest() -> None:
    adapter = create(settings_for(telegram={"token": TOKEN}))
    assert adapter is not None
    assert adapter.supports(Capability.NATIVE_POLLS)
    assert adapter.supports(Capability.EDIT_MESSAGES)
    assert not adapter.supports(Capability.MODALS)
    assert not adapter.supports(Capability.DM_WITHOUT_START)
    assert not adapter.supports(Capability.SCHEDULED_EVENTS)
