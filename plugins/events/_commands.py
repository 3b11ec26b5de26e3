"""Commands, buttons and the step-by-step creation flow of the events plugin."""

from __future__ import annotations

import itertools
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core import (
    App,
    Attachment,
    AttachmentKind,
    Button,
    Capability,
    Context,
    Form,
    FormField,
    Markup,
    Member,
    Message,
    PermissionDenied,
    RegionInfo,
    ScheduledEventInterest,
    Translator,
    Unreachable,
    UsageError,
    format_duration,
    format_moment,
    parse_duration,
    parse_id,
    zone_abbreviation,
)

from ._dates import DateError, Parsed, parse_day, parse_when
from ._render import attendees_csv, event_ics, format_day, format_when
from ._service import (
    ANNOUNCE_KIND,
    CANCELLED,
    GOING,
    MAYBE,
    NO,
    SCHEDULED,
    STATUSES,
    Counts,
    announce,
    cancel_reminders,
    card_chats,
    card_message,
    chat_data,
    counts,
    notify_rsvps,
    promote,
    refresh_cards,
    region_label,
    remember_card,
    request_refresh,
    schedule_reminders,
    set_rsvp,
    sync_calendar,
    upcoming_for,
)
from .models import Card, Checkin, Event, Rsvp, Series

log = logging.getLogger(__name__)

FLOW = "events:new"
DEFAULT_REMINDERS = [1440, 60]
MAX_OCCURRENCES = 52
_STEPS = (
    "title",
    "region",
    "start",
    "place",
    "capacity",
    "description",
    "reminders",
    "repeat",
    "until",
)
#: Every step the creation flow may wait at: the questions, the check of a start time
#: read from words ("start_ok") and the summary ("confirm").
FLOW_STEPS = (*_STEPS[:3], "start_ok", *_STEPS[3:], "confirm")
_NATIONAL = {"nasional", "national", "indonesia", "semua", "all"}
_OFFSET = re.compile(r"(\d+)\s*(d|h|m|hari|jam|menit|mnt)\b", re.IGNORECASE)
_REPEATS = {
    "none": "none",
    "sekali": "none",
    "once": "none",
    "weekly": "weekly",
    "mingguan": "weekly",
    "monthly": "monthly",
    "bulanan": "monthly",
}


def _member(ctx: Context) -> Member:
    if ctx.member is None:
        raise PermissionDenied()
    return ctx.member


# --- creating: /event_new and its flow --------------------------------------------------


async def event_new(
    ctx: Context,
    title: str | None = None,
    start: str | None = None,
    region: str | None = None,
    place: str | None = None,
    capacity: int | None = None,
    reminders: str | None = None,
    description: str | None = None,
) -> None:
    """Start creating an event; options given on the command (Discord) skip their steps.

    Where the platform has forms (Discord), a missing title or start is asked in one form
    with the place and description, never by typed replies (Discord servers don't show
    the bot what members type)."""
    assert ctx.chat is not None
    if (title is None or start is None) and await _show_new_form(
        ctx,
        title=title,
        start=start,
        region=region,
        place=place,
        capacity=capacity,
        reminders=reminders,
        description=description,
    ):
        return
    await ctx.start_flow(FLOW, "title", origin=chat_data(ctx.chat))
    await ctx.reply(ctx.t("events.new.intro"))
    given: list[tuple[str, Any]] = [
        ("title", title),
        ("region", region),
        ("place", place),
        ("capacity", capacity),
        ("description", description),
        ("reminders", reminders),
        ("start", start),  # last: the parsed date is confirmed with buttons
    ]
    for step, value in given:
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        await ctx.set_step(step)
        if not await _accept(ctx, step, str(value)):
            return
        if step == "start":
            return
    await _ask_next(ctx)


_FORM_FIELDS = ("title", "start", "place", "description")


async def _show_new_form(ctx: Context, **given: Any) -> bool:
    fields = tuple(
        FormField(
            name,
            str(ctx.t(f"events.form.{name}")),
            long=name == "description",
            required=name in ("title", "start"),
            max_length=2000 if name == "description" else 300,
        )
        for name in _FORM_FIELDS
        if given.get(name) is None
    )
    kept = {k: v for k, v in given.items() if v is not None}  # the form asks the others
    form = Form(str(ctx.t("events.form.new")), fields, action="events:new_form", data=kept)
    return await ctx.show_form(form)


async def new_form(ctx: Context, data: dict[str, Any]) -> None:
    """The event form was sent: carry on as ``/event new`` with those options."""
    answers = {k: v for k, v in dict(data.pop("form", {})).items() if str(v).strip()}
    options = {**data, **answers}
    capacity = options.get("capacity")
    await event_new(
        ctx,
        title=options.get("title") or "",
        start=options.get("start") or "",
        region=options.get("region"),
        place=options.get("place"),
        capacity=int(capacity) if capacity is not None else None,
        reminders=options.get("reminders"),
        description=options.get("description"),
    )


#: Steps answered by typing; where forms exist each question has a button opening one.
_TYPED_STEPS = frozenset(
    ("title", "region", "start", "place", "capacity", "description", "reminders", "until")
)


def _answer_button(ctx: Context, step: str) -> Button | None:
    if step not in _TYPED_STEPS or not ctx.supports(Capability.MODALS):
        return None
    return Button(
        str(ctx.t("events.button.answer")),
        "events:answer",
        {"step": step},
        only_for=_member(ctx).id,
    )


async def answer_button(ctx: Context, data: dict[str, Any]) -> None:
    """Open a one-field form for the question of the current step."""
    step = str(data.get("step", ""))
    conversation = ctx.conversation
    current = conversation.step if conversation is not None else None
    if current == "start_ok":
        current = "start"
    if conversation is None or conversation.flow != FLOW or current != step:
        await ctx.reply(ctx.t("core.error.button_expired"), private=True)
        return
    field = FormField(
        "answer",
        str(ctx.t(f"events.form.{step}")),
        long=step == "description",
        max_length=2000 if step == "description" else 300,
    )
    form = Form(str(ctx.t("events.form.new")), (field,), "events:answered", {"step": step})
    if not await ctx.show_form(form):
        await _ask(ctx, step)


async def answered(ctx: Context, data: dict[str, Any]) -> None:
    """A one-field form was sent: the same as typing the answer."""
    conversation = ctx.conversation
    current = conversation.step if conversation is not None else None
    if current == "start_ok":
        current = "start"
    if conversation is None or conversation.flow != FLOW or current != data.get("step"):
        await ctx.reply(ctx.t("core.error.button_expired"), private=True)
        return
    await flow_text(ctx, str(dict(data.get("form") or {}).get("answer", "")))


async def flow_text(ctx: Context, text: str) -> None:
    """A plain message while creating an event answers the current step."""
    assert ctx.conversation is not None
    step = ctx.conversation.step
    if step == "confirm":
        await ctx.reply(ctx.t("events.new.press_a_button"))
        return
    if step == "start_ok":
        step = "start"
        await ctx.set_step("start")
    if await _accept(ctx, step, text) and step != "start":
        await _ask_next(ctx)


async def flow_button(ctx: Context, data: dict[str, Any]) -> None:
    """A button of the creation flow (region choice, skip, yes, save...)."""
    conversation = ctx.conversation
    if conversation is None or conversation.flow != FLOW or conversation.step != data["step"]:
        await ctx.reply(ctx.t("core.error.button_expired"), private=True)
        return
    step, value = data["step"], data["value"]
    if step == "start_ok":
        if value == "yes":
            await ctx.set_step("place")
            await _ask_next(ctx)
        else:
            await ctx.set_step("start", start=None)
            await _ask(ctx, "start")
        return
    if step == "confirm":
        if value == "save":
            await _save(ctx)
        else:
            await ctx.end_flow()
            await ctx.reply(ctx.t("events.new.cancelled"))
        return
    if await _accept(ctx, step, value, button=True) and step != "start":
        await _ask_next(ctx)


def _flow_button(ctx: Context, label: str, step: str, value: str) -> Button:
    return Button(label, "events:flow", {"step": step, "value": value}, only_for=_member(ctx).id)


async def _accept(ctx: Context, step: str, text: str, *, button: bool = False) -> bool:
    """Validate and store one answer; on bad input reply why and stay on the step."""
    text = text.strip()
    if step == "title":
        if not 3 <= len(text) <= 200:
            await ctx.reply(ctx.t("events.new.bad_title"))
            return False
        await ctx.set_step(step, title=text)
    elif step == "region":
        region = await _resolve_region(ctx, text)
        if region is None:
            return False
        await ctx.set_step(step, region=region)
    elif step == "start":
        return await _accept_start(ctx, text)
    elif step == "place":
        await ctx.set_step(step, place="" if button else text[:300])
    elif step == "capacity":
        if button:
            await ctx.set_step(step, capacity=None)
        elif not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 100_000:
            await ctx.reply(ctx.t("events.new.bad_capacity"))
            return False
        else:
            await ctx.set_step(step, capacity=int(text))
    elif step == "description":
        await ctx.set_step(step, description="" if button else text[:2000])
    elif step == "reminders":
        minutes = DEFAULT_REMINDERS if button else _parse_offsets(text)
        if minutes is None:
            await ctx.reply(ctx.t("events.new.bad_reminders"))
            return False
        await ctx.set_step(step, reminders=minutes)
    elif step == "repeat":
        repeat = _REPEATS.get(text.lower())
        if repeat is None:
            await ctx.reply(ctx.t("events.new.bad_repeat"))
            return False
        extra: dict[str, Any] = {"until": None} if repeat == "none" else {}
        await ctx.set_step(step, repeat=repeat, **extra)
    elif step == "until":
        assert ctx.conversation is not None
        data = ctx.conversation.data
        try:
            until = parse_day(text, data["zone"], ctx.now())
        except DateError as exc:
            await ctx.reply(_date_refusal(ctx, exc, text))
            return False
        if until <= datetime.fromisoformat(data["start"]):
            await ctx.reply(ctx.t("events.new.bad_until"))
            return False
        await ctx.set_step(step, until=until.isoformat())
    return True


async def _resolve_region(ctx: Context, text: str) -> str | None:
    """A region code the member may manage, "" for national, or None (and a reply)."""
    member = _member(ctx)
    if text.lower() in _NATIONAL or text == "-":
        code = ""
    else:
        found: RegionInfo | None = None
        if re.fullmatch(r"\d{2}(\.\d{2}){0,3}", text):
            found = await ctx.regions.get(text)
        if found is None:
            match = await ctx.regions.match(text)
            if match.certain and match.best is not None:
                found = match.best
            elif match.candidates:
                buttons = [
                    _flow_button(ctx, f"{c.name} ({c.code})", "region", c.code)
                    for c in match.candidates[:8]
                ]
                await ctx.reply(ctx.t("events.new.region_pick", text=text), buttons=buttons)
                return None
        if found is None:
            await ctx.reply(ctx.t("events.new.region_unknown", text=text))
            return None
        code = found.code
    if not await ctx.roles.can_manage(member.id, code):
        label = await region_label(ctx.app, code, ctx.lang)
        await ctx.reply(ctx.t("events.error.not_your_region", region=label))
        return None
    return code


async def _zone_for(ctx: Context, region: str) -> str:
    """Dates are read in the event's region zone, else the captain's own."""
    if region:
        return await ctx.regions.timezone(region)
    return await ctx.regions.timezone(_member(ctx).region_code)


async def _accept_start(ctx: Context, text: str) -> bool:
    assert ctx.conversation is not None
    zone = await _zone_for(ctx, ctx.conversation.data.get("region", ""))
    try:
        parsed = parse_when(text, zone, ctx.now())
    except DateError as exc:
        await ctx.reply(_date_refusal(ctx, exc, text))
        return False
    await ctx.set_step(
        "start_ok",
        start=parsed.start.isoformat(),
        end=parsed.end.isoformat() if parsed.end else None,
        zone=parsed.zone,
    )
    when = format_when(parsed.start, parsed.zone, ctx.lang, parsed.end)
    await ctx.reply(
        _with_assumption(ctx, ctx.t("events.new.start_check", when=when), parsed),
        buttons=[
            [
                _flow_button(ctx, str(ctx.t("events.button.yes")), "start_ok", "yes"),
                _flow_button(ctx, str(ctx.t("events.button.retype")), "start_ok", "no"),
            ]
        ],
    )
    return True


def _date_refusal(ctx: Context, exc: DateError, text: str) -> Markup:
    """Why a typed time was refused, in the member's language."""
    return ctx.t(f"events.date.{exc.reason}", text=text, **exc.details)


def _with_assumption(ctx: Context, question: Markup, parsed: Parsed) -> Markup:
    """The confirmation question, with a note when the part of day was guessed."""
    if parsed.assumed is None:
        return question
    part = ctx.t(f"events.part.{parsed.assumed}")
    return Markup("\n").join([question, ctx.t("events.date.assumed", part=part)])


def _parse_offsets(text: str) -> list[int] | None:
    lowered = text.lower().strip()
    if lowered in {"0", "tidak", "tidak ada", "none", "no"}:
        return []
    found = [m.group(0) for m in _OFFSET.finditer(lowered)]
    if not found:
        return None
    minutes = sorted({int(parse_duration(f).total_seconds() // 60) for f in found}, reverse=True)
    if any(m <= 0 or m > 60 * 24 * 60 for m in minutes):
        return None
    return minutes[:5]


async def _ask_next(ctx: Context) -> None:
    assert ctx.conversation is not None
    data = ctx.conversation.data
    for step in _STEPS:
        if step == "until" and data.get("repeat") in (None, "none"):
            continue
        if data.get(step, ...) is ... or (step == "start" and not data.get("start")):
            await ctx.set_step(step)
            await _ask(ctx, step)
            return
    await ctx.set_step("confirm")
    await ctx.reply(
        await _summary(ctx, data),
        buttons=[
            [
                _flow_button(ctx, str(ctx.t("events.button.save")), "confirm", "save"),
                _flow_button(ctx, str(ctx.t("events.button.discard")), "confirm", "cancel"),
            ]
        ],
    )


async def _ask(ctx: Context, step: str) -> None:
    buttons: list[Button] = []
    if step == "region":
        member = _member(ctx)
        scopes = await ctx.roles.captain_scopes(member.id)
        codes = [s for s in scopes if s][:5]
        if (
            member.region_code
            and member.region_code not in codes
            and await ctx.roles.can_manage(member.id, member.region_code)
        ):
            codes.insert(0, member.region_code)
        for code in codes:
            buttons.append(_flow_button(ctx, await ctx.regions.name(code), "region", code))
        if await ctx.roles.can_manage(member.id, ""):
            buttons.append(_flow_button(ctx, str(ctx.t("events.national")), "region", "nasional"))
    elif step in ("place", "description"):
        buttons.append(_flow_button(ctx, str(ctx.t("events.button.skip")), step, "skip"))
    elif step == "capacity":
        buttons.append(_flow_button(ctx, str(ctx.t("events.button.unlimited")), step, "none"))
    elif step == "reminders":
        buttons.append(
            _flow_button(ctx, str(ctx.t("events.button.default_reminders")), step, "default")
        )
    elif step == "repeat":
        for value in ("none", "weekly", "monthly"):
            buttons.append(_flow_button(ctx, str(ctx.t(f"events.repeat.{value}")), step, value))
    answer = _answer_button(ctx, step)
    if answer is not None:
        buttons.insert(0, answer)
    zone = ""
    if step == "start" and ctx.conversation is not None:
        zone = zone_abbreviation(await _zone_for(ctx, ctx.conversation.data.get("region", "")))
    await ctx.reply(ctx.t(f"events.ask.{step}", zone=zone), buttons=[buttons] if buttons else ())


async def _summary(ctx: Context, data: dict[str, Any]) -> Markup:
    start = datetime.fromisoformat(data["start"])
    end = datetime.fromisoformat(data["end"]) if data.get("end") else None
    lines = [
        ctx.t("events.new.summary_title"),
        ctx.t("events.card.title", title=data["title"]),
        ctx.t("events.card.when", when=format_when(start, data["zone"], ctx.lang, end)),
        ctx.t("events.card.region", region=await region_label(ctx.app, data["region"], ctx.lang)),
    ]
    if data.get("place"):
        lines.append(ctx.t("events.card.place", place=data["place"]))
    capacity = data.get("capacity")
    lines.append(
        ctx.t(
            "events.new.summary_capacity",
            capacity=capacity if capacity else ctx.t("events.new.unlimited"),
        )
    )
    lines.append(ctx.t("events.new.summary_reminders", reminders=_reminders_text(ctx, data)))
    if data.get("repeat") not in (None, "none"):
        until = datetime.fromisoformat(data["until"])
        lines.append(
            ctx.t(
                "events.new.summary_repeat",
                repeat=ctx.t(f"events.repeat.{data['repeat']}"),
                until=format_day(until, data["zone"], ctx.lang),
                count=len(_occurrences(start, data)),
            )
        )
    return Markup("\n").join(lines)


def _reminders_text(ctx: Context, data: dict[str, Any]) -> str:
    """``1 hari sebelumnya dan 1 jam sebelumnya``: each reminder on its own, so that two
    reminders never read as one ("2 jam, 15 menit sebelum")."""
    items = [
        str(
            ctx.t(
                "events.new.reminder_before",
                offset=format_duration(timedelta(minutes=m), ctx.app.translator, ctx.lang),
            )
        )
        for m in data.get("reminders") or []
    ]
    if not items:
        return str(ctx.t("events.new.no_reminders"))
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} {ctx.t('events.new.and')} {items[-1]}"


def _occurrences(start: datetime, data: dict[str, Any]) -> list[datetime]:
    """The start of every occurrence (local wall time kept, so 19:00 stays 19:00)."""
    repeat = data.get("repeat") or "none"
    if repeat == "none":
        return [start]
    until = datetime.fromisoformat(data["until"])
    out: list[datetime] = []
    k = 0
    while len(out) < MAX_OCCURRENCES:
        if repeat == "weekly":
            when = start + timedelta(weeks=k)
        else:
            month = start.month - 1 + k
            try:
                when = start.replace(year=start.year + month // 12, month=month % 12 + 1)
            except ValueError:  # the 31st in a shorter month: skip that month
                k += 1
                continue
        if when > until:
            break
        out.append(when)
        k += 1
    return out


async def _save(ctx: Context) -> None:
    assert ctx.conversation is not None
    data = dict(ctx.conversation.data)
    member = _member(ctx)
    await _require_region(ctx, data["region"])  # roles may have changed since the first step
    start = datetime.fromisoformat(data["start"])
    if start <= ctx.now():
        await ctx.set_step("start", start=None)
        await ctx.reply(ctx.t("events.date.past", text=format_when(start, data["zone"], ctx.lang)))
        await _ask(ctx, "start")
        return
    end = datetime.fromisoformat(data["end"]) if data.get("end") else None
    starts = _occurrences(start, data)
    series = None
    if len(starts) > 1 or data.get("repeat") not in (None, "none"):
        series = await Series.create(
            frequency=data["repeat"],
            until=datetime.fromisoformat(data["until"]),
            created_by_id=member.id,
        )
    events: list[Event] = []
    for when in starts:
        event = await Event.create(
            title=data["title"],
            description=data.get("description") or "",
            place=data.get("place") or "",
            region_code=data["region"],
            starts_at=when,
            ends_at=end + (when - start) if end else None,
            tz=data["zone"],
            capacity=data.get("capacity"),
            reminder_minutes=list(data.get("reminders") or []),
            series=series,
            created_by_id=member.id,
            details={"origin": data["origin"]},
        )
        await schedule_reminders(ctx.app, event)
        events.append(event)
    # Each later occurrence is announced when the one before it starts.
    for previous, following in itertools.pairwise(events):
        await ctx.scheduler.schedule(
            ANNOUNCE_KIND,
            previous.starts_at,
            {"event": following.id},
            key=f"events:{following.id}:announce",
        )
    await ctx.end_flow()
    first = events[0]
    await ctx.audit(
        "events.create",
        target=f"event:{first.id}",
        region=first.region_code or None,
        title=first.title,
        occurrences=len(events),
    )
    posted = await announce(ctx.app, first)
    assert ctx.chat is not None
    if ctx.chat.is_dm:
        ref = await ctx.reply(await card_message(ctx.app, first, ctx.lang))
        if ref is not None:
            await remember_card(first, ref)
    await ctx.reply(ctx.t("events.new.saved", id=first.id, groups=posted, occurrences=len(events)))


# --- RSVPs and the card's buttons -------------------------------------------------------


async def rsvp_button(ctx: Context, data: dict[str, Any]) -> None:
    member = _member(ctx)
    status = data.get("status")
    event = await Event.get_or_none(id=data.get("event"))
    if status not in STATUSES or event is None:
        await ctx.reply(ctx.t("core.error.button_expired"), private=True)
        return
    if event.status != SCHEDULED or event.starts_at <= ctx.now():
        await ctx.reply(ctx.t("events.rsvp.closed", title=event.title), private=True)
        return
    result = await set_rsvp(event, member.id, status, ctx.now())
    await request_refresh(ctx.app, event)
    key = "events.rsvp.waitlisted" if result.rsvp.waitlisted else f"events.rsvp.{status}"
    await ctx.reply(ctx.t(key, title=event.title), private=True)
    await _tell_promoted(ctx, event, result.promoted)


async def calendar_interest(ctx: Context, interest: ScheduledEventInterest) -> None:
    """Marking the event "Interested" in the platform's calendar counts as a Maybe for a
    member who hasn't answered; taking it back turns that Maybe into a No. Answers given on
    the card are never overridden."""
    member = _member(ctx)
    card = await Card.filter(platform=interest.platform, calendar_id=interest.event_id).first()
    if card is None:
        return
    event = await Event.get_or_none(id=card.event_id)
    if event is None or event.status != SCHEDULED or event.starts_at <= ctx.now():
        return
    current = await Rsvp.get_or_none(event_id=event.id, member_id=member.id)
    if interest.interested and current is None:
        result = await set_rsvp(event, member.id, MAYBE, ctx.now())
    elif not interest.interested and current is not None and current.status == MAYBE:
        result = await set_rsvp(event, member.id, NO, ctx.now())
    else:
        return
    await request_refresh(ctx.app, event)
    await _tell_promoted(ctx, event, result.promoted)


async def _tell_promoted(ctx: Context, event: Event, promoted: list[int]) -> None:
    for member_id in promoted:
        member = await Member.get_or_none(id=member_id)
        if member is None:
            continue
        other = Context(ctx.app, member=member)
        try:
            await ctx.app.send_dm(
                member, Message.of(other.t("events.rsvp.promoted", title=event.title))
            )
        except Unreachable:
            log.info("could not tell member %s about their seat at event %s", member_id, event.id)


async def ics_button(ctx: Context, data: dict[str, Any]) -> None:
    event = await Event.get_or_none(id=data.get("event"))
    if event is None:
        await ctx.reply(ctx.t("core.error.button_expired"), private=True)
        return
    await _send_ics(ctx, event, private=True)


async def _send_ics(ctx: Context, event: Event, *, private: bool = False) -> None:
    attachment = Attachment(
        AttachmentKind.FILE,
        f"event-{event.id}.ics",
        event_ics(event, ctx.now()),
        caption=event.title,
        mime_type="text/calendar",
    )
    text = ctx.t("events.ics.caption", title=event.title)
    await ctx.reply(Message(text=text, attachments=(attachment,)), private=private)


# --- listing, editing, cancelling -------------------------------------------------------


async def _event_arg(ctx: Context, raw: str | int) -> Event:
    event_id = parse_id(str(raw))
    event = await Event.get_or_none(id=event_id) if event_id is not None else None
    if event is None:
        raise UsageError("events.error.no_event", event=str(raw)[:32])
    return event


async def _require_region(ctx: Context, code: str) -> None:
    """Like ``ctx.require_region``, naming the region (or "national") in the refusal."""
    if not await ctx.roles.can_manage(_member(ctx).id, code):
        label = await region_label(ctx.app, code, ctx.lang)
        raise PermissionDenied("events.error.not_your_region", region=label)


async def _managed(ctx: Context, raw: str | int) -> Event:
    """The event, if this member may manage its region (admins: every event)."""
    event = await _event_arg(ctx, raw)
    await _require_region(ctx, event.region_code)
    return event


async def events_list(ctx: Context) -> None:
    member = _member(ctx)
    # A captain sees the events of the regions they run, even without a region of their own.
    managed = await ctx.roles.captain_scopes(member.id)
    events = await upcoming_for(member, ctx.now(), managed=managed)
    if not events:
        await ctx.reply(ctx.t("events.list.empty"))
        return
    zone = await ctx.regions.timezone(member.region_code)
    mine = dict(
        await Rsvp.filter(member_id=member.id, event_id__in=[e.id for e in events]).values_list(
            "event_id", "status"
        )
    )
    waiting = {
        r.event_id
        for r in await Rsvp.filter(
            member_id=member.id, event_id__in=[e.id for e in events], waitlisted=True
        )
    }
    lines = [ctx.t("events.list.title")]
    for event in events:
        status = mine.get(event.id)
        answer = (
            ctx.t("events.list.waitlisted")
            if event.id in waiting
            else ctx.t(f"events.list.{status}")
            if status
            else ctx.t("events.list.none")
        )
        tally = await counts(event.id)
        lines.append(
            ctx.t(
                "events.list.item",
                id=event.id,
                title=event.title,
                when=format_when(event.starts_at, zone, ctx.lang, event.ends_at),
                going=tally.going,
                answer=answer,
            )
        )
    lines.append(ctx.t("events.list.hint"))
    await ctx.reply(Markup("\n").join(lines))


async def event_ics_command(ctx: Context, event: str) -> None:
    await _send_ics(ctx, await _event_arg(ctx, event))


_EDITABLE = ("title", "start", "place", "capacity", "description", "reminders")


async def event_edit(ctx: Context, event: str, field: str, value: str) -> None:
    found = await _managed(ctx, event)
    if found.status != SCHEDULED:
        raise UsageError("events.error.cancelled", id=found.id)
    value = value.strip()
    if field == "start":
        try:
            parsed = parse_when(value, found.tz, ctx.now())
        except DateError as exc:
            details: dict[str, Any] = dict(exc.details)
            raise UsageError(f"events.date.{exc.reason}", text=value, **details) from None
        when = format_when(parsed.start, parsed.zone, ctx.lang, parsed.end)
        payload = {
            "event": found.id,
            "start": parsed.start.isoformat(),
            "end": parsed.end.isoformat() if parsed.end else None,
            "zone": parsed.zone,
        }
        member = _member(ctx)
        await ctx.reply(
            _with_assumption(
                ctx, ctx.t("events.edit.start_check", title=found.title, when=when), parsed
            ),
            buttons=[
                [
                    Button(
                        str(ctx.t("events.button.yes")), "events:move", payload, only_for=member.id
                    ),
                    Button(
                        str(ctx.t("events.button.discard")),
                        "events:move",
                        {"event": found.id, "start": None},
                        only_for=member.id,
                    ),
                ]
            ],
        )
        return
    promoted: list[int] = []
    old_title = found.title
    if field == "title":
        if not 3 <= len(value) <= 200:
            raise UsageError("events.new.bad_title")
        found.title = value
    elif field == "place":
        found.place = value[:300]
    elif field == "description":
        found.description = value[:2000]
    elif field == "capacity":
        lowered = value.lower()
        if lowered in {"0", "none", "tanpa batas", "unlimited", "-"}:
            found.capacity = None
        elif value.isascii() and value.isdigit() and 1 <= int(value) <= 100_000:
            found.capacity = int(value)
        else:
            raise UsageError("events.new.bad_capacity")
    elif field == "reminders":
        minutes = _parse_offsets(value)
        if minutes is None:
            raise UsageError("events.new.bad_reminders")
        found.reminder_minutes = minutes
    await found.save()
    if field == "capacity":
        promoted = await promote(found, ctx.now())
    if field == "reminders":
        await schedule_reminders(ctx.app, found)
    await refresh_cards(ctx.app, found)
    if field in ("title", "place", "description"):
        await sync_calendar(ctx.app, found)
    await ctx.audit(
        "events.edit", target=f"event:{found.id}", region=found.region_code or None, field=field
    )
    if field == "title":
        await notify_rsvps(ctx.app, found, "events.notify.renamed", old=old_title)
    elif field == "place":
        await notify_rsvps(ctx.app, found, "events.notify.place_changed", place=value)
    await _tell_promoted(ctx, found, promoted)
    await ctx.reply(ctx.t("events.edit.done", id=found.id))


async def move_button(ctx: Context, data: dict[str, Any]) -> None:
    event = await _managed(ctx, data["event"])
    if data.get("start") is None:
        await ctx.reply(ctx.t("events.edit.kept", id=event.id))
        return
    start = datetime.fromisoformat(data["start"])
    if start <= ctx.now():
        raise UsageError("events.date.past", text=data["start"])
    old = format_when(event.starts_at, event.tz, ctx.lang)
    event.starts_at = start
    event.ends_at = datetime.fromisoformat(data["end"]) if data.get("end") else None
    event.tz = data["zone"]
    await event.save()
    await schedule_reminders(ctx.app, event)
    await ctx.scheduler.cancel(f"events:{event.id}:announce")
    await refresh_cards(ctx.app, event)
    await sync_calendar(ctx.app, event)
    await ctx.audit(
        "events.move",
        target=f"event:{event.id}",
        region=event.region_code or None,
        start=data["start"],
    )
    await notify_rsvps(ctx.app, event, "events.notify.moved", old=old)
    await ctx.reply(
        ctx.t("events.edit.moved", id=event.id, when=format_when(start, event.tz, ctx.lang))
    )


async def event_cancel(ctx: Context, event: str, scope: str | None = None) -> None:
    """Cancel one event, or with ``all`` this occurrence and every later one of its series."""
    found = await _managed(ctx, event)
    if found.status == CANCELLED:
        raise UsageError("events.error.cancelled", id=found.id)
    targets = [found]
    if scope == "all" and found.series_id is not None:
        targets = list(
            await Event.filter(
                series_id=found.series_id, status=SCHEDULED, starts_at__gte=found.starts_at
            ).order_by("starts_at")
        )
    dropped = 0
    for target in targets:
        target.status = CANCELLED
        await target.save(update_fields=["status"])
        dropped += await cancel_reminders(ctx.app, target)
        await refresh_cards(ctx.app, target)
        await sync_calendar(ctx.app, target)
        await ctx.audit(
            "events.cancel", target=f"event:{target.id}", region=target.region_code or None
        )
        await notify_rsvps(ctx.app, target, "events.notify.cancelled")
    key = "events.cancel.done" if len(targets) == 1 else "events.cancel.series"
    await ctx.reply(ctx.t(key, id=found.id, title=found.title, jobs=dropped, count=len(targets)))


async def calendar_cancelled(app: App, platform: str, calendar_id: str) -> None:
    """The event's mirror was cancelled or deleted in the platform's calendar: cancel the
    event as ``/event cancel`` would (reminders stop, attendees are told)."""
    card = await Card.get_or_none(platform=platform, calendar_id=calendar_id)
    if card is None:
        return
    target = await Event.get_or_none(id=card.event_id)
    if target is None or target.status != SCHEDULED:
        return  # Guyub cancelled it itself, or it is over
    target.status = CANCELLED
    await target.save(update_fields=["status"])
    await cancel_reminders(app, target)
    await refresh_cards(app, target)
    await sync_calendar(app, target)  # the event's mirrors in other servers too
    await app.audit.record(
        "events.cancel",
        actor=None,
        target=f"event:{target.id}",
        region=target.region_code or None,
        via=f"{platform} calendar",
    )
    await notify_rsvps(app, target, "events.notify.cancelled")


# --- after the event: attendees and check-in --------------------------------------------


@dataclass(frozen=True, slots=True)
class AttendeeReport:
    """An event's attendee CSV and the figures of its summary (chat and dashboard)."""

    csv: bytes
    tally: Counts
    checked: int
    showed: int
    said_going: int


async def attendee_report(found: Event, translator: Translator, lang: str) -> AttendeeReport:
    """The CSV in the reader's language (a captain forwards it as it is): column names and
    answers in words, times in the event's zone as a spreadsheet sorts them."""

    def t(key: str, **values: object) -> str:
        return str(translator(f"events.csv.{key}", lang, **values))

    zone = ZoneInfo(found.tz)

    def local(at: datetime) -> str:
        return at.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    answer = {status: t(status) for status in (GOING, MAYBE, NO)}
    rsvps = await Rsvp.filter(event_id=found.id).order_by("created_at", "id")
    checked: dict[int, datetime] = {
        int(m): at
        for m, at in await Checkin.filter(event_id=found.id).values_list("member_id", "at")
    }
    names = dict(
        await Member.filter(id__in=[r.member_id for r in rsvps] + list(checked)).values_list(
            "id", "display_name"
        )
    )
    tally = await counts(found.id)
    going_ids = {r.member_id for r in rsvps if r.status == GOING and not r.waitlisted}
    yes = t("yes")
    rows = [
        (
            r.member_id,
            names.get(r.member_id, ""),
            answer.get(r.status, r.status),
            yes if r.waitlisted else "",
            local(checked[r.member_id]) if r.member_id in checked else "",
            local(r.updated_at),
        )
        for r in rsvps
    ]
    rows.extend(
        (m, names.get(m, ""), "", "", local(at), "")
        for m, at in checked.items()
        if m not in {r.member_id for r in rsvps}
    )
    abbreviation = zone_abbreviation(found.tz)
    data = attendees_csv(
        (
            t("member_id"),
            t("name"),
            t("answer"),
            t("waitlist"),
            t("checked_in", zone=abbreviation),
            t("answered_at", zone=abbreviation),
        ),
        rows,
    )
    return AttendeeReport(data, tally, len(checked), len(going_ids & set(checked)), len(going_ids))


async def attendees(ctx: Context, event: str) -> None:
    found = await _managed(ctx, event)
    report = await attendee_report(found, ctx.app.translator, ctx.lang)
    data, tally = report.csv, report.tally
    text = ctx.t(
        "events.attendees.summary",
        id=found.id,
        title=found.title,
        when=format_when(found.starts_at, found.tz, ctx.lang, found.ends_at),
        place=found.place or "-",
        going=tally.going,
        maybe=tally.maybe,
        no=tally.no,
        waitlist=tally.waitlist,
        answered=tally.going + tally.maybe + tally.no + tally.waitlist,
        checked=report.checked,
        showed=report.showed,
        said_going=report.said_going,
        as_of=format_moment(ctx.now(), found.tz, ctx.app.translator, ctx.lang),
    )
    attachment = Attachment(
        AttachmentKind.FILE,
        f"attendees-{found.id}.csv",
        data,
        caption=found.title,
        mime_type="text/csv",
    )
    await ctx.reply(Message(text=text, attachments=(attachment,)), private=True)


async def checkin_open(ctx: Context, event: str, minutes: int | None = None) -> None:
    found = await _managed(ctx, event)
    if found.status != SCHEDULED:
        raise UsageError("events.error.cancelled", id=found.id)
    window = minutes if minutes and 0 < minutes <= 24 * 60 else 180
    code = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(6))
    found.checkin_code = code
    found.checkin_until = ctx.now() + timedelta(minutes=window)
    await found.save(update_fields=["checkin_code", "checkin_until"])
    await ctx.audit(
        "events.checkin_open", target=f"event:{found.id}", region=found.region_code or None
    )
    lang = ctx.app.settings.language
    for chat in await card_chats(found):
        length = format_duration(timedelta(minutes=window), ctx.app.translator, lang)
        text = ctx.app.translator("events.checkin.opened", lang, title=found.title, duration=length)
        button = Button(
            str(ctx.app.translator("events.button.checkin", lang)),
            "events:checkin",
            {"event": found.id},
        )
        await ctx.app.send(chat, Message.of(text, buttons=[button]))
    await ctx.reply(
        ctx.t("events.checkin.code", title=found.title, code=code, minutes=window), private=True
    )


async def _check_in(ctx: Context, event: Event) -> None:
    member = _member(ctx)
    if event.checkin_until is None or event.checkin_until < ctx.now() or event.status != SCHEDULED:
        await ctx.reply(ctx.t("events.checkin.closed", title=event.title), private=True)
        return
    _, created = await Checkin.get_or_create(
        event_id=event.id, member_id=member.id, defaults={"at": ctx.now()}
    )
    key = "events.checkin.done" if created else "events.checkin.again"
    await ctx.reply(ctx.t(key, title=event.title), private=True)


async def checkin_button(ctx: Context, data: dict[str, Any]) -> None:
    event = await Event.get_or_none(id=data.get("event"))
    if event is None:
        await ctx.reply(ctx.t("core.error.button_expired"), private=True)
        return
    await _check_in(ctx, event)


async def checkin(ctx: Context, code: str) -> None:
    code = code.strip().upper()
    # Bounded by the column: a longer "code" can't match and must not reach the database.
    if not code or len(code) > 16:
        raise UsageError("events.checkin.bad_code")
    event = (
        await Event.filter(checkin_code=code, checkin_until__gte=ctx.now()).order_by("-id").first()
    )
    if event is None:
        raise UsageError("events.checkin.bad_code")
    await _check_in(ctx, event)
