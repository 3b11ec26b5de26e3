"""An event cancelled or deleted in the server's Events list cancels the Guyub event:
reminders stop and the members who said they'd come are told (the adapter calls the hook
``guyub_on_calendar_event_cancelled``, the events plugin implements it)."""

from __future__ import annotations

import discord
from guyub_world import Guyub, guyub_on_discord

from core import Job
from plugins.events.models import Event


async def create_event(guyub: Guyub, captain, title: str) -> Event:  # type: ignore[no-untyped-def]
    await captain.slash(
        guyub.channel, "event new", title=title, start="besok jam 19.00", region="11.08"
    )
    for label in (
        "✅ Ya, benar",
        "Lewati",
        "Tanpa batas",
        "Lewati",
        "Bawaan (1 hari dan 1 jam sebelumnya)",
        "Sekali saja",
        "💾 Simpan",
    ):
        await captain.click(guyub.channel.last_message, label=label)
    return await Event.get(title=title)


async def pending_reminders(event: Event) -> int:
    return await Job.filter(
        status="pending", idempotency_key__startswith=f"events:{event.id}:remind:"
    ).count()


async def test_event_deleted_in_discord_is_cancelled_in_guyub(make_app) -> None:
    async with guyub_on_discord(make_app) as guyub:
        ani = await guyub.joins("ani", captain=True, manages_channels=True)
        await guyub.make_captain(ani, "11")
        await ani.slash(guyub.channel, "region_link", region="Aceh Utara")
        budi = await guyub.joins("budi")
        await guyub.registered(budi, "11.08")
        event = await create_event(guyub, ani, "Temu alumni")
        card = next(m for m in reversed(guyub.channel.history()) if "Temu alumni" in m.content)
        await budi.click(card, label="✅ Hadir")
        guild = guyub.adapter.client.get_guild(guyub.guild.id)
        assert guild is not None
        [mirror] = guild.scheduled_events
        assert await pending_reminders(event) > 0

        # A server manager deletes it in the Events list.
        guyub.env.backend.delete_scheduled_event(guyub.guild.id, mirror.id)
        await guyub.env.settle()

        await event.refresh_from_db()
        assert event.status == "cancelled"
        assert await pending_reminders(event) == 0
        # The notice to those who said they'd come goes out through the outbox.
        await guyub.app.outbox.run_due()
        await guyub.env.settle()
        told = budi.user.dm_channel.last_message
        assert told is not None
        assert "Temu alumni" in told.content
        assert "dibatalkan" in told.content


async def test_event_cancelled_in_discord_is_cancelled_in_guyub(make_app) -> None:
    async with guyub_on_discord(make_app) as guyub:
        ani = await guyub.joins("ani", captain=True, manages_channels=True)
        await guyub.make_captain(ani, "11")
        await ani.slash(guyub.channel, "region_link", region="Aceh Utara")
        await guyub.registered(ani, "11.08")
        event = await create_event(guyub, ani, "Webinar")
        guild = guyub.adapter.client.get_guild(guyub.guild.id)
        assert guild is not None
        [mirror] = guild.scheduled_events
        guyub.env.backend.edit_scheduled_event(
            guyub.guild.id, mirror.id, {"status": discord.EventStatus.cancelled.value}
        )
        await guyub.env.settle()
        await event.refresh_from_db()
        assert event.status == "cancelled"
        assert await pending_reminders(event) == 0
