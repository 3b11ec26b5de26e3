"""Logging set-up: readable lines, and secrets (bot tokens) masked wherever they appear,
including in URLs that HTTP libraries log (``/bot<token>/getMe``)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable

__all__ = [
    "SecretFilter",
    "pseudonym",
    "setup_logging",
]


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
        if masked != message or record.args:
            record.msg, record.args = masked, None
        return True


_FILTER = SecretFilter()


def secret_filter() -> SecretFilter:
    """The process-wide filter (installed on the root handlers by ``setup_logging``)."""
    return _FILTER


def setup_logging(level: str = "INFO", secrets: Iterable[str] = ()) -> SecretFilter:
    for secret in secrets:
        _FILTER.add(secret)
    root = logging.getLogger()
    if not any(isinstance(f, SecretFilter) for h in root.handlers for f in h.filters):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(_FILTER)
        root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "aiosqlite", "tortoise", "discord.gateway"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    return _FILTER


def pseudonym(value: object) -> str:
    """A stable stand-in for a platform user or private chat in log lines (``u-3f9a1c2b7d``):
    lines about one person can still be told apart, but don't carry their platform id."""
    digest = hashlib.sha256(str(value).encode("utf-8", "surrogatepass")).hexdigest()
    return "u-" + digest[:10]
