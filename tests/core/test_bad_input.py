"""Bad input gets a clear reply in the member's language, changes nothing, and no traceback
ever reaches a chat."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core import App, Command, Context, Param, ParamType, PluginInfo, clean_text, hookimpl
from core.models import AuditEntry, Member
from core.testing import FakeChat, make_app


class Echo:
    PLUGIN = PluginInfo("echo")

    async def echo(self, ctx: Context, text: str) -> None:
        await ctx.audit("echo.said", target=text[:20])
        await ctx.reply(ctx.t("echo.said", text=text))

    async def add(self, ctx: Context, a: int, b: int) -> None:
        await ctx.reply(str(a + b))

    async def crash(self, ctx: Context) -> None:
        raise KeyError("secret internals")

    async def ping(self, ctx: Context) -> None:
        await ctx.reply("pong")

    async def flag(self, ctx: Context, on: bool) -> None:
        await ctx.reply(f"flag={on}")

    async def repeat(self, ctx: Context, times: int, text: str | None = None) -> None:
        await ctx.reply(f"{times}x {text}")

    @hookimpl
    def guyub_register_commands(self) -> list[Command]:
        return [
            Command("echo", self.echo, "echo.cmd", params=(Param("text", ParamType.TEXT),)),
            Command(
                "add",
                self.add,
                "echo.cmd",
                params=(Param("a", ParamType.INT), Param("b", ParamType.INT)),
            ),
            Command("crash", self.crash, "echo.cmd"),
            Command("ping", self.ping, "echo.cmd"),
            Command("flag", self.flag, "echo.cmd", params=(Param("on", ParamType.BOOL),)),
            Command(
                "repeat",
                self.repeat,
                "echo.cmd",
                params=(
                    Param("times", ParamType.INT, required=False, default=1),
                    Param("text", ParamType.TEXT, required=False),
                ),
            ),
        ]

    @hookimpl
    def guyub_register_texts(self) -> dict[str, dict[str, str]]:
        return {
            "id": {"echo.cmd": "Ulangi", "echo.said": "Anda bilang: <b>{text}</b>"},
            "en": {"echo.cmd": "Echo", "echo.said": "You said: <b>{text}</b>"},
        }


@pytest.fixture
async def chat() -> AsyncIterator[FakeChat]:
    async with make_app(plugins=[Echo()], discover_plugins=False) as app:
        yield FakeChat(app)


async def _audit_count(app: App) -> int:
    return await AuditEntry.all().count()


async def test_unknown_command_suggests_the_nearest(chat: FakeChat) -> None:
    amir = chat.user("amir")
    await amir.says("/ehco hi")
    chat.expect_sent(amir, contains="Perintah /ehco tidak dikenal. Maksud Anda /echo?")
    english = chat.user("john", language="en")
    await english.says("/hepl")
    chat.expect_sent(english, contains="Unknown command /hepl. Did you mean /help?")


async def test_wrong_argument_types_show_the_usage_line(chat: FakeChat) -> None:
    amir = chat.user("amir")
    await amir.says("/add dua 3")
    chat.expect_sent(amir, contains="a harus berupa angka. Cara pakai: /add <a> <b>")
    await amir.says("/add 2")
    chat.expect_sent(amir, contains="b belum diisi")
    await amir.says("/add 1 2 3")
    chat.expect_sent(amir, contains="Isiannya terlalu banyak")
    await amir.says("/add 1 2")
    chat.expect_sent(amir, contains="3")


async def test_a_parameter_that_opens_a_sentence_starts_with_a_capital(chat: FakeChat) -> None:
    amir = chat.user("amir")
    await amir.says("/add dua 3")
    assert "A harus berupa angka" in chat.last(amir).text
    john = chat.user("john", language="en")
    await john.says("/add 2")
    assert "Missing b." in chat.last(john).text  # mid-sentence: as typed


async def test_a_number_may_be_typed_as_a_row_id(chat: FakeChat) -> None:
    amir = chat.user("amir")
    await amir.says("/add #2 3")
    chat.expect_sent(amir, contains="5")
    for odd in ("#-2", "##2", "#", "#2x"):
        await amir.says(f"/add {odd} 3")
        chat.expect_sent(amir, contains="harus berupa angka")


async def test_words_after_a_command_without_parameters_are_refused(chat: FakeChat) -> None:
    """Not dropped: on Telegram "/lowongan baru" (the Discord spelling of another command)
    must not silently run /lowongan."""
    amir = chat.user("amir")
    await amir.says("/ping   ")
    chat.expect_sent(amir, contains="pong")
    await amir.says("/ping baru")
    chat.expect_sent(amir, contains="Isiannya terlalu banyak. Cara pakai: /ping")
    chat.expect_not_sent(amir, contains="pong")


@pytest.mark.parametrize(
    ("typed", "value"),
    [("ya", True), ("tidak", False), ("yes", True), ("no", False), ("on", True), ("0", False)],
)
async def test_yes_and_no_in_either_language(chat: FakeChat, typed: str, value: bool) -> None:
    amir = chat.user("amir")
    await amir.says(f"/flag {typed}")
    chat.expect_sent(amir, contains=f"flag={value}")


async def test_optional_parameters_take_their_default_and_fill_from_the_left(
    chat: FakeChat,
) -> None:
    """As docs/plugins.md says: a parameter not given gets ``Param.default``; typed words
    fill parameters from the left, so an optional number before a text takes the first
    word."""
    amir = chat.user("amir")
    await amir.says("/repeat")
    chat.expect_sent(amir, contains="1x None")
    await amir.says("/repeat 3 halo semua")
    chat.expect_sent(amir, contains="3x halo semua")
    await amir.says("/repeat halo")
    chat.expect_sent(amir, contains="Times harus berupa angka")


async def test_a_100_kb_message_is_refused_and_changes_nothing(chat: FakeChat) -> None:
    amir = chat.user("amir")
    aceh = chat.group("Aceh")
    await amir.says(aceh, "/echo " + "x" * 100_000)
    chat.expect_sent(aceh, contains="Pesan terlalu panjang (maksimal 4096 karakter)")
    assert await _audit_count(chat.app) == 0
    await amir.says(aceh, "y" * 100_000)  # plain chatter: no reply, no crash
    chat.expect_nothing()


async def test_empty_and_invisible_text(chat: FakeChat) -> None:
    amir = chat.user("amir")
    aceh = chat.group("Aceh")
    await amir.says(aceh, "")
    await amir.says(aceh, "   \n ")
    chat.expect_nothing()
    await amir.says(aceh, "/\u200bhelp")  # zero-width space inside a command
    chat.expect_sent(aceh, contains="Perintah Guyub")
    await amir.says(aceh, "/echo")
    chat.expect_sent(aceh, contains="text belum diisi")


@pytest.mark.parametrize(
    "text",
    [
        "selamat pagi 🙏🇮🇩 semua 👨‍👩‍👧",
        "مرحبا بالجميع",  # right-to-left
        "a\u200bb\u200fc\u202e reversed",
        "<b>bold</b> & <script>alert(1)</script>",
        "**bold** _it_ `code` [link](http://x) ~~s~~ @everyone",
    ],
)
async def test_unusual_text_is_echoed_literally(chat: FakeChat, text: str) -> None:
    amir = chat.user("amir")
    await amir.says(f"/echo {text}")
    sent = chat.expect_sent(amir, contains="Anda bilang:")
    # invisible and bidi-control characters are dropped (they can spoof text), the rest kept
    assert sent.text == f"Anda bilang: {clean_text(text)}"
    assert "<b>Anda" not in sent.markup  # the template's markup is kept, user text escaped
    assert sent.markup.count("<b>") == 1


async def test_a_crashing_command_gets_an_apology_not_a_traceback(
    chat: FakeChat, caplog: pytest.LogCaptureFixture
) -> None:
    amir = chat.user("amir")
    await amir.says("/crash")
    sent = chat.expect_sent(amir, contains="Maaf, terjadi kesalahan")
    assert "secret internals" not in sent.text
    assert "Traceback" not in sent.text
    assert "secret internals" in caplog.text  # logged for the developers


async def test_a_member_name_with_markup_is_shown_literally(chat: FakeChat) -> None:
    odd = chat.user("<b>Amir</b> & co")
    await odd.says("/start")
    sent = chat.expect_sent(odd, contains="Halo <b>Amir</b> & co!")
    assert "&lt;b&gt;Amir&lt;/b&gt; &amp; co" in sent.markup
    assert await Member.filter(display_name="<b>Amir</b> & co").count() == 1
