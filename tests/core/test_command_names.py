"""Command names as each platform and language spell them (core/_command_names.py).

The rule: a reply never names a command the member's platform does not have. Telegram (flat)
has ``/event_new`` and ``/acara_baru``; Discord (grouped) has ``/event new`` and, localized,
``/acara baru``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable

import pytest
import pytest_asyncio

from core import (
    App,
    Command,
    CommandNames,
    CommandStyle,
    Context,
    Message,
    Param,
    ParamType,
    PluginInfo,
    Role,
    hookimpl,
)
from core._clock import FakeClock
from core._commands import CommandRegistry
from core.testing import TEST_START, FakeChat, MemoryAdapter, make_app

FLAT, GROUPED = CommandStyle.FLAT, CommandStyle.GROUPED


async def _noop(ctx: Context, **_: object) -> None:
    return None


def _registry() -> CommandRegistry:
    registry = CommandRegistry()
    registry.add(
        Command(
            "event_new",
            _noop,
            "x",
            alias="acara_baru",
            group="event",
            subname="new",
            group_alias="acara",
            subalias="baru",
            params=(
                Param("title", alias="judul"),
                Param("capacity", ParamType.INT, required=False, alias="kapasitas"),
                Param("scope", ParamType.CHOICE, required=False, choices=("one", "all")),
            ),
        ),
        "events",
    )
    registry.add(Command("help", _noop, "x", alias="bantuan"), "core")
    registry.add(
        Command(
            "region_link",
            _noop,
            "x",
            alias="tautkan_wilayah",
            params=(
                Param("region", ParamType.TEXT, alias="wilayah"),
                Param("role", ParamType.ROLE, required=False, alias="peran"),
            ),
        ),
        "regions",
    )
    return registry


@pytest.mark.parametrize(
    ("lang", "style", "spelled"),
    [
        ("id", FLAT, "/acara_baru"),
        ("en", FLAT, "/event_new"),
        ("id", GROUPED, "/acara baru"),
        ("en", GROUPED, "/event new"),
    ],
)
def test_a_command_is_spelled_per_platform_and_language(
    lang: str, style: CommandStyle, spelled: str
) -> None:
    names = CommandNames(_registry())
    assert names.name("event_new", lang, style) == spelled
    assert names.name("acara_baru", lang, style) == spelled  # the alias finds it too


def test_usage_lines_name_parameters_in_the_members_language() -> None:
    names = CommandNames(_registry())
    assert names.usage("event_new", "id", FLAT) == (
        "/acara_baru &lt;judul&gt; [kapasitas] [one|all]"
    )
    assert (
        names.usage("event_new", "en", GROUPED) == "/event new &lt;title&gt; [capacity] [one|all]"
    )


def test_a_picked_parameter_is_shown_only_where_it_can_be_picked() -> None:
    """A role is picked from Discord's list; Telegram's usage line never asks for one."""
    names = CommandNames(_registry())
    assert names.usage("region_link", "id", FLAT) == "/tautkan_wilayah &lt;wilayah&gt;"
    assert names.usage("region_link", "id", GROUPED) == "/tautkan_wilayah &lt;wilayah&gt; [peran]"


def test_texts_name_commands_through_placeholders() -> None:
    names = CommandNames(_registry())
    template = "Ketik {cmd:help}, atau {usage:event_new}. {name}"
    assert names.expand(template, "id", GROUPED) == (
        "Ketik /bantuan, atau /acara baru &lt;judul&gt; [kapasitas] [one|all]. {name}"
    )


def test_find_understands_every_spelling() -> None:
    names = CommandNames(_registry())
    for typed in ("event_new", "/acara_baru", "event new", "Acara Baru", "/acara baru"):
        found = names.find(typed)
        assert found is not None, typed
        assert found.name == "event_new", typed
    assert names.find("acara lama") is None


def test_an_unknown_platform_leaves_a_reference_the_adapter_resolves() -> None:
    from core._command_names import resolve_refs

    names = CommandNames(_registry())
    ref = names.name("event_new", "id", None)
    assert "/acara" not in resolve_refs(f"x {ref} y", FLAT).replace("/acara_baru", "")
    assert resolve_refs(f"x {ref} y", FLAT) == "x /acara_baru y"
    assert resolve_refs(f"x {ref} y", GROUPED) == "x /acara baru y"


# --- through the real core -------------------------------------------------------------------


class _Counter:
    """A tiny plugin with an Indonesian parameter name and a captain-only command."""

    PLUGIN = PluginInfo(name="counter", version="1", description="test")

    @staticmethod
    async def count(ctx: Context, number: int) -> None:
        await ctx.reply(ctx.t("counter.counted", number=number))

    @hookimpl
    def guyub_register_commands(self) -> list[Command]:
        return [
            Command(
                "count",
                self.count,
                "counter.cmd",
                alias="hitung",
                params=(Param("number", ParamType.INT, alias="jumlah"),),
            ),
            Command(
                "reset_count",
                self.count,
                "counter.cmd",
                alias="ulang_hitung",
                role=Role.CAPTAIN,
                group="counter",
                subname="reset",
                group_alias="hitungan",
                subalias="ulang",
            ),
        ]

    @hookimpl
    def guyub_register_texts(self) -> dict[str, dict[str, str]]:
        return {
            "id": {
                "counter.cmd": "Hitung",
                "counter.counted": "Terhitung {number}. Lagi: {cmd:count}",
            },
            "en": {
                "counter.cmd": "Count",
                "counter.counted": "Counted {number}. Again: {cmd:count}",
            },
        }


@pytest_asyncio.fixture
async def both() -> AsyncIterator[tuple[App, FakeChat]]:
    async with make_app(plugins=[_Counter()], clock=FakeClock(TEST_START)) as app:
        chat = FakeChat(app, [MemoryAdapter("telegram"), MemoryAdapter("discord")])
        yield app, chat


async def test_usage_errors_speak_the_members_language_and_platform(
    both: tuple[App, FakeChat],
) -> None:
    _, chat = both
    tg = chat.user("amir", platform="telegram")
    await tg.says("/hitung banyak")
    sent = chat.expect_sent(tg, contains="jumlah")
    assert "Cara pakai: /hitung <jumlah>" in sent.text
    dc = chat.user("budi", platform="discord", language="en")
    await dc.says("/count lots")
    sent = chat.expect_sent(dc, contains="number")
    assert "Usage: /count <number>" in sent.text


async def test_refusals_name_the_command_as_the_platform_has_it(
    both: tuple[App, FakeChat],
) -> None:
    _, chat = both
    tg = chat.user("amir", platform="telegram")
    await tg.says("/ulang_hitung")
    chat.expect_sent(tg, contains="perintah /ulang_hitung hanya untuk kapten")
    dc = chat.user("budi", platform="discord")
    await dc.says("/reset_count")
    chat.expect_sent(dc, contains="perintah /hitungan ulang hanya untuk kapten")


async def test_help_lists_discord_commands_as_discord_has_them(
    both: tuple[App, FakeChat],
) -> None:
    _, chat = both
    dc = chat.user("budi", platform="discord")
    await dc.says("/help")
    sent = chat.expect_sent(dc, contains="/bantuan")
    assert "/hitung —" in sent.text
    assert "(/count)" not in sent.text  # Discord shows one name per client language
    await dc.says("/help hitungan ulang")
    chat.expect_sent(dc, contains="Perintah /hitungan ulang tidak ada")  # captain-only: hidden
    await dc.says("/help count")
    chat.expect_sent(dc, contains="Cara pakai: /hitung <jumlah>")


async def test_a_text_written_before_the_platform_is_known_is_spelled_at_delivery(
    both: tuple[App, FakeChat],
) -> None:
    app, chat = both
    dc = chat.user("budi", platform="discord")
    tg = chat.user("amir", platform="telegram")
    for user in (dc, tg):
        await user.says("/start")
    text = app.translator("core.help.more", "id")  # as a job would: no platform yet
    assert "\ue000" in text  # a reference carrying both spellings
    for user in (dc, tg):
        account = await app.identity.account_for(user.ref)
        assert account is not None
        await app.send_dm(account, Message.of(text))
    assert "Ketik /bantuan NAMA" in chat.last(dc).text
    assert "Ketik /bantuan NAMA" in chat.last(tg).text
    reset = app.translator(
        "core.error.forbidden",
        "id",
        command=app.commands.get("reset_count"),
        role=app.translator("core.role_needed.captain", "id"),
    )
    for user in (dc, tg):
        account = await app.identity.account_for(user.ref)
        assert account is not None
        await app.send_dm(account, Message.of(reset))
    assert "/hitungan ulang" in chat.last(dc).text
    assert "/ulang_hitung" in chat.last(tg).text


# --- the rule, over every text and a scenario -------------------------------------------------

_MENTION = re.compile(r"(?<![\w/.:&;<])/([a-z][a-z0-9_]*)(?: ([a-z][a-z0-9_]*))?")


def bad_mentions(
    text: str, names: CommandNames, style: CommandStyle, commands: Iterable[Command]
) -> list[str]:
    """Command mentions in ``text`` that a member of a ``style`` platform cannot type."""
    commands = list(commands)
    valid = names.spellings(style, commands)
    groups = {n for c in commands if c.group for n in (c.group, c.group_alias) if n}
    bad = []
    for match in _MENTION.finditer(text):
        first, second = match.groups()
        grouped = style is GROUPED and first in groups
        spelled = f"/{first} {second}" if grouped else f"/{first}"
        if spelled not in valid:
            bad.append(spelled)
    return bad


async def test_no_text_names_a_command_its_platform_does_not_have(app: App) -> None:
    names = app.command_names
    commands = app.commands.all()
    placeholders = re.compile(r"\{cmd:([a-z0-9_]+)\}|\{usage:([a-z0-9_]+)\}")
    problems: list[str] = []
    for lang in ("id", "en"):
        for key in sorted(app.translator.keys(lang)):
            template = app.translator.template(key, lang)
            for match in placeholders.finditer(template):
                name = match.group(1) or match.group(2)
                if app.commands.get(name) is None:
                    problems.append(f"{lang} {key}: unknown command {name!r}")
            for style in CommandStyle:
                text = names.expand(template, lang, style)
                problems.extend(
                    f"{lang} {key} ({style}): {bad}"
                    for bad in bad_mentions(text, names, style, commands)
                )
    assert not problems, "\n".join(problems)


async def test_no_reply_names_a_command_the_members_platform_lacks(app: App) -> None:
    chat = FakeChat(app, [MemoryAdapter("telegram"), MemoryAdapter("discord")])
    script = ["/start", "/help", "/bantuan acara", "/acara_baru", "/polling_baru", "/hapusdata"]
    script += ["/bahasa xx", "/bantua", "/daftar_wilayah"]
    for platform in ("telegram", "discord"):
        for lang in ("id", "en"):
            user = chat.user(f"u-{lang}", platform=platform, language=lang)
            group = chat.group(f"G {platform}", platform=platform)
            for line in script:
                await user.says(line)
                await user.says(group, line)
    for sent in chat.sent:
        style = chat.adapter(sent.chat.platform).command_style
        assert "\ue000" not in sent.markup, sent.text
        bad = [
            b
            for b in bad_mentions(sent.text, app.command_names, style, app.commands.all())
            if b not in ("/bahasa", "/bantua")  # echoes of what the member typed
        ]
        assert not bad, f"{sent.chat.platform}: {bad} in {sent.text!r}"


def test_the_checker_catches_a_name_typed_by_hand() -> None:
    registry = _registry()
    names = CommandNames(registry)
    assert bad_mentions("Ketik /acara_baru", names, GROUPED, registry.all()) == ["/acara_baru"]
    assert bad_mentions("Ketik /acara baru", names, FLAT, registry.all()) == ["/acara"]
    assert bad_mentions("Ketik /acara baru, kabupaten/kota", names, GROUPED, registry.all()) == []


def test_a_group_has_one_indonesian_name() -> None:
    registry = _registry()
    with pytest.raises(ValueError, match="command group 'event' is called 'acara'"):
        registry.add(
            Command(
                "event_edit", _noop, "x", group="event", subname="edit", group_alias="kegiatan"
            ),
            "events",
        )


async def test_every_builtin_parameter_and_group_has_an_indonesian_name(app: App) -> None:
    builtin = [
        c for c in app.commands.all() if c.handler.__module__.startswith(("core.", "plugins."))
    ]
    missing = [f"/{c.name} {p.name}" for c in builtin for p in c.params if not p.alias]
    missing += [
        f"/{c.name} (group)" for c in builtin if c.group and not (c.group_alias and c.subalias)
    ]
    assert len(builtin) > 30
    assert not missing, f"usage lines would show English names to Indonesian members: {missing}"


async def test_plain_text_outside_a_chat_reads_the_flat_spelling(app: App) -> None:
    from core import to_plain

    text = app.translator("core.help.more", "id")  # no platform: a reference inside
    assert to_plain(text) == "Ketik /bantuan NAMA untuk penjelasan satu perintah."


def test_a_translator_outside_an_app_names_commands_plainly() -> None:
    from core import Translator

    translator = Translator()
    translator.add({"id": {"k": "Ketik {cmd:help} atau {usage:event_new}, {name}."}})
    assert translator("k", "id", name="Amir") == "Ketik /help atau /event_new, Amir."


async def test_any_adapter_method_taking_an_outgoing_gets_resolved_text() -> None:
    from core import ChatRef, Markup, Outgoing
    from core.testing import MemoryAdapter

    class Batching(MemoryAdapter):
        async def send_batch(self, chats: list[ChatRef], message: Outgoing) -> str:
            return str(message.text)

    names = CommandNames(_registry())
    reference = names.name("event_new", "id", None)
    adapter = Batching("discord")
    assert await adapter.send_batch([], Outgoing(Markup(f"Ketik {reference}"))) == (
        "Ketik /acara baru"
    )
