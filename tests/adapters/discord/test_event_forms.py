"""Creating an event on Discord never depends on typed replies: ``/event new`` with some
options opens a form (modal) for the rest, and every later question that Telegram asks
by typing has a button opening a one-field form."""

from __future__ import annotations

import discord
from guyub_world import guyub_on_discord

from plugins.events.models import Event


async def test_event_new_with_title_and_region_asks_the_rest_in_a_form(make_app) -> None:
    async with guyub_on_discord(make_app) as guyub:
        ani = await guyub.joins("ani", captain=True)
        await guyub.make_captain(ani, "11")
        shown = await ani.slash(
            guyub.channel, "event new", title="Temu alumni Aceh Utara", region="11.08"
        )
        assert shown.modal is not None
        labels = [c["components"][0]["label"] for c in shown.modal["components"]]
        assert labels == [
            "Mulai (mis. besok 19.00)",
            "Tempat atau tautan online",
            "Keterangan untuk peserta",
        ]
        checked = await ani.submit_modal(
            shown, {"start": "besok jam 19.00", "place": "Aula Lhokseumawe"}
        )
        assert checked.acknowledged
        check = guyub.channel.last_message
        assert "Maksud Anda" in check.content
        await ani.click(check, label="✅ Ya, benar")
        # Capacity was not asked in the form: its question has a button opening one.
        question = guyub.channel.last_message
        assert "kapasitas" in question.content.lower()
        opened = await ani.click(question, label="✏️ Jawab")
        assert opened.modal is not None
        await ani.submit_modal(opened, {"answer": "80"})
        question = guyub.channel.last_message
        assert "keterangan" in question.content.lower()
        opened = await ani.click(question, label="✏️ Jawab")
        await ani.submit_modal(opened, {"answer": "Bawa kartu alumni"})
        await ani.click(guyub.channel.last_message, label="Bawaan (1 hari dan 1 jam sebelumnya)")
        await ani.click(guyub.channel.last_message, label="Sekali saja")
        summary = guyub.channel.last_message
        assert "Periksa sebelum disimpan" in summary.content
        await ani.click(summary, label="💾 Simpan")
        event = await Event.get(title="Temu alumni Aceh Utara")
        assert event.region_code == "11.08"
        assert event.place == "Aula Lhokseumawe"
        assert event.description == "Bawa kartu alumni"
        assert event.capacity == 80
        guild = guyub.adapter.client.get_guild(guyub.guild.id)
        assert guild is not None
        assert [e.name for e in guild.scheduled_events] == ["Temu alumni Aceh Utara"]
        assert guild.scheduled_events[0].status is discord.EventStatus.scheduled


async def test_all_options_given_needs_no_form(make_app) -> None:
    async with guyub_on_discord(make_app) as guyub:
        ani = await guyub.joins("ani", captain=True)
        await guyub.make_captain(ani, "11")
        result = await ani.slash(
            guyub.channel,
            "event new",
            title="Webinar modal usaha",
            start="besok jam 10.00",
            region="11",
        )
        assert result.modal is None
        assert "Maksud Anda" in guyub.channel.last_message.content
