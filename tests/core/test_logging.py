"""Logs as an operator reads them: one JSON line per event, a correlation id per update
that follows it into the outbox, and never a platform id, a name or a message text, even
when a plugin logs them carelessly; tokens masked."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from core import (
    Command,
    Context,
    Message,
    MessageReceived,
    PluginInfo,
    Recipient,
    hookimpl,
)
from core._logging import secret_filter, setup_logging
from core.testing import FakeChat

TOKEN = "7700112233:AAH-secret-token-value"
careless = logging.getLogger("plugins.careless")


class Careless:
    """Logs what it should not, and broadcasts."""

    PLUGIN = PluginInfo("careless")

    async def announce(self, ctx: Context) -> None:
        await ctx.app.outbox.enqueue(
            "announce", Message.of("Pengumuman"), [Recipient("fake", f"r{i}") for i in range(2)]
        )
        await ctx.reply("ok")

    @hookimpl
    def guyub_register_commands(self) -> list[Command]:
        return [Command("announce", self.announce, "careless.d")]

    @hookimpl
    async def guyub_on_message(self, ctx: Context, event: MessageReceived) -> None:
        careless.warning(
            "%s (%s) said %r; token %s", event.user.display_name, event.user.ref, event.text, TOKEN
        )

    @hookimpl
    async def guyub_export_member(self, member: Any) -> None:
        return None

    @hookimpl
    async def guyub_forget_member(self, member: Any) -> None:
        return None


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    before_handlers, before_level = list(root.handlers), root.level
    for handler in list(root.handlers):
        root.removeHandler(handler)
    stream = io.StringIO()
    setup_logging("INFO", secrets=[TOKEN], format="json", worker="w1")
    handler = root.handlers[-1]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    logging.getLogger("core.outbox").setLevel(logging.DEBUG)
    yield stream
    logging.getLogger("core.outbox").setLevel(logging.NOTSET)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in before_handlers:
        root.addHandler(handler)
    root.setLevel(before_level)
    secret_filter().secrets.discard(TOKEN)


async def test_json_lines_carry_correlation_ids_and_no_platform_strings(make_app, json_log):
    async with make_app(plugins=[Careless()]) as app:
        chat = FakeChat(app)
        amir = chat.user("Amirullah Pratama", username="amirullah_lhok")
        siti = chat.user("Sitinurhaliza")
        group = chat.group("Alumni Aceh Utara")
        await amir.joins(group)
        await amir.says("/start")
        await amir.says("/help")
        await amir.says(group, "halo semua dari Lhokseumawe")
        await siti.says(group, "selamat pagi kawan kawan")
        await amir.says("/announce")
        await amir.says("/tidak_ada_perintah_ini")
        updates = 7

    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    handled = [line for line in lines if line["msg"] == "update handled"]
    assert len(handled) == updates
    assert len({line["cid"] for line in handled}) == updates
    assert all(line["worker"] == "w1" and line["platform"] == "fake" for line in handled)
    assert {line["event"] for line in handled} == {
        "MemberJoined",
        "CommandInvoked",
        "MessageReceived",
    }
    assert all(line["member"].startswith("m") for line in handled)
    assert [line["outcome"] for line in handled if line.get("command") == "help"] == ["ok"]
    unknown = [line for line in handled if line["outcome"] == "unknown_command"]
    assert len(unknown) == 1
    assert "command" not in unknown[0]

    # The careless plugin's line is there, under its update's id, with everything masked.
    said = [line for line in lines if line["logger"] == "plugins.careless"]
    assert len(said) == 2
    assert all(line["cid"] in {h["cid"] for h in handled} for line in said)
    assert "<redacted>" in said[0]["msg"]
    assert "***" in said[0]["msg"]

    # The broadcast's deliveries carry the id of the update that asked for it.
    announce = next(line for line in handled if line.get("command") == "announce")
    deliveries = [line for line in lines if line.get("result") and "batch" in line]
    assert len(deliveries) == 2
    assert {line["cid"] for line in deliveries} == {announce["cid"]}
    assert {line["event"] for line in deliveries} == {"delivery"}

    text = json_log.getvalue()
    for private in [
        "amirullah_pratama",
        "Amirullah Pratama",
        "amirullah_lhok",
        "sitinurhaliza",
        "Sitinurhaliza",
        "Lhokseumawe",
        "selamat pagi kawan",
        "dm-amirullah",
        TOKEN,
        "tidak_ada_perintah_ini",
    ]:
        assert private not in text, private


async def test_text_format_shows_the_correlation_id(make_app, json_log):
    setup_logging("INFO", format="text")
    async with make_app(discover_plugins=False) as app:
        await FakeChat(app).user("amir").says("/help")
    line = next(
        line for line in json_log.getvalue().splitlines() if line.endswith("update handled")
    )
    assert " INFO core._app [" in line
    cid, member = line.split("[", 1)[1].split("]", 1)[0].split()
    assert len(cid) == 16
    assert member.startswith("m")
