"""Warn and mute from a message's Apps menu (Discord's message context-menu commands):
the command acts on the message's author, as replying with /warn does on Telegram."""

from __future__ import annotations

from guyub_world import guyub_on_discord

from plugins.captains.models import Warning


async def test_warn_and_mute_from_the_message_menu(make_app) -> None:
    async with guyub_on_discord(make_app) as guyub:
        ani = await guyub.joins("ani", captain=True, manages_channels=True)
        await guyub.make_captain(ani, "11")
        mod_log = guyub.guild.create_text_channel("mod-log")
        await guyub.env.settle()
        # discord.mod_log_channel_ids = [<its id>] in guyub.toml
        guyub.adapter.settings.mod_log_channel_ids.append(mod_log.id)
        linked = await ani.slash(guyub.channel, "region_link", region="Aceh Utara")
        assert linked.response is not None
        assert "Aceh Utara" in linked.response.content, linked.response.content
        budi = await guyub.joins("budi")
        await guyub.registered(budi, "11.08")
        spam = await budi.send(guyub.channel, "beli followers murah")

        # Members don't see the captain's menu entries.
        assert "Warn" not in budi.available_commands(guyub.channel)
        commands = guyub.adapter.command_set()
        warn = next(c for c in commands.payload if c["name"] == "Warn")
        assert warn["type"] == 3
        assert warn["name_localizations"] == {"id": "Peringatkan"}
        mute = next(c for c in commands.payload if c["name"] == "Mute")
        assert mute["name_localizations"] == {"id": "Bisukan"}

        shown = await ani.context_menu(guyub.channel, "Warn", spam)
        assert shown.modal is not None
        warned = await ani.submit_modal(shown, {"reason": "spam"})
        assert warned.response is not None
        assert "budi mendapat peringatan (1/" in warned.response.content
        warning = await Warning.get()
        assert warning.reason == "spam"
        logged = mod_log.last_message
        assert logged is not None
        assert logged.content == "🛡 Peringatan: **budi** oleh ani di umum\nAlasan: spam"

        shown = await ani.context_menu(guyub.channel, "Mute", spam)
        assert shown.modal is not None
        muted = await ani.submit_modal(shown, {"duration": "10m"})
        assert muted.response is not None
        guild = guyub.adapter.client.get_guild(guyub.guild.id)
        assert guild is not None
        member = guild.get_member(budi.id)
        assert member is not None
        assert member.timed_out_until is not None
        assert mod_log.last_message.content == "🛡 Dibisukan: **budi** oleh ani di umum"
