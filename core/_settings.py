"""Settings: ``config/default.toml`` < ``guyub.toml`` (or ``--config``) < ``GUYUB_*`` environment.

Tokens are secrets: they come from the environment only and are never logged.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

__all__ = [
    "DatabaseSettings",
    "DiscordSettings",
    "OutboxSettings",
    "PluginSettings",
    "SchedulerSettings",
    "Settings",
    "SettingsError",
    "TelegramSettings",
    "load_settings",
]

#: The shipped defaults, documented line by line.
DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "config" / "default.toml"
SECRET_KEYS = ("token", "webhook_secret")


class SettingsError(ValueError):
    """The configuration is wrong; the message says how to fix it."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatabaseSettings(_Section):
    url: str = "sqlite://data/guyub.sqlite3"


class TelegramSettings(_Section):
    token: SecretStr | None = None
    api_base_url: str = "https://api.telegram.org"
    mode: str = "polling"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    bot_username: str | None = None


class DiscordSettings(_Section):
    token: SecretStr | None = None
    guild_ids: list[int] = Field(default_factory=list)
    shard_count: int | None = Field(default=None, ge=1)
    shard_ids: list[int] | None = None
    message_content: bool = False
    #: Leave a guild the bot is added to but does not serve (see docs/discord.md).
    leave_other_guilds: bool = True
    #: Where each guild's joins are welcomed: channel ids, one per guild (the others use
    #: the server's system channel).
    welcome_channel_ids: list[int] = Field(default_factory=list)
    #: Where each guild's moderation (warn, mute, kick, ban: who, whom, why) is logged.
    mod_log_channel_ids: list[int] = Field(default_factory=list)

    @field_validator("shard_ids")
    @classmethod
    def _shards_fit(cls, shard_ids: list[int] | None, info: ValidationInfo) -> list[int] | None:
        # A field validator (not the model's): its error shows only this value, never the
        # token next to it.
        if shard_ids is None:
            return None
        count = info.data.get("shard_count")
        if count is None:
            raise ValueError(
                "discord.shard_ids needs discord.shard_count: the total number of shards "
                "across every process (e.g. shard_count = 4 with shard_ids = [0, 1] here "
                "and [2, 3] in the other process)"
            )
        if not shard_ids or any(not 0 <= i < count for i in shard_ids):
            raise ValueError(
                f"discord.shard_ids must be shards 0 to {count - 1} (discord.shard_count = {count})"
            )
        return shard_ids


class PluginSettings(_Section):
    enabled: list[str] = Field(default_factory=lambda: ["*"])
    disabled: list[str] = Field(default_factory=list)
    hook_timeout: float = 10.0


class SchedulerSettings(_Section):
    poll_interval: float = 5.0
    batch_size: int = 50
    lease_seconds: float = 300.0
    retry_base_seconds: float = 30.0
    retry_max_seconds: float = 3600.0
    max_attempts: int = 5


class OutboxSettings(_Section):
    poll_interval: float = 2.0
    chunk_size: int = 100
    concurrency: int = 8
    lease_seconds: float = 120.0
    send_timeout: float = 60.0
    max_attempts: int = 5
    retry_base_seconds: float = 30.0
    retry_max_seconds: float = 3600.0
    inline_wait_seconds: float = 10.0
    progress_every_seconds: float = 5.0
    rate_limits: dict[str, dict[str, float]] = Field(default_factory=dict)


class LimitSettings(_Section):
    max_message_chars: int = 4096
    #: Commands one member may send per minute (0: no limit), counted in the database.
    commands_per_minute: int = Field(default=20, ge=0)


class Settings(BaseSettings):
    """Every setting Guyub has. Plugin sections (``[events]``, ...) are kept as extra
    fields and validated by each plugin's own model."""

    model_config = SettingsConfigDict(
        env_prefix="GUYUB_",
        env_nested_delimiter="__",
        extra="allow",
        case_sensitive=False,
    )

    config_files: ClassVar[tuple[Path, ...]] = ()

    language: str = "id"
    admins: list[str] = Field(default_factory=list)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    discord: DiscordSettings = Field(default_factory=DiscordSettings)
    plugins: PluginSettings = Field(default_factory=PluginSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in ("id", "en"):
            raise ValueError("language must be 'id' or 'en'")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlFiles(settings_cls, cls.config_files))

    def section(self, name: str) -> dict[str, Any]:
        """A plugin's raw settings table (``[name]`` in TOML, ``GUYUB_NAME__KEY``)."""
        extra = self.model_extra or {}
        value = extra.get(name.lower(), {})
        return dict(value) if isinstance(value, dict) else {}


class _TomlFiles(PydanticBaseSettingsSource):
    """Merges TOML files, later files winning, refusing secrets in files."""

    def __init__(self, settings_cls: type[BaseSettings], files: tuple[Path, ...]) -> None:
        super().__init__(settings_cls)
        self.files = files

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # pragma: no cover - __call__ does the work

    def __call__(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for path in self.files:
            with path.open("rb") as handle:
                try:
                    data = tomllib.load(handle)
                except tomllib.TOMLDecodeError as exc:
                    raise SettingsError(f"{path}: {exc}") from exc
            _refuse_secrets(data, path)
            _deep_merge(merged, data)
        return merged


def _refuse_secrets(data: dict[str, Any], path: Path) -> None:
    for section in ("telegram", "discord"):
        table = data.get(section, {})
        for key in SECRET_KEYS:
            if isinstance(table, dict) and table.get(key):
                env = f"GUYUB_{section.upper()}__{key.upper()}"
                raise SettingsError(
                    f"{path}: {section}.{key} is a secret; set it in the environment ({env}), "
                    "not in a file"
                )


def _deep_merge(into: dict[str, Any], data: dict[str, Any]) -> None:
    for key, value in data.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _deep_merge(into[key], value)
        else:
            into[key] = value


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """Load settings from the default file, ``guyub.toml`` (or ``config``) and environment.

    ``overrides`` win over everything (tests and the CLI use them).
    """
    files: list[Path] = []
    if DEFAULT_CONFIG.is_file():
        files.append(DEFAULT_CONFIG)
    if config is not None:
        if not config.is_file():
            raise SettingsError(f"config file not found: {config}")
        files.append(config)
    else:
        local = Path(os.environ.get("GUYUB_CONFIG", "guyub.toml"))
        if local.is_file():
            files.append(local)

    class _Loaded(Settings):
        config_files: ClassVar[tuple[Path, ...]] = tuple(files)

    try:
        return _Loaded(**overrides)
    except SettingsError:
        raise
    except ValueError as exc:
        raise SettingsError(str(exc)) from exc
