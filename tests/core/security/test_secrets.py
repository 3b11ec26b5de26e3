"""Tokens never appear in logs or in what a chat sees, whatever the code logs or raises."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from core import Command, Context, FakeClock, PluginInfo, SettingsError, hookimpl, load_settings
from core._db import redact_url
from core._logging import SecretFilter, secret_filter, setup_logging
from core.testing import FakeChat
from core.testing import test_settings as settings_for_tests

TOKEN = "123456789:AAFakeTelegramTokenForTheSecurityTest_xyz"
DISCORD = "MTAfake.discord.token-for-the-security-test"
log = logging.getLogger("tests.security")


class Leaky:
    """A careless plugin: logs and raises the bot token the way HTTP libraries do."""

    PLUGIN = PluginInfo(name="leaky")

    @hookimpl
    def guyub_register_commands(self) -> Sequence[Command]:
        return [
            Command("leak", self.leak, "core.cmd.help"),
            Command("crash", self.crash, "core.cmd.help"),
        ]

    async def leak(self, ctx: Context) -> None:
        settings = ctx.app.settings
        token = settings.telegram.token.get_secret_value() if settings.telegram.token else ""
        log.info("GET https://api.telegram.org/bot%s/getMe", token)
        log.warning("settings: %r", settings)
        log.error(f"discord login with {DISCORD} failed")
        await ctx.reply("ok")

    async def crash(self, ctx: Context) -> None:
        raise RuntimeError(f"POST https://api.telegram.org/bot{TOKEN}/sendMessage: 502")

    @hookimpl
    async def guyub_export_member(self, member: Any) -> None:
        return None

    @hookimpl
    async def guyub_forget_member(self, member: Any) -> None:
        return None


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The real logging set-up (``setup_logging``) writing to a buffer."""
    root = logging.getLogger()
    before_handlers, before_level = list(root.handlers), root.level
    for handler in list(root.handlers):
        root.removeHandler(handler)
    stream = io.StringIO()
    setup_logging("DEBUG", secrets=[TOKEN, DISCORD])
    handler = root.handlers[-1]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    yield stream
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in before_handlers:
        root.addHandler(handler)
    root.setLevel(before_level)
    secret_filter().secrets.difference_update({TOKEN, DISCORD})


async def test_tokens_are_masked_in_every_log_line(
    make_app: Any, clock: FakeClock, captured: io.StringIO
) -> None:
    settings = settings_for_tests()
    settings = settings.model_copy(
        update={
            "telegram": settings.telegram.model_copy(update={"token": SecretStr(TOKEN)}),
            "discord": settings.discord.model_copy(update={"token": SecretStr(DISCORD)}),
        }
    )
    async with make_app(clock=clock, plugins=[Leaky()], settings=settings) as app:
        chat = FakeChat(app)
        amir = chat.user("amir")
        await amir.says("/leak")
        await amir.says("/crash")
        chat.expect_sent(amir, contains="terjadi kesalahan di pihak kami")
        for sent in chat.sent:
            assert TOKEN not in sent.full_text()
            assert "Traceback" not in sent.full_text()
            assert "502" not in sent.full_text()
    output = captured.getvalue()
    assert "getMe" in output
    assert "RuntimeError" in output  # the traceback is logged...
    assert TOKEN not in output  # ...with the token masked
    assert DISCORD not in output
    assert TOKEN.split(":")[1] not in output
    assert "***" in output


def test_settings_never_show_tokens() -> None:
    settings = settings_for_tests(telegram={"token": TOKEN})
    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings.model_dump())


def test_token_in_a_config_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "guyub.toml"
    config.write_text(f'[telegram]\ntoken = "{TOKEN}"\n', encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_settings(config)
    assert TOKEN not in str(caught.value)
    assert "GUYUB_TELEGRAM__TOKEN" in str(caught.value)


def test_database_password_is_redacted() -> None:
    assert redact_url("postgres://guyub:hunter2secret@db:5432/guyub") == (
        "postgres://guyub:***@db:5432/guyub"
    )


def test_filter_masks_arguments_and_exceptions() -> None:
    masker = SecretFilter([TOKEN])
    try:
        raise ValueError(TOKEN)
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, "f", 1, "t=%s", (TOKEN,), None)
        import sys

        record.exc_info = sys.exc_info()
    masker.filter(record)
    assert TOKEN not in record.getMessage()
    assert TOKEN not in (record.exc_text or "")


def _webhook_packages() -> list[Path]:
    root = Path(__file__).resolve().parents[3] / "adapters"
    found = []
    for package in sorted(p for p in root.iterdir() if p.is_dir()):
        source = "\n".join(f.read_text(encoding="utf-8") for f in package.rglob("*.py"))
        if "Secret-Token" in source or "webhook_secret" in source:
            found.append(package)
    return found


@pytest.mark.parametrize("package", _webhook_packages(), ids=lambda p: p.name)
def test_webhook_secret_is_compared_in_constant_time(package: Path) -> None:
    source = "\n".join(f.read_text(encoding="utf-8") for f in package.rglob("*.py"))
    assert "compare_digest" in source, (
        f"{package.name}: compare the webhook secret with hmac.compare_digest"
    )


@pytest.mark.parametrize(
    "text",
    [
        f'[telegram]\ntokn = "{TOKEN}"\n',  # the attack: a misnamed key
        f'[discord]\nbot_token = "{DISCORD}"\n',
        f'[events]\napi_key = "{DISCORD}"\n',
        f'[mystery]\nwhatever = "{TOKEN}"\n',  # a token's shape under any name
        f'[captains]\nlist = ["a", "{TOKEN}"]\n',
        '[web]\npassword = "hunter2secret"\n',
    ],
)
def test_secret_looking_keys_in_a_file_are_refused_without_echo(tmp_path: Path, text: str) -> None:
    config = tmp_path / "guyub.toml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_settings(config)
    message = str(caught.value)
    assert "looks like a secret" in message
    assert "value not shown" in message
    for secret in (TOKEN, DISCORD, "hunter2secret", TOKEN.split(":")[1]):
        assert secret not in message


def test_validation_errors_never_echo_values(tmp_path: Path) -> None:
    config = tmp_path / "guyub.toml"
    config.write_text('[telegram]\nmode = ["xK9-not-shown"]\n', encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_settings(config)
    assert "telegram.mode" in str(caught.value)
    assert "xK9-not-shown" not in str(caught.value)


def test_cli_configuration_error_does_not_print_the_token(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from core.cli import cli

    config = tmp_path / "guyub.toml"
    config.write_text(f'[telegram]\ntokn = "{TOKEN}"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["db", "migrate", "--config", str(config)])
    assert result.exit_code == 2
    assert "configuration error" in result.output
    assert TOKEN not in result.output
    assert TOKEN.split(":")[1] not in result.output


def test_database_password_is_masked_in_logs_and_printed_settings(
    captured: io.StringIO,
) -> None:
    from core._db import Database

    url = "postgres://guyub:Pg-pass-7731@db:5432/guyub"
    settings = settings_for_tests(database={"url": url})
    assert "Pg-pass-7731" in settings.secret_values()
    assert "Pg-pass-7731" not in repr(settings)
    assert "Pg-pass-7731" not in str(settings)
    Database(url, [])
    log.error("could not connect to %s", url)
    assert "Pg-pass-7731" not in captured.getvalue()
    assert "guyub:***@db" in captured.getvalue()
    secret_filter().secrets.discard("Pg-pass-7731")
