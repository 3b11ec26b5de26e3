"""The dashboard's Events pages: RSVPs, waitlist, check-ins and attendance as the chat counts
them, the .ics, and the attendee CSV equal to the one /attendees sends in chat."""

from __future__ import annotations

import re
from datetime import timedelta

from core import AuditEntry
from plugins.events.models import Checkin, Event, Rsvp
from tests.core.web.dashboard_kit import (
    browser,
    make_admin,
    make_captain,
    seed_members,
    served,
    sign_in,
)


async def _event(s, region: str, *, days: int, title: str = "Temu alumni") -> Event:  # type: ignore[no-untyped-def]
    return await Event.create(
        title=title,
        region_code=region,
        starts_at=s.chat.now() + timedelta(days=days),
        tz="Asia/Jakarta",
        capacity=3,
    )


async def test_event_figures_and_downloads_match_the_chat() -> None:
    async with served() as s:
        pmo = s.chat.user("pmo")
        await make_admin(s, pmo)
        await seed_members(s.chat.now(), {"11.08": (6, 6)})
        past = await _event(s, "11.08", days=-1)
        soon = await _event(s, "11.08", days=5, title="Diskusi kelompok")
        ids = list(range(2, 8))  # the seeded members (pmo is #1)
        now = s.chat.now()
        for i, member_id in enumerate(ids):
            status = "going" if i < 4 else "maybe"
            await Rsvp.create(
                event_id=past.id,
                member_id=member_id,
                status=status,
                waitlisted=i == 3,
                created_at=now,
                updated_at=now,
            )
        for member_id in ids[:2]:
            await Checkin.create(event_id=past.id, member_id=member_id, at=now)
        async with browser() as http:
            await sign_in(s, pmo, http)
            async with http.get(f"{s.url}/dasbor/events") as page:
                html = await page.text()
            assert f'data-event="{soon.id}"' in html
            assert f'data-event="{past.id}"' in html
            async with http.get(f"{s.url}/dasbor/events/{past.id}") as page:
                html = await page.text()
            assert re.search(r'id="going">3<', html)
            assert re.search(r'id="waitlist">1<', html)
            assert re.search(r'id="checked">2<', html)
            assert re.search(r'id="rate">67%<', html)  # 2 of the 3 going checked in
            async with http.get(f"{s.url}/dasbor/events/{past.id}/event.ics") as download:
                assert b"BEGIN:VCALENDAR" in await download.read()
            async with http.get(f"{s.url}/dasbor/events/{past.id}/attendees.csv") as download:
                web_csv = await download.read()
        await pmo.says(f"/attendees {past.id}")
        sent = s.chat.last(pmo)
        (attachment,) = sent.attachments
        assert attachment.data == web_csv
        assert await AuditEntry.filter(action="events.attendees_export").count() == 1


async def test_captain_sees_own_and_national_events_only() -> None:
    async with served() as s:
        cut = s.chat.user("cut")
        await make_captain(s, cut, "11.08")
        own = await _event(s, "11.08", days=2)
        national = await _event(s, "", days=3)
        other = await _event(s, "11.11", days=4)
        async with browser() as http:
            await sign_in(s, cut, http)
            async with http.get(f"{s.url}/dasbor/events") as page:
                html = await page.text()
            assert f'data-event="{own.id}"' in html
            assert f'data-event="{national.id}"' in html
            assert f'data-event="{other.id}"' not in html
            async with http.get(f"{s.url}/dasbor/events/{own.id}/attendees.csv") as page:
                assert page.status == 200
            for url in (
                f"/dasbor/events/{other.id}",
                f"/dasbor/events/{other.id}/event.ics",
                f"/dasbor/events/{national.id}/attendees.csv",
            ):
                async with http.get(f"{s.url}{url}") as page:
                    assert page.status == 403, url
