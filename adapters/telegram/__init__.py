"""Telegram, through python-telegram-bot 22.

Found by the core through the ``guyub.adapters`` entry point: ``create(settings)`` builds the
adapter when ``telegram.token`` is set (``GUYUB_TELEGRAM__TOKEN``). Nothing of ``telegram``
leaks past this package: the core sees events, refs and neutral messages only.
"""

from __future__ import annotations

import os

# Opt in to PTB's coming behaviour (time periods as timedelta) now: otherwise every 429 warns
# with a deprecation (PTB itself reads ``retry_after`` as an int). Our code reads either.
os.environ.setdefault("PTB_TIMEDELTA", "true")

from adapters.telegram._adapter import ALLOWED_UPDATES, CAPABILITIES, TelegramAdapter
from adapters.telegram._calls import Caller
from core import Settings

__all__ = ["ALLOWED_UPDATES", "CAPABILITIES", "Caller", "TelegramAdapter", "create"]


def create(settings: Settings) -> TelegramAdapter | None:
    """The Telegram adapter, or None when no token is configured."""
    if settings.telegram.token is None or not settings.telegram.token.get_secret_value():
        return None
    return TelegramAdapter(settings)
