"""Settings: ``config/default.toml`` < ``guyub.toml`` (or ``--config``) < ``GUYUB_*`` environment.

Tokens are secrets: they come from the environment only and are never logged.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

__all__ = [
    "DatabaseSettings",
    "DiscordSettings",
    "LoggingSettings",
    "MetricsSettings",
    "OutboxSettings",
    "PluginSettings",
    "SafetySettings",
    "SchedulerSettings",
    "Settings",
    "SettingsError",
    "TelegramSettings",
    "WebSettings",
    "WorkerSettings",
    "load_settings",
]

#: The shipped defaults, documented line by line.
DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "config" / "default.toml"
SECRET_KEYS = ("token", "webhook_secret")
#: Key names that hold secrets wherever they appear (``tokn``, ``bot_token``, ``api_key``...).
_SECRET_NAME = re.compile(
    r"tok[en]|tkn|secret|pass(word|wd)?\b|pwd|api_?key|private_?key|credential", re.I
)
#: Values shaped like a Telegram or Discord bot token, whatever the key is called.
_TOKEN_VALUE = re.compile(
    r"\b\d{6,12}:[A-Za-z0-9_-]{30,}\b|\b[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{20,}\b"
)


class SettingsError(ValueError):
    """The configuration is wrong; the message says how to fix it."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatabaseSettings(_Section):
    url: str = "sqlite://data/guyub.sqlite3"

    @property
    def password(self) -> str | None:
        """The password inside ``url``, if any (masked in every log line)."""
        try:
            return urlsplit(self.url).password
        except ValueError:
            return None

    def __repr_args__(self) -> Any:
        # Printed settings never show the database password.
        secret = self.password
        yield "url", self.url.replace(f":{secret}@", ":***@") if secret else self.url


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
    claim_ahead_seconds: float = 0.5
    concurrency: int = 16


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
    #: On PostgreSQL, keep each platform's overall rate and each group's rate across all
    #: worker processes, through the database (docs/delivery.md). SQLite: one process.
    shared_rate: bool = True


class WorkerSettings(_Section):
    #: This process's name in metrics, logs and ``guyub status`` (default: host-pid).
    name: str = ""
    #: Seconds SIGTERM waits for updates being handled before the process exits.
    shutdown_timeout: float = Field(default=25.0, ge=0)
    #: Seconds between heartbeats written to the database.
    heartbeat_seconds: float = Field(default=15.0, gt=0)
    #: Adapters this process runs, by name; empty: every configured one.
    adapters: list[str] = Field(default_factory=list)


class MetricsSettings(_Section):
    #: "host:port" for a /metrics, /healthz, /readyz server of its own; empty: none (they
    #: are served on the web or webhook server when one runs).
    listen: str = ""


class LoggingSettings(_Section):
    format: Literal["text", "json"] = "text"
    level: str = "INFO"


class WebSettings(_Section):
    #: HOST:PORT the web server (dashboard, health checks) listens on; "" serves none.
    listen: str = "127.0.0.1:8080"
    #: The address people use, e.g. "https://guyub.example.org" behind a reverse proxy.
    public_url: str | None = None
    max_body_bytes: int = Field(default=4 * 2**20, ge=1024)
    #: Minutes a one-time dashboard login link stays valid.
    login_link_minutes: int = Field(default=10, ge=1, le=60)
    #: Hours a dashboard session lasts before signing in again.
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    #: Seconds the overview's figures are reused per scope (0: count on every request).
    figures_cache_seconds: float = Field(default=60.0, ge=0)


class LimitSettings(_Section):
    max_message_chars: int = 4096
    #: Commands one member may send per minute (0: no limit), shared by every worker.
    commands_per_minute: int = Field(default=20, ge=0)


class SafetySettings(_Section):
    #: Delete a group message holding a NIK, OTP, password, phone or card number where the
    #: bot may (it warns either way).
    delete_secret_messages: bool = True
    #: At most one joki warning per group in this many seconds (a wave of posts must not
    #: become a wave of warnings).
    group_warning_cooldown_seconds: float = Field(default=60.0, ge=0)


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
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    safety: SafetySettings = Field(default_factory=SafetySettings)
    web: WebSettings = Field(default_factory=WebSettings)

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

    def secret_values(self) -> list[str]:
        """Every secret these settings hold (tokens, webhook secret, database password), for
        the log mask."""
        values = [self.telegram.token, self.telegram.webhook_secret, self.discord.token]
        found = [v.get_secret_value() for v in values if v is not None]
        if self.database.password:
            found.append(self.database.password)
        return found

    def section(self, name: str) -> dict[str, Any]:
        """A plugin's raw settings table: ``[name]`` in TOML, overridden by the environment
        (``GUYUB_NAME__KEY=value``, ``GUYUB_NAME__TABLE__KEY`` for a nested table; a value
        starting with ``[`` or ``{`` is JSON). The plugin's model validates the result."""
        extra = self.model_extra or {}
        found = extra.get(name.lower(), {})
        value: dict[str, Any] = dict(found) if isinstance(found, dict) else {}
        prefix = f"GUYUB_{name.upper()}__"
        for key, raw in os.environ.items():
            if not key.upper().startswith(prefix) or len(key) == len(prefix):
                continue
            *tables, leaf = key[len(prefix) :].lower().split("__")
            target = value
            for table in tables:
                inner = target.get(table)
                target[table] = inner = dict(inner) if isinstance(inner, dict) else {}
                target = inner
            target[leaf] = _env_value(raw)
        return value


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
    _refuse_secret_looking(data, path, ())


def _refuse_secret_looking(data: dict[str, Any], path: Path, at: tuple[str, ...]) -> None:
    """Any other key that looks like it holds a secret (a misspelt ``tokn``, a plugin's
    ``api_key``) or any value shaped like a bot token is refused too, naming the key and
    never echoing the value."""
    for key, value in data.items():
        where = (*at, str(key))
        if isinstance(value, dict):
            _refuse_secret_looking(value, path, where)
            continue
        texts = [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]
        if (_SECRET_NAME.search(str(key)) and any(texts)) or any(
            _TOKEN_VALUE.search(t) for t in texts
        ):
            dotted = ".".join(where)
            env = "GUYUB_" + "__".join(w.upper() for w in where)
            raise SettingsError(
                f"{path}: {dotted} looks like a secret (value not shown); secrets are read "
                f"from the environment only ({env}); remove it from the file"
            )


def _deep_merge(into: dict[str, Any], data: dict[str, Any]) -> None:
    for key, value in data.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _deep_merge(into[key], value)
        else:
            into[key] = value


def _env_value(raw: str) -> Any:
    """A plugin setting from the environment: JSON for lists and tables, text otherwise
    (the plugin's model turns ``"7"`` into 7 and ``"true"`` into True)."""
    if raw.strip().startswith(("[", "{")):
        try:
            return json.loads(raw)
        except ValueError:
            raise SettingsError(f"not valid JSON: {raw[:80]!r}") from None
    return raw


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
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None
    except ValueError as exc:
        raise SettingsError(str(exc)) from exc


def _describe(exc: ValidationError) -> str:
    """What is wrong, by key, without the values: a misplaced token must not be printed."""
    lines = [f"{exc.error_count()} problem(s) in the settings:"]
    for error in exc.errors(include_input=False, include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "(settings)"
        lines.append(f"  {where}: {error['msg']}")
    return "\n".join(lines)
