"""Logging set-up: one line per event, as readable text or as JSON (``[logging] format``).

Every line written while an update (or a job, or an outbox send) is handled carries its
correlation id and the member's pseudonymous id (``m42``), never a platform id. Secrets (bot
tokens) are masked wherever they appear, including in URLs that HTTP libraries log
(``/bot<token>/getMe``); and while an update is handled, the platform strings it brought
(the sender's platform id, names and the message text) are masked in every line too, so a
careless log call in a plugin cannot leak them.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from core._trace import current_scope

__all__ = [
    "JsonFormatter",
    "ScopeFilter",
    "SecretFilter",
    "TextFormatter",
    "pseudonym",
    "setup_logging",
]

#: Fields of a record a log call may add with ``extra=`` that the JSON line keeps.
EXTRA_FIELDS = ("outcome", "ms", "result", "batch", "job", "kind_name", "count")


class SecretFilter(logging.Filter):
    """Replaces every known secret in a record's message and arguments with ``***``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets: set[str] = {s for s in secrets if s and len(s) >= 6}

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= 6:
            self.secrets.add(secret)

    def mask(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        masked = self.mask(message)
        if record.exc_info and record.exc_info[1] is not None:
            formatter = logging.Formatter()
            record.exc_text = self.mask(formatter.formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        return True


class ScopeFilter(logging.Filter):
    """Adds the current update's correlation id and pseudonymous member to each record, and
    masks the platform strings that update brought (ids, names, text) in the line."""

    def __init__(self, worker: str = "") -> None:
        super().__init__()
        self.worker = worker

    def filter(self, record: logging.LogRecord) -> bool:
        record.worker = self.worker
        found = current_scope()
        if found is None:
            record.cid = None
            record.member = None
            record.update_kind = None
            record.platform = None
            record.command = None
            return True
        record.cid = found.cid
        record.member = f"m{found.member}" if found.member is not None else None
        record.update_kind = found.kind
        record.platform = found.platform or None
        record.command = found.command
        if found.private:
            _mask_record(record, found.private)
        return True


def _mask_record(record: logging.LogRecord, private: tuple[str, ...]) -> None:
    message = record.getMessage()
    masked = _mask(message, private)
    if record.exc_info and record.exc_info[1] is not None:
        record.exc_text = _mask(logging.Formatter().formatException(record.exc_info), private)
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = _mask(record.exc_text, private)
    if masked != message:
        record.msg, record.args = masked, None


def _mask(text: str, private: tuple[str, ...]) -> str:
    for value in private:
        if value in text:
            text = text.replace(value, "<redacted>")
    return text


class TextFormatter(logging.Formatter):
    """``time LEVEL logger [cid m42]: message``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(scope)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        cid = getattr(record, "cid", None)
        member = getattr(record, "member", None)
        parts = [p for p in (cid, member) if p]
        record.scope = f" [{' '.join(parts)}]" if parts else ""
        return super().format(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, worker, correlation id,
    event kind, platform, member (pseudonymous), command, and the ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        worker = getattr(record, "worker", None)
        if worker:
            line["worker"] = worker
        for key, field in (
            ("cid", "cid"),
            ("event", "update_kind"),
            ("platform", "platform"),
            ("member", "member"),
            ("command", "command"),
        ):
            value = getattr(record, field, None)
            if value is not None:
                line[key] = value
        for key in EXTRA_FIELDS:
            value = getattr(record, key, None)
            if value is not None:
                line[key] = value
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)


_FILTER = SecretFilter()
_SCOPE = ScopeFilter()


def secret_filter() -> SecretFilter:
    """The process-wide filter (installed on the root handlers by ``setup_logging``)."""
    return _FILTER


def setup_logging(
    level: str = "INFO",
    secrets: Iterable[str] = (),
    *,
    format: str = "text",
    worker: str = "",
) -> SecretFilter:
    """Install one handler on the root logger (once), in ``format`` ("text" or "json")."""
    for secret in secrets:
        _FILTER.add(secret)
    if worker:
        _SCOPE.worker = worker
    root = logging.getLogger()
    formatter: logging.Formatter = JsonFormatter() if format == "json" else TextFormatter()
    ours = [h for h in root.handlers if any(isinstance(f, SecretFilter) for f in h.filters)]
    if ours:
        for handler in ours:
            handler.setFormatter(formatter)
    else:
        handler = logging.StreamHandler()
        handler.setFormatter(formatter)
        # The scope filter first: it masks the update's platform strings, then secrets.
        handler.addFilter(_SCOPE)
        handler.addFilter(_FILTER)
        root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "aiosqlite", "tortoise", "discord.gateway", "asyncpg"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    return _FILTER


def pseudonym(value: object) -> str:
    """A stable stand-in for a platform user or private chat in log lines (``u-3f9a1c2b7d``):
    lines about one person can still be told apart, but don't carry their platform id."""
    digest = hashlib.sha256(str(value).encode("utf-8", "surrogatepass")).hexdigest()
    return "u-" + digest[:10]
