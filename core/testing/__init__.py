"""Guyub's test kit: FakeChat and an App on a throw-away database.

Plugin authors use it the same way the core's own tests do::

    async def test_welcome(chat):
        amir = chat.user("amir")
        await amir.joins(chat.group("Aceh"))
        chat.expect_sent(chat.group("Aceh"), contains="Selamat datang")

The fixtures (``chat``, ``app``, ``make_app``, ``clock``) come from the pytest plugin
``core.testing.plugin``, registered under the ``pytest11`` entry point.
"""

from __future__ import annotations

from core.testing._apps import TEST_START, Restarts, make_app, test_database_url, test_settings
from core.testing._fakechat import ExpectationFailed, FakeChat, FakeUser, HandlerError
from core.testing._memory import ALL_CAPABILITIES, MemoryAdapter, Moderation, Sent

__all__ = [
    "ALL_CAPABILITIES",
    "TEST_START",
    "ExpectationFailed",
    "FakeChat",
    "FakeUser",
    "HandlerError",
    "MemoryAdapter",
    "Moderation",
    "Restarts",
    "Sent",
    "make_app",
    "test_database_url",
    "test_settings",
]
