"""Leaves, edits, files, replies and moderation through the real client."""

from __future__ import annotations

from datetime import timedelta

import discord
import discord_sample_plugin as sample
import pytest
from discord_harness import discord_world

from core import Attachment, AttachmentKind, ChatRef, Message, NotSupported, UserRef


async def test_member_leave_reaches_the_core(make_app) -> None:
    async with discord_world(make_app) as world:
        amir = await world.member("amir")
        world.guild.remove_member(amir)
        await world.env.settle()
        assert sample.left == [str(amir.id)]


async def test_edit_replaces_text_and_buttons(make_app) -> None:
    async with discord_world(make_app) as world:
        chat = ChatRef("discord", str(world.channel.id))
        ref = await world.app.send(chat, Message.of("Satu"))
        await world.app.edit(ref, Message.of("Dua <tetap teks>"))
        edited = world.channel.last_message
        assert edited is not None
        assert str(edited.id) == ref.id
        assert edited.content == "Dua <tetap teks>"


async def test_button_handler_edits_the_pressed_message(make_app) -> None:
    async with discord_world(make_app) as world:
        alice = await world.member("alice")
        await alice.slash(world.channel, "counter")
        message = world.channel.last_message
        assert message is not None
        result = await alice.click(message, label="+1")
        assert result.acknowledged
        assert world.channel.last_message.content == "Hitungan: 1"


async def test_images_and_files_are_uploaded(make_app) -> None:
    async with discord_world(make_app) as world:
        chat = ChatRef("discord", str(world.channel.id))
        await world.app.send(
            chat,
            Message.of(
                "Laporan",
                attachments=[
                    Attachment(AttachmentKind.IMAGE, "grafik.png", b"\x89PNG\r\n", "Grafik"),
                    Attachment(AttachmentKind.FILE, "data.csv", b"a,b\n1,2\n", "Data"),
                ],
            ),
        )
        sent = world.channel.last_message
        assert sent is not None
        assert sent.content == "Laporan"
        assert [a.filename for a in sent.attachments] == ["grafik.png", "data.csv"]


async def test_reply_refers_to_the_message(make_app) -> None:
    async with discord_world(make_app) as world:
        chat = ChatRef("discord", str(world.channel.id))
        first = await world.app.send(chat, Message.of("Pertanyaan"))
        out = await world.app.render(Message.of("Jawaban"))
        await world.adapter.send(chat, out, reply_to=first)
        sent = world.channel.last_message
        assert sent is not None
        assert sent.reference is not None
        assert str(sent.reference.message_id) == first.id


async def test_kick_ban_and_timeout(make_app) -> None:
    async with discord_world(make_app) as world:
        chat = ChatRef("discord", str(world.channel.id))
        joki = await world.member("joki")
        spam = await world.member("spam")
        ribut = await world.member("ribut")
        await world.adapter.mute(chat, UserRef("discord", str(ribut.id)), None)
        member = world.adapter.client.get_guild(world.guild.id).get_member(ribut.id)
        assert member is not None
        assert member.timed_out_until is not None
        assert member.timed_out_until - world.env.now() > timedelta(days=27)
        await world.adapter.unmute(chat, UserRef("discord", str(ribut.id)))
        await world.env.settle()
        assert member.timed_out_until is None
        await world.adapter.kick(chat, UserRef("discord", str(joki.id)))
        await world.adapter.ban(chat, UserRef("discord", str(spam.id)))
        await world.env.settle()
        assert joki.id not in world.guild.member_ids()
        assert world.guild.get_ban(spam) is not None


async def test_anonymous_native_poll_is_refused(make_app) -> None:
    async with discord_world(make_app) as world:
        chat = ChatRef("discord", str(world.channel.id))
        poll = sample.PollSpec("Rahasia?", ("Ya", "Tidak"), anonymous=True)
        with pytest.raises(NotSupported):
            await world.app.send(chat, Message.of("", poll=poll))


async def test_text_commands_and_threads_with_message_content(make_app) -> None:
    from discord_harness import discord_settings

    settings = discord_settings(discord={"token": "t", "message_content": True})
    async with discord_world(make_app, settings=settings) as world:
        alice = await world.member("alice")
        await alice.send(world.channel, "halo semua")
        await alice.send(world.channel, "/greet Aceh")
        assert world.channel.last_message.content == "Halo **alice** dari Aceh (x1)"
        channel = world.adapter.client.get_channel(world.channel.id)
        thread = await channel.create_thread(
            name="temu-alumni", type=discord.ChannelType.public_thread
        )
        await world.env.settle()
        handle = world.channel.threads[0]
        await alice.send(handle, "kapan?")
        assert sample.messages == [
            (f"discord:{world.channel.id}", "halo semua"),
            (f"discord:{world.channel.id}/{thread.id}", "kapan?"),
        ]


async def test_a_slash_command_no_longer_known_gets_a_localized_answer(make_app) -> None:
    from adapters.discord import build_command_set

    async with discord_world(make_app) as world:
        alice = await world.member("alice")
        kept = [c for c in world.app.visible_commands() if c.name != "wave"]
        world.adapter._commands = build_command_set(kept, world.app.translator)
        world.app.commands._by_name.pop("wave")
        result = await alice.slash(world.channel, "wave")
        assert result.ephemeral
        assert result.response is not None
        assert "/wave" in result.response.content


async def test_sharded_client_serves_its_shards(make_app) -> None:
    from discord_harness import discord_settings

    settings = discord_settings(discord={"token": "t", "shard_count": 2, "shard_ids": [0, 1]})
    async with discord_world(make_app, settings=settings) as world:
        alice = await world.member("alice")
        result = await alice.slash(world.channel, "greet", region="Aceh")
        assert result.response is not None
        assert result.response.content == "Halo **alice** dari Aceh (x1)"
        assert len(world.adapter.client.shards) == 2


async def test_a_command_that_says_nothing_is_still_acknowledged(make_app) -> None:
    async with discord_world(make_app) as world:
        alice = await world.member("alice")
        before = len(world.channel.history())
        result = await alice.slash(world.channel, "quiet")
        assert result.acknowledged
        assert len(world.channel.history()) == before
        deleted = [r for r in world.env.http_requests if r.method == "DELETE"]
        assert [r.path.rsplit("/", 1)[-1] for r in deleted] == ["@original"]


async def test_moving_to_guild_commands_keeps_only_dm_commands_global(make_app) -> None:
    from discord_harness import discord_settings

    from adapters.discord import DiscordAdapter

    started_global = discord_settings(discord={"guild_ids": [], "leave_other_guilds": False})
    async with discord_world(make_app, settings=started_global) as world:
        puts = [r.path for r in world.env.http_requests if r.method == "PUT"]
        assert puts == [f"/applications/{world.adapter.client.application_id}/commands"]
        settings = discord_settings(discord={"guild_ids": [world.guild.id]})
        moved = DiscordAdapter(settings, defer_after=None)
        moved.bind(world.app)
        await world.env.restart_bot(moved.client)
        puts = [(r.path, r.json) for r in world.env.http_requests if r.method == "PUT"][1:]
        app_id = moved.client.application_id
        # Globally only what runs in DMs stays (guild commands don't exist in DMs).
        assert puts[0][0] == f"/applications/{app_id}/commands"
        assert puts[0][1]
        assert all(c["contexts"] == [1] for c in puts[0][1])
        assert puts[1][0] == f"/applications/{app_id}/guilds/{world.guild.id}/commands"
        assert all(c["contexts"] == [0] for c in puts[1][1])
        alice = await world.member("alice")
        result = await alice.slash(world.channel, "greet", region="Aceh")
        assert result.response is not None
        assert moved.dm_link() == f"https://discord.com/users/{moved.client.user.id}"


async def test_a_form_is_a_modal_and_its_answers_reach_the_action(make_app) -> None:
    async with discord_world(make_app) as world:
        alice = await world.member("alice")
        shown = await alice.slash(world.channel, "story")
        assert shown.modal is not None
        assert shown.modal["title"] == "Cerita alumni"
        result = await alice.submit_modal(shown, {"name": "Amir", "story": "Buka warung kopi"})
        assert result.response is not None
        assert result.response.content == "Terima kasih Amir: Buka warung kopi (sample)"


async def test_a_button_can_open_a_form(make_app) -> None:
    from core import Button, Message
    from core import ChatRef as Chat

    async with discord_world(make_app) as world:
        alice = await world.member("alice")
        chat = Chat("discord", str(world.channel.id))
        await world.app.send(
            chat, Message.of("Ayo cerita", buttons=[Button("Isi", "sample:open_story")])
        )
        shown = await alice.click(world.channel.last_message, label="Isi")
        assert shown.modal is not None
        result = await alice.submit_modal(shown, {"name": "Ani", "story": "Kursus jahit"})
        assert result.acknowledged
        assert world.channel.last_message.content == "Terima kasih Ani: Kursus jahit (sample)"
