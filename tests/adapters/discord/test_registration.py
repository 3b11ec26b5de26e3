"""Registration starts on Discord: the welcome's button, "halo" in a DM, and
``/start payload:onboard`` in a server all lead to the registration flow in the member's
DM, and the whole flow runs without the message-content intent."""

from __future__ import annotations

from guyub_world import guyub_on_discord

from core import Member, UserRef


def texts(channel) -> list[str]:  # type: ignore[no-untyped-def]
    return [m.content for m in channel.history()]


async def registered_member(guyub, actor) -> Member:  # type: ignore[no-untyped-def]
    account = await guyub.app.identity.account_for(UserRef("discord", str(actor.id)))
    assert account is not None
    return await Member.get(id=account.member_id)


async def test_welcome_button_registers_in_the_dm(make_app) -> None:
    async with guyub_on_discord(make_app) as guyub:
        assert not guyub.adapter.client.intents.message_content
        amir = await guyub.joins("amir")
        welcome = guyub.channel.last_message
        assert welcome is not None
        assert "Selamat datang" in welcome.content
        pressed = await amir.click(welcome, label="📝 Daftar sekarang")
        assert pressed.acknowledged
        dm = amir.user.dm_channel
        said = texts(dm)
        assert any("lanjutkan pendaftaran di sini" in t for t in said)
        assert "Apakah Anda setuju?" in said[-1]
        # The server channel only says where registration went.
        assert "mengirim pesan pribadi" in guyub.channel.last_message.content

        await amir.user.click(dm.last_message, label="✅ Setuju")
        assert "Nama apa" in dm.last_message.content
        await amir.send_dm("Amir Hamzah")
        assert "kabupaten/kota" in dm.last_message.content
        await amir.send_dm("Aceh Utara")
        if "Apakah wilayah Anda" in dm.last_message.content:
            await amir.user.click(dm.last_message, label="✅ Ya, benar")
        await amir.send_dm("12")
        await amir.send_dm("Menjahit")
        await amir.user.click(dm.last_message, label="Bahasa Indonesia")
        assert any("Pendaftaran selesai" in t for t in texts(dm)[-3:])
        member = await registered_member(guyub, amir)
        assert member.display_name == "Amir Hamzah"
        assert member.region_code == "11.08"
        assert member.registered_at is not None


async def test_halo_in_a_dm_starts_registration(make_app) -> None:
    async with guyub_on_discord(make_app) as guyub:
        siti = await guyub.joins("siti")
        await siti.send_dm("halo")
        said = texts(siti.user.dm_channel)
        assert any("Pendaftaran hanya 5 langkah" in t for t in said)
        assert "Apakah Anda setuju?" in said[-1]


async def test_halo_from_a_registered_member_gets_a_greeting(make_app) -> None:
    async with guyub_on_discord(make_app) as guyub:
        siti = await guyub.joins("siti")
        await guyub.registered(siti, "11.08")
        await siti.send_dm("halo")
        assert "Ketik /bantuan" in siti.user.dm_channel.last_message.content


async def test_start_onboard_in_the_server_moves_to_the_dm(make_app) -> None:
    async with guyub_on_discord(make_app) as guyub:
        budi = await guyub.joins("budi")
        result = await budi.slash(guyub.channel, "start", payload="onboard")
        assert result.ephemeral  # only budi sees where registration went
        said = texts(budi.user.dm_channel)
        assert "Apakah Anda setuju?" in said[-1]


async def test_closed_dms_are_explained_in_the_server(make_app) -> None:
    async with guyub_on_discord(make_app) as guyub:
        budi = await guyub.joins("budi")
        guyub.env.inject_error(
            "POST",
            "/channels/*/messages",
            status=403,
            code=50007,
            message="Cannot send messages to this user",
        )
        pressed = await budi.click(guyub.channel.last_message, label="📝 Daftar sekarang")
        assert pressed.response is not None
        assert "belum bisa mengirim pesan pribadi" in pressed.response.content
        assert budi.user.dm_channel.last_message is None


async def test_register_command_works_in_the_server(make_app) -> None:
    async with guyub_on_discord(make_app) as guyub:
        budi = await guyub.joins("budi")
        assert "register" in budi.available_commands(guyub.channel)
        result = await budi.slash(guyub.channel, "register")
        assert result.ephemeral
        assert "Apakah Anda setuju?" in texts(budi.user.dm_channel)[-1]
        names = guyub.adapter.command_set()
        assert names.spell("register", "id") == "/daftar"
