"""The core's own commands, through FakeChat."""

from __future__ import annotations

from core.testing import FakeChat


async def test_help_lists_commands_in_indonesian(chat: FakeChat) -> None:
    amir = chat.user("amir")
    aceh = chat.group("Aceh")
    await amir.says(aceh, "/help")
    sent = chat.expect_sent(aceh, contains="Perintah Guyub")
    assert "/bahasa (/language)" in sent.text


async def test_language_button_switches_to_english(chat: FakeChat) -> None:
    amir = chat.user("amir")
    await amir.says("/bahasa")
    await amir.presses("English")
    chat.expect_sent(amir, contains="Language changed to English")
    await amir.says("/help")
    chat.expect_sent(amir, contains="Guyub commands")
