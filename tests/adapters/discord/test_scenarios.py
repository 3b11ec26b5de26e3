"""The Discord adapter end to end: real discord.py client, simulated Discord, real core."""

from __future__ import annotations

import discord
import discord_sample_plugin as sample
import simcord
from discord_harness import discord_world

from core import ChatKind, ChatRef, Message, Role, UserRef


async def test_member_join_gets_welcome_and_button_works(make_app) -> None:
    async with discord_world(make_app) as world:
        amir = await world.member("amir")
        welcome = world.channel.last_message
        assert welcome is not None
        # The welcome names the newcomer, and notifies only them.
        assert welcome.content == f"<@{amir.id}> Selamat datang, amir!"
        sent = [r for r in world.env.http_requests if r.method == "POST" and r.json][-1]
        assert sent.json is not None
        assert sent.json["allowed_mentions"] == {"parse": [], "users": [amir.id]}
        result = await amir.click(welcome, label="Mulai")
        assert result.acknowledged
        assert world.channel.last_message.content == "amir melambai!"


async def test_slash_command_with_typed_options(make_app) -> None:
    async with discord_world(make_app) as world:
        alice = await world.member("alice")
        bob = await world.member("bob")
        result = await alice.slash(world.channel, "greet", region="Aceh", times=3, who=bob)
        assert result.response is not None
        assert result.response.content == "Halo **bob** dari Aceh (x3)"
        assert not result.ephemeral


async def test_autocomplete_answers_from_plugins(make_app) -> None:
    async with discord_world(make_app) as world:
        alice = await world.member("alice")
        choices = await alice.autocomplete(world.channel, "greet", "region", "aceh")
        assert [(c["name"], c["value"]) for c in choices] == [
            ("Aceh", "11"),
            ("Aceh Utara", "11.08"),
        ]


async def test_private_results_are_ephemeral(make_app) -> None:
    async with discord_world(make_app) as world:
        alice = await world.member("alice")
        result = await alice.slash(world.channel, "secret")
        assert result.ephemeral
        assert result.response is not None
        assert result.response.content == "Hanya untukmu"
        # A private reply to a public command: shown only to the caller, not sent as a DM.
        result = await alice.slash(world.channel, "whisper")
        assert result.ephemeral
        assert alice.user.dm_channel.last_message is None


async def test_deferred_answer_edits_the_thinking_message(make_app) -> None:
    async with discord_world(make_app, defer_after=0) as world:
        alice = await world.member("alice")
        result = await alice.slash(world.channel, "greet", region="Bireuen")
        callbacks = [r for r in world.env.http_requests if r.path.endswith("/callback")]
        assert [r.json["type"] for r in callbacks if r.json] == [5]  # "thinking..." first
        assert not result.followups
        assert result.response is not None
        assert result.response.content == "Halo **alice** dari Bireuen (x1)"


async def test_a_slow_answer_is_deferred_when_the_timer_rings(make_app) -> None:
    """An answer later than ``defer_after`` gets "thinking..." first, then the answer in its
    place (the timer rings before the handler's longer wait ends: loop time, not speed)."""
    async with discord_world(make_app, defer_after=0.01) as world:
        alice = await world.member("alice")
        result = await alice.slash(world.channel, "slow")
        callbacks = [r for r in world.env.http_requests if r.path.endswith("/callback")]
        assert [r.json["type"] for r in callbacks if r.json] == [5]
        assert result.response is not None
        assert result.response.content == "Selesai"
        # A quick answer: the timer is cancelled, nothing is deferred.
        before = len(callbacks)
        result = await alice.slash(world.channel, "whisper")
        callbacks = [r for r in world.env.http_requests if r.path.endswith("/callback")]
        assert [r.json["type"] for r in callbacks[before:] if r.json] == [4]


async def test_captain_group_command_creates_scheduled_event(make_app) -> None:
    async with discord_world(make_app) as world:
        kapten = world.guild.create_role(
            "Kapten", permissions=discord.Permissions(manage_messages=True)
        )
        ani = await world.member("ani", roles=(kapten,))
        budi = await world.member("budi")
        # default_member_permissions hides captain commands from ordinary members.
        assert "event new" in ani.available_commands(world.channel)
        assert "event new" not in budi.available_commands(world.channel)
        account = await world.app.identity.ensure(UserRef("discord", str(ani.id)), "ani")
        await world.app.roles.grant(account.member_id, Role.CAPTAIN)

        result = await ani.slash(world.channel, "event new", title="Temu alumni Aceh")
        assert result.response is not None
        assert result.response.content == "Acara Temu alumni Aceh dibuat"
        guild = world.adapter.client.get_guild(world.guild.id)
        assert guild is not None
        event = guild.get_scheduled_event(int(sample.created["Temu alumni Aceh"]))
        assert event is not None
        assert event.name == "Temu alumni Aceh"
        assert event.location == "Banda Aceh"
        assert event.status is discord.EventStatus.scheduled

        # "Interested" in Discord's Events list reaches the core (an RSVP for the events plugin).
        await budi.subscribe_event(event)
        await budi.unsubscribe_event(event)
        event_id = sample.created["Temu alumni Aceh"]
        assert sample.interest == [(event_id, str(budi.id), True), (event_id, str(budi.id), False)]

        await ani.slash(world.channel, "event cancel", title="Temu alumni Aceh")
        assert event.status is discord.EventStatus.cancelled


async def test_native_poll_votes_reach_the_core(make_app) -> None:
    async with discord_world(make_app) as world:
        alice = await world.member("alice")
        chat = ChatRef("discord", str(world.channel.id), title="umum")
        ref = await world.app.send(
            chat,
            Message.of(
                "Survei",
                poll=sample.PollSpec("Untuk apa?", ("Makan", "Modal", "Listrik"), multiple=True),
            ),
        )
        poll_message = world.channel.last_message
        assert poll_message is not None
        assert poll_message.poll is not None
        assert str(poll_message.id) == ref.id
        assert ref.poll_id == ref.id  # what PollAnswered.poll_id will carry
        assert [a.text for a in poll_message.poll.answers] == ["Makan", "Modal", "Listrik"]

        await alice.vote(poll_message, answer=1)
        await alice.vote(poll_message, answer=3)
        await alice.remove_vote(poll_message, answer=1)
        me = str(alice.id)
        assert sample.votes == [(ref.id, me, (0,)), (ref.id, me, (0, 2)), (ref.id, me, (2,))]

        # Two answers at once arrive as two concurrent gateway events; none is lost.
        bob = await world.member("bob")
        sample.votes.clear()
        await bob.set_poll_votes(poll_message, answers=[1, 2])
        assert len(sample.votes) == 2
        assert sample.votes[-1] == (ref.id, str(bob.id), (0, 1))


async def test_button_on_an_old_message_works_after_the_app_is_rebuilt(make_app, tmp_path) -> None:
    from discord_harness import GUILD_ID, discord_settings

    from adapters.discord import DiscordAdapter

    settings = discord_settings(database={"url": f"sqlite://{tmp_path}/guyub.sqlite3"})
    first = DiscordAdapter(settings, defer_after=None)
    async with make_app(
        settings=settings, plugins=[sample], adapters=[first], discover_plugins=False
    ) as app:
        first.bind(app)
        async with simcord.run(first.client) as env:
            guild = env.create_guild(name="Alumni", id=GUILD_ID)
            channel = guild.create_text_channel("umum")
            alice = guild.add_member(env.create_user("alice"))
            await alice.slash(channel, "wave")
            old = channel.last_message
            assert old is not None
            assert old.content == "Tekan tombolnya"
            await app.stop()  # the whole App goes away: database closed, nothing in memory

            second = DiscordAdapter(settings, defer_after=None)
            async with make_app(
                settings=settings, plugins=[sample], adapters=[second], discover_plugins=False
            ) as again:
                second.bind(again)
                await env.restart_bot(second.client)
                synced = [r for r in env.http_requests if r.method == "PUT"]
                # DM commands globally and the rest in the guild, once: the restart found
                # Discord already had them and wrote nothing.
                assert len(synced) == 2
                await alice.click(old, label="Lambai")
                assert channel.last_message.content == "alice melambai!"


async def test_dm_sent_and_dm_closed_is_unreachable(make_app) -> None:
    import pytest

    from core import Unreachable

    async with discord_world(make_app) as world:
        bob = await world.member("bob")
        ref = await world.app.send_dm(UserRef("discord", str(bob.id)), Message.of("Halo Bob"))
        assert ref.chat.kind is ChatKind.DM
        assert bob.user.dm_channel.last_message.content == "Halo Bob"

        world.env.inject_error(
            "POST",
            "/channels/*/messages",
            status=403,
            code=50007,
            message="Cannot send messages to this user",
        )
        with pytest.raises(Unreachable):
            await world.app.send_dm(UserRef("discord", str(bob.id)), Message.of("Lagi"))


async def test_messages_in_channels_threads_and_dms(make_app) -> None:
    async with discord_world(make_app) as world:
        alice = await world.member("alice")
        await alice.send(world.channel, "halo semua")
        await alice.send_dm("/greet Aceh")
        dm = alice.user.dm_channel
        assert dm.last_message.content == "Halo **alice** dari Aceh (x1)"
        # Without the privileged message-content intent Discord sends guild texts empty,
        # and the core ignores empty texts.
        assert sample.messages == []


async def test_escaping_and_no_pings(make_app) -> None:
    async with discord_world(make_app) as world:
        chat = ChatRef("discord", str(world.channel.id))
        await world.app.send(chat, Message.of("@everyone lihat **Amir** <@123456789012345678>"))
        sent = world.channel.last_message
        assert sent is not None
        assert "@everyone" not in sent.content.replace("@\u200beveryone", "")
        assert "\\*\\*Amir\\*\\*" in sent.content
        assert not sent.mention_everyone
        request = [r for r in world.env.http_requests if r.method == "POST"][-1]
        assert request.json is not None
        assert request.json["allowed_mentions"] == {"parse": []}  # nobody is pinged


async def test_long_text_is_split(make_app) -> None:
    async with discord_world(make_app) as world:
        chat = ChatRef("discord", str(world.channel.id))
        before = len(world.channel.history())
        text = "\n".join(f"Baris {i}: " + "x" * 90 for i in range(50))
        await world.app.send(chat, Message.of(text))
        sent = world.channel.history()[before:]
        assert len(sent) == 3
        assert all(len(m.content) <= 2000 for m in sent)
