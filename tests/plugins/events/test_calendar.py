"""Events mirrored in a platform's own calendar (Discord guild scheduled events): created
with the card, updated with the event, cancelled with it; platforms without one are left
alone."""

from __future__ import annotations

from datetime import UTC, datetime

from core import Capability
from core.testing import FakeChat

from .conftest import RegionsForTests
from .helpers import captain, create


async def test_calendar_follows_the_event(chat: FakeChat, regions: RegionsForTests) -> None:
    telegram, discord = chat.adapter("telegram"), chat.adapter("discord")
    telegram.capabilities = telegram.capabilities - {Capability.SCHEDULED_EVENTS}
    tg = chat.group("Aceh Utara", platform="telegram")
    dc = chat.group("Aceh Utara", platform="discord")
    regions.bind("11.08", tg, dc)
    kapten = await captain(chat, "kapten", "11.08")
    event = await create(chat, kapten, "Aceh Utara", "besok jam 19.00", title="Temu alumni")

    assert telegram.scheduled == {}
    assert len(discord.scheduled) == 1
    ((calendar_id, (where, spec, cancelled)),) = discord.scheduled.items()
    assert where == dc
    assert spec.title == "Temu alumni"
    assert spec.start == datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # 19:00 WIB
    assert spec.location == "Aula kantor bupati"
    assert not cancelled

    await kapten.says(f"/event_edit {event.id} title Temu alumni Aceh Utara")
    assert discord.scheduled[calendar_id][1].title == "Temu alumni Aceh Utara"

    await kapten.says(f"/event_edit {event.id} start Kamis 19.00")
    await kapten.presses("Ya, benar")
    assert discord.scheduled[calendar_id][1].start == datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

    await kapten.says(f"/event_cancel {event.id}")
    assert discord.scheduled[calendar_id][2] is True
    assert len(discord.scheduled) == 1


async def test_interested_in_the_calendar_counts_as_maybe(
    chat: FakeChat, regions: RegionsForTests
) -> None:
    from core import ScheduledEventInterest
    from plugins.events.models import Rsvp

    dc = chat.group("Aceh Utara", platform="discord")
    regions.bind("11.08", dc)
    kapten = await captain(chat, "kapten", "11.08", platform="discord")
    event = await create(chat, kapten, "Aceh Utara", "besok jam 19.00")
    (calendar_id,) = chat.adapter("discord").scheduled
    budi = chat.user("budi", platform="discord")

    async def interest(interested: bool) -> None:
        await chat.emit(
            ScheduledEventInterest(
                user=budi.sender,
                chat=dc,
                event_id=calendar_id,
                interested=interested,
                at=chat.now(),
            )
        )

    await interest(True)
    rsvp = await Rsvp.get(event_id=event.id)
    assert rsvp.status == "maybe"
    await chat.advance("5s")  # the card is edited at a calm rate
    (card,) = chat.sent_to(dc)
    assert "Mungkin: 1" in card.text
    await interest(False)
    await rsvp.refresh_from_db()
    assert rsvp.status == "no"
    await budi.presses("Hadir", dc)  # an answer on the card is never overridden
    await interest(True)
    await rsvp.refresh_from_db()
    assert rsvp.status == "going"
