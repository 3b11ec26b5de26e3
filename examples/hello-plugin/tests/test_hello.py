"""The hello plugin tested with Guyub's test kit, as any plugin author would."""

from __future__ import annotations

from core import Member


async def test_hello_wave_and_later(make_app):
    """The installed plugin is discovered with the built-ins (it requires regions)."""
    from core.testing import FakeChat

    async with make_app() as app:
        assert "hello" in app.plugins.names()
        chat = FakeChat(app)
        amir = chat.user("amir")
        aceh = chat.group("Aceh")
        await amir.says(aceh, "/halo")
        chat.expect_sent(aceh, contains="Halo, amir")
        await Member.filter(display_name="amir").update(region_code="11.08")
        await amir.says(aceh, "/halo")
        chat.expect_sent(aceh, contains="Halo, amir dari Kabupaten Aceh Utara")
        await amir.presses("Balas", aceh)
        chat.expect_sent(aceh, contains="amir melambai balik")
        await amir.says(aceh, "/hello_later 10m")
        chat.expect_sent(aceh, contains="10 menit")
        await chat.advance("9m")
        chat.expect_nothing()
        await chat.advance("1m")
        chat.expect_sent(aceh, contains="sapaan terjadwal")
