"""Button payloads can't be forged to act for another member: the platform only sees a
random key, the data stays on the server, and ``only_for`` ties a button to one member."""

from __future__ import annotations

import secrets

from core import ButtonPressed, Member, MessageRef
from core.models import ButtonKey
from core.privacy.models import ConsentRecord
from core.testing import FakeChat


async def test_another_member_cannot_press_my_button(chat: FakeChat) -> None:
    amir, mallory = chat.user("amir"), chat.user("mallory")
    await amir.says("/consent")  # the consent buttons are for amir only
    await mallory.says("/help")
    await mallory.presses("✅ Setuju", amir.dm)
    chat.expect_sent(amir.dm, contains="bukan untuk Anda")
    amir_id = (await Member.get(display_name="amir")).id
    mallory_id = (await Member.get(display_name="mallory")).id
    assert not await ConsentRecord.filter(status="given").exists()
    # Pressing from his own chat with the same key changes nothing either.
    prompt = chat.latest_with_button(amir.dm, "✅ Setuju")
    assert prompt is not None
    key = prompt.buttons[0][0].key
    assert key is not None
    event = ButtonPressed(
        user=mallory.sender,
        chat=mallory.dm,
        key=key,
        message=MessageRef(mallory.dm, "1"),
        at=chat.now(),
    )
    await chat.emit(event)
    chat.expect_sent(mallory, contains="bukan untuk Anda")
    assert not await ConsentRecord.filter(
        member_id__in=[amir_id, mallory_id], status="given"
    ).exists()


async def test_guessed_and_malformed_keys_do_nothing(chat: FakeChat) -> None:
    amir = chat.user("amir")
    await amir.says("/consent")
    before = await ConsentRecord.all().count()
    for key in (
        secrets.token_urlsafe(9)[:12],
        "",
        "x" * 17,
        "' OR 1=1 --",
        "privacy:consent",
        '{"answer":"yes"}',
    ):
        event = ButtonPressed(
            user=amir.sender,
            chat=amir.dm,
            key=key,
            message=MessageRef(amir.dm, "1"),
            at=chat.now(),
        )
        await chat.emit(event)
        chat.expect_sent(amir, contains="sudah tidak berlaku")
    assert await ConsentRecord.all().count() == before


async def test_adapters_see_only_labels_and_random_keys(chat: FakeChat) -> None:
    amir = chat.user("amir")
    await amir.says("/forgetme")
    sent = chat.last(amir)
    keys = [b.key for row in sent.buttons for b in row]
    assert len(set(keys)) == 2
    for key in keys:
        assert key is not None
        assert len(key) == 12
        stored = await ButtonKey.get(key=key)
        assert stored.only_for == (await Member.get(display_name="amir")).id
        assert "yes" not in key
        assert "forget" not in key
