"""Events: create them in your region, RSVP from any platform, get reminded, check in.

Captains create events for their regions (admins anywhere) with ``/event_new``; the card
goes to the region's groups on every platform with *Hadir / Mungkin / Tidak* buttons and
live counts. Reminders are durable scheduler jobs; check-in, an attendee CSV and an
``.ics`` file come with every event. Recurring events get one row per occurrence.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from tortoise.expressions import Q

from core import (
    Action,
    App,
    Command,
    Context,
    Flow,
    JobKind,
    Member,
    ModelModule,
    Param,
    ParamType,
    PluginInfo,
    Role,
    ScheduledEventInterest,
    hookimpl,
    load_texts,
)

from . import _commands as c
from . import _web
from ._render import format_when
from ._service import (
    ANNOUNCE_KIND,
    GOING,
    REFRESH_KIND,
    REMIND_KIND,
    SCHEDULED,
    promote,
    rank,
    run_announce,
    run_refresh,
    run_reminder,
)
from .models import Checkin, Event, ReminderSent, Rsvp, Series

PLUGIN = PluginInfo(
    name="events",
    version="0.1.0",
    description="Events with RSVPs, durable reminders, check-in, .ics and CSV",
)

_EVENT = Param(
    "event",
    ParamType.STRING,
    description="events.param.event",
    autocomplete="events",
    alias="acara",
)


@hookimpl
def guyub_register_commands() -> list[Command]:
    return [
        Command(
            "event_new",
            c.event_new,
            "events.cmd.new",
            alias="acara_baru",
            role=Role.CAPTAIN,
            group="event",
            subname="new",
            group_alias="acara",
            subalias="baru",
            params=(
                Param("title", required=False, description="events.param.title", alias="judul"),
                Param("start", required=False, description="events.param.start", alias="mulai"),
                Param(
                    "region",
                    required=False,
                    description="events.param.region",
                    alias="wilayah",
                    autocomplete="regions",
                ),
                Param("place", required=False, description="events.param.place", alias="tempat"),
                Param(
                    "capacity",
                    ParamType.INT,
                    required=False,
                    description="events.param.capacity",
                    alias="kapasitas",
                ),
                Param(
                    "reminders",
                    required=False,
                    description="events.param.reminders",
                    alias="pengingat",
                ),
                Param(
                    "description",
                    ParamType.TEXT,
                    required=False,
                    description="events.param.description",
                    alias="keterangan",
                ),
            ),
        ),
        Command(
            "events",
            c.events_list,
            "events.cmd.list",
            alias="acara",
            group="event",
            subname="list",
            group_alias="acara",
            subalias="daftar",
        ),
        Command(
            "event_edit",
            c.event_edit,
            "events.cmd.edit",
            alias="acara_ubah",
            role=Role.CAPTAIN,
            group="event",
            subname="edit",
            group_alias="acara",
            subalias="ubah",
            params=(
                _EVENT,
                Param(
                    "field",
                    ParamType.CHOICE,
                    description="events.param.field",
                    alias="isian",
                    choices=("title", "start", "place", "capacity", "description", "reminders"),
                    choice_aliases=(
                        ("judul", "title"),
                        ("nama", "title"),
                        ("mulai", "start"),
                        ("waktu", "start"),
                        ("jadwal", "start"),
                        ("tempat", "place"),
                        ("lokasi", "place"),
                        ("kapasitas", "capacity"),
                        ("kuota", "capacity"),
                        ("keterangan", "description"),
                        ("deskripsi", "description"),
                        ("pengingat", "reminders"),
                    ),
                ),
                Param("value", ParamType.TEXT, description="events.param.value", alias="nilai"),
            ),
        ),
        Command(
            "event_cancel",
            c.event_cancel,
            "events.cmd.cancel",
            alias="acara_batal",
            role=Role.CAPTAIN,
            group="event",
            subname="cancel",
            group_alias="acara",
            subalias="batal",
            params=(
                _EVENT,
                Param(
                    "scope",
                    ParamType.CHOICE,
                    required=False,
                    description="events.param.scope",
                    alias="cakupan",
                    choices=("one", "all"),
                    choice_aliases=(("ini", "one"), ("satu", "one"), ("semua", "all")),
                ),
            ),
        ),
        Command(
            "event_ics",
            c.event_ics_command,
            "events.cmd.ics",
            alias="acara_ics",
            group="event",
            subname="ics",
            group_alias="acara",
            subalias="ics",
            params=(_EVENT,),
        ),
        Command(
            "attendees",
            c.attendees,
            "events.cmd.attendees",
            alias="peserta",
            role=Role.CAPTAIN,
            group="event",
            subname="attendees",
            group_alias="acara",
            subalias="peserta",
            params=(_EVENT,),
        ),
        Command(
            "checkin_open",
            c.checkin_open,
            "events.cmd.checkin_open",
            alias="buka_absen",
            role=Role.CAPTAIN,
            group="event",
            subname="checkin_open",
            group_alias="acara",
            subalias="buka_absen",
            params=(
                _EVENT,
                Param(
                    "minutes",
                    ParamType.INT,
                    required=False,
                    description="events.param.minutes",
                    alias="menit",
                ),
            ),
        ),
        Command(
            "checkin",
            c.checkin,
            "events.cmd.checkin",
            alias="absen",
            group="event",
            subname="checkin",
            group_alias="acara",
            subalias="absen",
            params=(Param("code", description="events.param.code", alias="kode"),),
        ),
    ]


@hookimpl
def guyub_register_actions() -> list[Action]:
    return [
        Action("events:rsvp", c.rsvp_button),
        Action("events:ics", c.ics_button),
        Action("events:flow", c.flow_button),
        Action("events:new_form", c.new_form),
        Action("events:answer", c.answer_button),
        Action("events:answered", c.answered),
        Action("events:move", c.move_button),
        Action("events:checkin", c.checkin_button),
    ]


@hookimpl
def guyub_register_flows() -> list[Flow]:
    # Captains may create events in a group.
    return [Flow(c.FLOW, c.flow_text, groups=True, asks=c.FLOW_STEPS)]


@hookimpl
def guyub_register_jobs() -> list[JobKind]:
    # No late_after here: a late reminder is still useful until the event starts, and the
    # handler checks exactly that (the start time can move after the job was made).
    return [
        JobKind(REMIND_KIND, run_reminder),
        JobKind(ANNOUNCE_KIND, run_announce),
        JobKind(REFRESH_KIND, run_refresh, max_attempts=2),
    ]


@hookimpl
def guyub_register_models() -> list[ModelModule]:
    return [ModelModule("events", ("plugins.events.models",), "plugins.events.migrations")]


class EventsSettings(BaseModel):
    """``[events]`` settings."""

    model_config = ConfigDict(extra="forbid")

    #: Cards are edited at most about once per this many seconds (0: on every RSVP).
    card_refresh_seconds: float = Field(default=3.0, ge=0, le=300)


@hookimpl
def guyub_register_settings() -> type[EventsSettings]:
    return EventsSettings


@hookimpl
def guyub_register_texts() -> dict[str, dict[str, str]]:
    return load_texts(__name__)


# --- other plugins' questions -----------------------------------------------------------


@hookimpl
async def guyub_resolve_completions(
    source: str, text: str, ctx: Context | None
) -> list[tuple[str, str]] | None:
    if source != "events":
        return None
    now = ctx.now() if ctx is not None else None
    query = Event.filter(status=SCHEDULED)
    if now is not None:
        query = query.filter(starts_at__gt=now)
    wanted = text.strip().lstrip("#")
    if wanted.isdigit():
        query = query.filter(Q(id=int(wanted)) | Q(title__icontains=wanted))
    elif wanted:
        query = query.filter(title__icontains=wanted)
    lang = ctx.lang if ctx is not None else "id"
    events = await query.order_by("starts_at", "id").limit(25)
    return [
        (f"#{e.id} {e.title} · {format_when(e.starts_at, e.tz, lang)}"[:100], str(e.id))
        for e in events
    ]


# --- privacy ----------------------------------------------------------------------------


@hookimpl
async def guyub_export_member(member: Member) -> dict[str, Any] | None:
    rsvps = await Rsvp.filter(member_id=member.id).prefetch_related("event")
    checkins = await Checkin.filter(member_id=member.id).prefetch_related("event")
    created = await Event.filter(created_by_id=member.id).values_list("id", flat=True)
    if not rsvps and not checkins and not created:
        return None
    return {
        "rsvps": [
            {
                "event": r.event_id,
                "title": r.event.title,
                "starts_at": r.event.starts_at.isoformat(),
                "status": r.status,
                "waitlisted": r.waitlisted,
                "answered_at": r.updated_at.isoformat(),
            }
            for r in rsvps
        ],
        "checkins": [
            {"event": ch.event_id, "title": ch.event.title, "at": ch.at.isoformat()}
            for ch in checkins
        ],
        "events_created": list(created),
    }


@hookimpl
async def guyub_forget_member(member: Member) -> None:
    # Seats they held go to the waitlist; the events they created stay (they are the
    # community's), without the creator's id.
    held = await Rsvp.filter(member_id=member.id, status=GOING, waitlisted=False).values_list(
        "event_id", flat=True
    )
    await Rsvp.filter(member_id=member.id).delete()
    await Checkin.filter(member_id=member.id).delete()
    await ReminderSent.filter(target__endswith=f":member:{member.id}").delete()
    await Event.filter(created_by_id=member.id).update(created_by_id=None)
    await Series.filter(created_by_id=member.id).update(created_by_id=None)
    for event in await Event.filter(id__in=list(held)):
        await promote(event, event.starts_at)


@hookimpl
async def guyub_on_members_merged(app: App, kept: Member, merged: Member) -> None:
    """One RSVP per member and event: when both answered, the stronger answer stays
    (going over maybe over no, a seat over the waitlist)."""
    mine = {r.event_id: r for r in await Rsvp.filter(member_id=kept.id)}
    for theirs in await Rsvp.filter(member_id=merged.id):
        ours = mine.get(theirs.event_id)
        if ours is None:
            theirs.member_id = kept.id
            await theirs.save(update_fields=["member_id"])
            continue
        ours_key = (rank(ours.status), not ours.waitlisted)
        theirs_key = (rank(theirs.status), not theirs.waitlisted)
        if theirs_key > ours_key:
            await ours.delete()
            theirs.member_id = kept.id
            await theirs.save(update_fields=["member_id"])
        else:
            await theirs.delete()
    have = set(await Checkin.filter(member_id=kept.id).values_list("event_id", flat=True))
    await Checkin.filter(member_id=merged.id, event_id__in=list(have)).delete()
    await Checkin.filter(member_id=merged.id).update(member_id=kept.id)
    await Event.filter(created_by_id=merged.id).update(created_by_id=kept.id)
    await Series.filter(created_by_id=merged.id).update(created_by_id=kept.id)


# --- reporting --------------------------------------------------------------------------


@hookimpl
async def guyub_collect_stats(
    region_codes: Sequence[str] | None, app: App
) -> dict[str, Any] | None:
    query = Event.all()
    if region_codes is not None:
        condition = Q(id=-1)
        for code in region_codes:
            condition |= Q(region_code=code) | Q(region_code__startswith=f"{code}.")
        query = query.filter(condition)
    events = await query
    now = app.clock.now()
    ids = [e.id for e in events if e.status == SCHEDULED]
    past = [e.id for e in events if e.status == SCHEDULED and e.starts_at <= now]
    going_past = set(
        await Rsvp.filter(event_id__in=past, status=GOING, waitlisted=False).values_list(
            "event_id", "member_id"
        )
    )
    checked = set(await Checkin.filter(event_id__in=past).values_list("event_id", "member_id"))
    # Turnout: of the members who said they would come, how many checked in.
    showed = len(going_past & checked)
    return {
        "events": len(ids),
        "upcoming": sum(1 for e in events if e.status == SCHEDULED and e.starts_at > now),
        "cancelled": sum(1 for e in events if e.status != SCHEDULED),
        "rsvps_going": await Rsvp.filter(event_id__in=ids, status=GOING, waitlisted=False).count(),
        "checkins": len(checked),
        "turnout_percent": round(100 * showed / len(going_past)) if going_past else None,
    }


@hookimpl
async def guyub_on_scheduled_event_interest(ctx: Context, event: ScheduledEventInterest) -> None:
    await c.calendar_interest(ctx, event)


@hookimpl
def guyub_register_web() -> list[Any]:
    return list(_web.routes())


@hookimpl
def guyub_register_dashboard() -> list[Any]:
    return list(_web.pages())


@hookimpl
async def guyub_on_calendar_event_cancelled(app: App, platform: str, event_id: str) -> None:
    await c.calendar_cancelled(app, platform, event_id)
