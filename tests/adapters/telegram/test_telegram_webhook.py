"""Webhook mode: an aiohttp endpoint in the App's loop, the secret header checked in constant
time, each update handled once however often it is delivered."""

from __future__ import annotations

import aiohttp
import pytest
from telegram_kit import GROUP, Probe, eventually, running, text_message

from adapters.telegram import ALLOWED_UPDATES, TelegramAdapter
from adapters.telegram.testing import TOKEN, FakeBotApi
from core import MessageReceived
from core.testing import test_settings as settings_for

SECRET = "s3cret-Token_for-tests"
WEBHOOK = {
    "mode": "webhook",
    "webhook_url": "https://bot.example.org/telegram/hook",
    "webhook_secret": SECRET,
    "webhook_listen": "127.0.0.1",
    "webhook_port": 0,
}


def _url(adapter: TelegramAdapter) -> str:
    assert adapter.webhook is not None
    return f"http://127.0.0.1:{adapter.webhook.port}/telegram/hook"


async def test_webhook_is_set_with_secret_and_update_kinds(api: FakeBotApi, probe: Probe) -> None:
    async with running(api, probe, **WEBHOOK):
        call = await api.wait_for("setWebhook")
    assert call.params["url"] == "https://bot.example.org/telegram/hook"
    assert call.params["secret_token"] == SECRET
    assert set(call.params["allowed_updates"]) == set(ALLOWED_UPDATES)
    assert not api.called("getUpdates")


async def test_request_without_the_secret_is_rejected_and_never_processed(
    api: FakeBotApi, probe: Probe
) -> None:
    update = {"update_id": 900, "message": text_message("/ping")}
    async with running(api, probe, **WEBHOOK) as (_, adapter), aiohttp.ClientSession() as http:
        async with http.post(_url(adapter), json=update) as missing:
            assert missing.status == 403
        wrong = {"X-Telegram-Bot-Api-Secret-Token": SECRET + "x"}
        async with http.post(_url(adapter), json=update, headers=wrong) as bad:
            assert bad.status == 403
        right = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        said = {"update_id": 901, "message": text_message("halo", message_id=11)}
        async with http.post(_url(adapter), json=said, headers=right) as good:
            assert good.status == 200
        await eventually(lambda: probe.seen(MessageReceived))
    assert not api.called("sendMessage")  # the /ping without the secret never ran


async def test_same_update_delivered_twice_is_processed_once(api: FakeBotApi, probe: Probe) -> None:
    update = {"update_id": 902, "message": text_message("/ping")}
    right = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with running(api, probe, **WEBHOOK) as (_, adapter), aiohttp.ClientSession() as http:
        for _ in range(2):
            async with http.post(_url(adapter), json=update, headers=right) as response:
                assert response.status == 200
        await api.wait_for("sendMessage")
        # A later update proves the duplicate was looked at (updates of one chat run in order).
        later = {"update_id": 903, "message": text_message("halo", message_id=12)}
        async with http.post(_url(adapter), json=later, headers=right) as response:
            assert response.status == 200
        await eventually(lambda: probe.seen(MessageReceived))
    assert len(api.called("sendMessage")) == 1
    assert api.called("sendMessage")[0].params["chat_id"] == GROUP


async def test_update_that_cannot_be_read_is_dropped_not_retried(
    api: FakeBotApi, probe: Probe
) -> None:
    right = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    unreadable = {"update_id": 904, "poll_answer": {"poll_id": "1", "option_ids": [0]}}
    async with running(api, probe, **WEBHOOK) as (_, adapter), aiohttp.ClientSession() as http:
        response = await http.post(_url(adapter), json=unreadable, headers=right)
        assert response.status == 200
        response.release()
        later = {"update_id": 905, "message": text_message("halo", message_id=12)}
        response = await http.post(_url(adapter), json=later, headers=right)
        response.release()
        await eventually(lambda: probe.seen(MessageReceived))


async def test_malformed_body_is_a_bad_request(api: FakeBotApi, probe: Probe) -> None:
    right = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with running(api, probe, **WEBHOOK) as (_, adapter), aiohttp.ClientSession() as http:
        response = await http.post(_url(adapter), data=b"{nope", headers=right)
        assert response.status == 400
        response.release()


def test_webhook_mode_needs_a_secret() -> None:
    settings = settings_for(
        telegram={"token": TOKEN, "mode": "webhook", "webhook_url": "https://x.example/hook"}
    )
    with pytest.raises(ValueError, match="WEBHOOK_SECRET"):
        TelegramAdapter(settings)


async def test_probes_and_metrics_are_served_beside_the_webhook(
    api: FakeBotApi, probe: Probe
) -> None:
    """A load balancer in front of webhook workers asks each one /readyz; Prometheus
    scrapes /metrics on the same port."""
    right = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    said = {"update_id": 950, "message": text_message("halo", message_id=12)}
    async with running(api, probe, **WEBHOOK) as (_, adapter), aiohttp.ClientSession() as http:
        base = f"http://127.0.0.1:{adapter.webhook.port}"  # type: ignore[union-attr]
        async with http.post(_url(adapter), json=said, headers=right) as good:
            assert good.status == 200
        await eventually(lambda: probe.seen(MessageReceived))
        async with http.get(f"{base}/healthz") as health:
            assert health.status == 200
        async with http.get(f"{base}/readyz") as ready:
            body = await ready.json()
            assert ready.status == 200, body
            assert body["checks"]["adapter:telegram"] == "ok"
        async with http.get(f"{base}/metrics") as metrics:
            text = await metrics.text()
    assert 'guyub_updates_received_total{platform="telegram",type="MessageReceived",worker=' in text


async def test_stop_receiving_closes_the_webhook_for_a_graceful_stop(
    api: FakeBotApi, probe: Probe
) -> None:
    """On SIGTERM the worker refuses new webhook posts (the proxy tries another worker)."""
    async with running(api, probe, **WEBHOOK) as (_, adapter), aiohttp.ClientSession() as http:
        url = _url(adapter)
        await adapter.stop_receiving()
        assert adapter.health() == "webhook server not listening"
        with pytest.raises(aiohttp.ClientConnectionError):
            async with http.post(url, json={"update_id": 960}):
                pass


async def test_webhook_shares_the_apps_web_server_on_the_same_address(
    api: FakeBotApi, probe: Probe
) -> None:
    import asyncio
    import socket

    from aiohttp import web
    from telegram_kit import fast_adapter

    from core.testing import make_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = settings_for(
        telegram={"token": TOKEN, "api_base_url": api.root, **WEBHOOK, "webhook_port": port},
        web={"listen": f"127.0.0.1:{port}"},
    )
    adapter = fast_adapter(settings)
    assert adapter.shares_web

    async def page(request: web.Request) -> web.Response:
        return web.Response(text="dasbor")

    async with make_app(
        plugins=[probe], discover_plugins=False, adapters=[adapter], settings=settings
    ) as app:
        app.web.add_get("/probe", page)
        task = asyncio.create_task(app.run(install_signal_handlers=False, web=True))
        try:
            await api.wait_for("setWebhook")
            assert adapter.webhook is None  # no second server
            right = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            update = {"update_id": 950, "message": text_message("/ping")}
            base = f"http://127.0.0.1:{port}"
            async with aiohttp.ClientSession() as http:
                async with http.post(f"{base}/telegram/hook", json=update) as missing:
                    assert missing.status == 403
                async with http.post(
                    f"{base}/telegram/hook", json=update, headers=right
                ) as response:
                    assert response.status == 200
                async with http.get(f"{base}/probe") as response:
                    assert await response.text() == "dasbor"
                # The probes ride on the same shared server.
                async with http.get(f"{base}/readyz") as response:
                    body = await response.json()
                    assert response.status == 200, body
                    assert body["checks"]["adapter:telegram"] == "ok"
                async with http.get(f"{base}/metrics") as response:
                    assert "guyub_updates_received_total" in await response.text()
            await api.wait_for("sendMessage")
        finally:
            app.request_stop()
            await task
