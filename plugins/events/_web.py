"""The dashboard's Events pages: upcoming and past events with RSVPs, waitlists, check-ins
and attendance rate, the event's .ics, and the attendee CSV (for those who manage the
event's region, as ``/attendees`` in chat).

A captain sees national events and the events of their regions; another region's event
answers 403.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from core import App, Member
from core.web import (
    APP_KEY,
    DashboardPage,
    Viewer,
    dashboard_page,
    forbidden,
    language_of,
    render,
)

from ._commands import attendee_report
from ._render import event_ics, format_when
from ._service import GOING, SCHEDULED, counts, region_label
from .models import Checkin, Event, Rsvp

__all__ = ["pages", "routes"]


def _visible(viewer: Viewer, event: Event) -> bool:
    return not event.region_code or viewer.sees(event.region_code)


async def _manages(app: App, viewer: Viewer, event: Event) -> bool:
    return await app.roles.can_manage(viewer.member_id, event.region_code)


async def _figures(app: App, event: Event, lang: str) -> dict[str, Any]:
    tally = await counts(event.id)
    checked = set(await Checkin.filter(event_id=event.id).values_list("member_id", flat=True))
    going = set(
        await Rsvp.filter(event_id=event.id, status=GOING, waitlisted=False).values_list(
            "member_id", flat=True
        )
    )
    past = event.starts_at <= app.clock.now()
    showed = len(going & checked)
    return {
        "event": event,
        "when": format_when(event.starts_at, event.tz, lang, event.ends_at),
        "region": await region_label(app, event.region_code, lang),
        "tally": tally,
        "checked": len(checked),
        "showed": showed,
        # Attendance: of the members who said they would come, how many checked in.
        "rate": showed / len(going) if past and going else None,
        "past": past,
        "cancelled": event.status != SCHEDULED,
    }


@dashboard_page()
async def events_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    app = request.app[APP_KEY]
    lang = language_of(request)
    now = app.clock.now()
    upcoming = await Event.filter(starts_at__gt=now).order_by("starts_at").limit(300)
    past = await Event.filter(starts_at__lte=now).order_by("-starts_at").limit(300)
    return await render(
        request,
        "events.html",
        upcoming=[await _figures(app, e, lang) for e in upcoming if _visible(viewer, e)][:100],
        past=[await _figures(app, e, lang) for e in past if _visible(viewer, e)][:100],
    )


async def _event_or_refusal(
    request: web.Request, viewer: Viewer
) -> tuple[Event | None, web.StreamResponse | None]:
    raw = request.match_info["id"]
    event = await Event.get_or_none(id=int(raw)) if raw.isdigit() and len(raw) < 10 else None
    if event is None:
        raise web.HTTPNotFound()
    if not _visible(viewer, event):
        return None, await forbidden(request, viewer, region=event.region_code or None)
    return event, None


@dashboard_page()
async def event_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    app = request.app[APP_KEY]
    event, refusal = await _event_or_refusal(request, viewer)
    if refusal is not None:
        return refusal
    assert event is not None
    figures = await _figures(app, event, language_of(request))
    waitlist = await Rsvp.filter(event_id=event.id, waitlisted=True).order_by("created_at", "id")
    names = dict(
        await Member.filter(id__in=[r.member_id for r in waitlist]).values_list(
            "id", "display_name"
        )
    )
    return await render(
        request,
        "event.html",
        item=figures,
        manages=await _manages(app, viewer, event),
        waitlist=[names.get(r.member_id, f"#{r.member_id}") for r in waitlist],
    )


@dashboard_page()
async def event_ics_download(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    app = request.app[APP_KEY]
    event, refusal = await _event_or_refusal(request, viewer)
    if refusal is not None:
        return refusal
    assert event is not None
    response = web.Response(body=event_ics(event, app.clock.now()), content_type="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="event-{event.id}.ics"'
    return response


@dashboard_page()
async def attendees_download(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    app = request.app[APP_KEY]
    event, refusal = await _event_or_refusal(request, viewer)
    if refusal is not None:
        return refusal
    assert event is not None
    if not await _manages(app, viewer, event):
        return await forbidden(
            request, viewer, region=event.region_code or None, why="not the event's region"
        )
    report = await attendee_report(event, app.translator, language_of(request))
    await app.audit.record(
        "events.attendees_export",
        actor=viewer.member_id,
        target=f"event:{event.id}",
        region=event.region_code or None,
        via="web",
    )
    response = web.Response(body=report.csv, content_type="text/csv", charset="utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="attendees-{event.id}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


def routes() -> list[web.RouteDef]:
    return [
        web.get("/dasbor/events", events_page),
        web.get("/dasbor/events/{id}", event_page),
        web.get("/dasbor/events/{id}/event.ics", event_ics_download),
        web.get("/dasbor/events/{id}/attendees.csv", attendees_download),
    ]


def pages() -> list[DashboardPage]:
    return [DashboardPage("/dasbor/events", "events.web.nav", templates="plugins.events", order=30)]
