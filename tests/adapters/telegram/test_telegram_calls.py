"""The call wrapper's retry rules against the loopback Bot API: a send whose answer comes
after the read timeout, or a 5xx, is ``unknown`` and never sent again; idempotent calls
and requests that never left the machine are retried."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from telegram.error import NetworkError
from telegram.request import HTTPXRequest
from telegram_kit import GROUP, Probe, eventually_async, stopped, text_message

from adapters.telegram import Caller, TelegramAdapter
from adapters.telegram.testing import TOKEN, FakeBotApi
from core import (
    App,
    ChatKind,
    ChatRef,
    Clock,
    Delivery,
    DeliveryError,
    DeliveryStatus,
    DeliveryUnknown,
    Markup,
    Message,
    MessageRef,
    Recipient,
    SystemClock,
)
from core.testing import make_app, test_settings

CHAT = ChatRef("telegram", str(GROUP), ChatKind.GROUP)
READ_TIMEOUT = 0.3


@asynccontextmanager
async def slow_running(
    api: FakeBotApi, probe: Probe, *, max_wait: float = 5.0, clock: Clock | None = None
) -> AsyncIterator[App]:
    """The App with a Telegram adapter whose read timeout is short."""
    settings = test_settings(
        telegram={"token": TOKEN, "api_base_url": api.root}, outbox={"poll_interval": 0.2}
    )
    adapter = TelegramAdapter(
        settings,
        caller=Caller(backoff=0.01, max_backoff=0.05, max_wait=max_wait),
        retry_delay=0.05,
        poll_timeout=1,
        read_timeout=READ_TIMEOUT,
    )
    async with make_app(
        plugins=[probe], discover_plugins=False, adapters=[adapter], settings=settings, clock=clock
    ) as app:
        task = asyncio.create_task(app.run(install_signal_handlers=False))
        try:
            await api.wait_for("getUpdates")
            yield app
        finally:
            app.request_stop()
            await stopped(task)


def sends_to(api: FakeBotApi, chat_id: int) -> int:
    return len(
        [c for c in api.calls if c.method == "sendMessage" and c.params["chat_id"] == chat_id]
    )


async def test_answer_after_the_read_timeout_is_unknown_and_not_sent_again(
    api: FakeBotApi, probe: Probe
) -> None:
    api.slow("sendMessage", READ_TIMEOUT * 5)
    async with slow_running(api, probe) as app:
        with pytest.raises(DeliveryUnknown) as raised:
            await app.send(CHAT, Message.of("halo"))
        # Longer than the slow answer and every backoff: a retry would have shown by now.
        await asyncio.sleep(READ_TIMEOUT * 6)
    assert raised.value.permanent
    assert sends_to(api, GROUP) == 1


async def test_broadcast_row_with_a_late_answer_is_reported_unknown_once(
    api: FakeBotApi, probe: Probe
) -> None:
    api.slow("sendMessage", READ_TIMEOUT * 5)
    users = [5550101, 5550102, 5550103]
    async with slow_running(api, probe) as app:
        batch = await app.outbox.enqueue(
            "test", Message.of("Siaran"), [Recipient("telegram", str(u)) for u in users]
        )

        async def finished() -> bool:
            report = await app.outbox.report(batch.id)
            return report.remaining == 0 and report.status == "done"

        await eventually_async(finished, within=20)
        await asyncio.sleep(READ_TIMEOUT * 6)
        await app.outbox.run_due()
        report = await app.outbox.report(batch.id)
    # Every recipient got it exactly once, the late one included ...
    assert [sends_to(api, u) for u in users] == [1, 1, 1]
    # ... and the captain is told the truth: two confirmed, one uncertain, none failed.
    assert (report.sent, report.unknown, report.failed) == (2, 1, 0)


async def test_server_error_on_a_send_is_unknown_but_edits_are_retried(
    api: FakeBotApi, probe: Probe
) -> None:
    async with slow_running(api, probe) as app:
        ref = await app.send(CHAT, Message.of("Hasil: 1"))
        api.fail("sendMessage", status=502, description="Bad Gateway", times=3)
        with pytest.raises(DeliveryUnknown):
            await app.send(CHAT, Message.of("halo"))
        api.fail("editMessageText", status=502, description="Bad Gateway", times=2)
        await app.edit(ref, Message(Markup("Hasil: 2")))
    assert sends_to(api, GROUP) == 2  # the first message, and one try of the second
    assert len([c for c in api.calls if c.method == "editMessageText"]) == 3
    assert len(api.called("editMessageText")) == 1


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_send_that_could_not_connect_is_retried_not_unknown() -> None:
    request = HTTPXRequest(connect_timeout=1.0)
    await request.initialize()
    tries = 0
    url = f"http://127.0.0.1:{closed_port()}/botTOKEN/sendMessage"

    async def send() -> bytes:
        nonlocal tries
        tries += 1
        return await request.post(url)  # type: ignore[no-any-return]

    try:
        with pytest.raises(NetworkError) as raised:
            await Caller(attempts=3, backoff=0.01)("chat:1", send)
    finally:
        await request.shutdown()
    assert tries == 3
    assert not isinstance(raised.value, DeliveryError)


async def test_a_reply_held_back_by_retry_after_is_delivered_after_the_wait(
    api: FakeBotApi, probe: Probe
) -> None:
    # Longer than the adapter sits out itself (max_wait): the delivery layer takes over.
    api.fail("sendMessage", status=429, description="Too Many Requests", retry_after=2)
    async with slow_running(api, probe, max_wait=0.5, clock=SystemClock()) as app:
        ref = await app.send(CHAT, Message.of("halo"))
        assert ref.id == ""
        delivered = await api.wait_for("sendMessage", within=20)
    refused = next(c for c in api.calls if c.status == 429)
    assert delivered.params["text"] == "halo"
    assert delivered.at - refused.at >= 2.0
    assert len(api.called("sendMessage")) == 1


async def test_a_reply_held_back_keeps_its_forum_topic_and_the_message_it_answers(
    api: FakeBotApi, probe: Probe
) -> None:
    api.fail("sendMessage", status=429, description="Too Many Requests", retry_after=2)
    topic = ChatRef("telegram", str(GROUP), ChatKind.GROUP, thread="7")
    asked = MessageRef(topic, "42")
    async with slow_running(api, probe, max_wait=0.5, clock=SystemClock()) as app:
        ref = await app.send(topic, Message.of("halo"), reply_to=asked)
        assert ref.id == ""
        delivered = await api.wait_for("sendMessage", within=20)
    refused = next(c for c in api.calls if c.status == 429)
    assert delivered.at - refused.at >= 2.0
    for call in (refused, delivered):
        assert str(call.params["message_thread_id"]) == "7"
        assert "42" in str(call.params["reply_parameters"])
    assert len(api.called("sendMessage")) == 1


@pytest.mark.slow
async def test_a_reply_refused_with_retry_after_25_is_delivered_after_the_wait(
    api: FakeBotApi, probe: Probe
) -> None:
    # Telegram holds the group back for 25 s, far longer than the adapter sits out itself:
    # the reply to /ping is stored and sent when the wait is over, once, with no apology
    # into the held-back group. Real time: the adapter keeps Telegram's wait on the event
    # loop's clock, as Telegram does (the delivery layer's part, on a moved clock, is
    # tests/core/outbox/test_interactive.py).
    api.fail("sendMessage", status=429, description="Too Many Requests", retry_after=25)
    async with slow_running(api, probe, clock=SystemClock()):
        api.push_update({"message": text_message("/ping")})
        delivered = await api.wait_for("sendMessage", within=60)
        # The stored reply is recorded sent (nothing left to send again).
        await eventually_async(
            lambda: Delivery.filter(status=DeliveryStatus.SENT).exists(), within=20
        )
        assert not await Delivery.filter(status__in=DeliveryStatus.OPEN).exists()
    refused = next(c for c in api.calls if c.status == 429)
    assert delivered.params["text"] == "Pong, <b>Amir</b>!"
    assert delivered.params["chat_id"] == GROUP
    assert delivered.at - refused.at >= 25.0
    assert [c.status for c in api.calls if c.method == "sendMessage"] == [429, 200]
