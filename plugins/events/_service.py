"""What happens to events: RSVPs with a waitlist, cards edited in place, durable reminders,
announcements of recurring occurrences. Handlers in ``_commands`` call these."""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from core import (
    App,
    Button,
    Capability,
    ChatKind,
    ChatRef,
    DeliveryError,
    Job,
    JobContext,
    Markup,
    Member,
    Message,
    MessageRef,
    NotSupported,
    RetryAfter,
    ScheduledEvent,
    Unreachable,
    normalize_language,
    scope_chain,
)

from ._render import format_when, other_zones
from .models import Card, Event, ReminderSent, Rsvp

__all__ = [
    "GOING",
    "MAYBE",
    "NO",
    "Counts",
    "announce",
    "cancel_reminders",
    "card_message",
    "counts",
    "event_chats",
    "refresh_cards",
    "schedule_reminders",
    "set_rsvp",
    "sync_calendar",
]

log = logging.getLogger(__name__)

GOING, MAYBE, NO = "going", "maybe", "no"
STATUSES = (GOING, MAYBE, NO)
SCHEDULED, CANCELLED = "scheduled", "cancelled"

#: Outbox batch kinds: reminder DMs, and notices of a change or a cancellation.
REMINDER_BATCH = "events:reminder"
NOTICE_BATCH = "events:notice"
REMIND_KIND = "events:remind"
ANNOUNCE_KIND = "events:announce"
REFRESH_KIND = "events:refresh"
_RANK = {GOING: 2, MAYBE: 1, NO: 0}


def t(app: App, lang: str, key: str, **kwargs: Any) -> Markup:
    return app.translator(key, lang, **kwargs)


@dataclass(frozen=True, slots=True)
class Counts:
    going: int = 0
    maybe: int = 0
    no: int = 0
    waitlist: int = 0


async def counts(event_id: int) -> Counts:
    rows = await Rsvp.filter(event_id=event_id).values_list("status", "waitlisted")
    tally = {GOING: 0, MAYBE: 0, NO: 0}
    waitlist = 0
    for status, waitlisted in rows:
        if waitlisted:
            waitlist += 1
        else:
            tally[str(status)] += 1
    return Counts(tally[GOING], tally[MAYBE], tally[NO], waitlist)


# --- RSVPs ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RsvpResult:
    rsvp: Rsvp
    promoted: list[int]


async def set_rsvp(event: Event, member_id: int, status: str, now: datetime) -> RsvpResult:
    """One RSVP per member and event; a full event puts new "going" answers on the
    waitlist, and a freed seat goes to the longest-waiting member.

    Runs in a transaction holding the event row (``SELECT ... FOR UPDATE`` on PostgreSQL),
    so two workers answering for the same event at once can't both take the last seat.
    """
    for _ in range(3):
        try:
            async with in_transaction():
                await Event.filter(id=event.id).select_for_update().first()
                return await _set_rsvp(event, member_id, status, now)
        except IntegrityError:
            # The same member answered twice at the same moment: the other answer made
            # the row; answer again on it.
            continue
    raise RuntimeError(f"could not record the RSVP of member {member_id} to event {event.id}")


async def _set_rsvp(event: Event, member_id: int, status: str, now: datetime) -> RsvpResult:
    existing = await Rsvp.get_or_none(event_id=event.id, member_id=member_id)
    had_seat = existing is not None and existing.status == GOING and not existing.waitlisted
    if existing is not None and existing.status == status:
        return RsvpResult(existing, [])
    waitlisted = False
    if status == GOING and event.capacity is not None:
        taken = await Rsvp.filter(event_id=event.id, status=GOING, waitlisted=False).count()
        waitlisted = taken >= event.capacity
    if existing is None:
        rsvp = await Rsvp.create(
            event_id=event.id,
            member_id=member_id,
            status=status,
            waitlisted=waitlisted,
            created_at=now,
            updated_at=now,
        )
    else:
        existing.status, existing.waitlisted, existing.updated_at = status, waitlisted, now
        await existing.save(update_fields=["status", "waitlisted", "updated_at"])
        rsvp = existing
    promoted = await promote(event, now) if had_seat and status != GOING else []
    return RsvpResult(rsvp, promoted)


async def promote(event: Event, now: datetime) -> list[int]:
    """Move waitlisted members up while there are free seats; returns their member ids."""
    if event.capacity is None:
        return []
    promoted: list[int] = []
    while True:
        taken = await Rsvp.filter(event_id=event.id, status=GOING, waitlisted=False).count()
        if taken >= event.capacity:
            return promoted
        nxt = (
            await Rsvp.filter(event_id=event.id, status=GOING, waitlisted=True)
            .order_by("updated_at", "id")
            .first()
        )
        if nxt is None:
            return promoted
        # Conditional update: two workers promoting at once move each member once.
        if await Rsvp.filter(id=nxt.id, waitlisted=True).update(waitlisted=False, updated_at=now):
            promoted.append(nxt.member_id)


# --- cards ------------------------------------------------------------------------------


async def region_label(app: App, code: str, lang: str) -> str:
    if not code:
        return str(t(app, lang, "events.national"))
    return await app.regions.name(code)


async def card_message(app: App, event: Event, lang: str | None = None) -> Message:
    """The event card: what, when (in the event's zone), where, counts and RSVP buttons."""
    lang = lang or app.settings.language
    tally = await counts(event.id)
    when = format_when(event.starts_at, event.tz, lang, event.ends_at)
    lines = [t(app, lang, "events.card.title", title=event.title)]
    if event.status == CANCELLED:
        lines.insert(0, t(app, lang, "events.card.cancelled"))
    lines.append(t(app, lang, "events.card.when", when=when))
    if not event.region_code:
        lines.append(
            t(app, lang, "events.card.other_zones", times=other_zones(event.starts_at, event.tz))
        )
    if event.place:
        lines.append(t(app, lang, "events.card.place", place=event.place))
    lines.append(
        t(app, lang, "events.card.region", region=await region_label(app, event.region_code, lang))
    )
    if event.description:
        lines.append(Markup("\n") + Markup("{}").format(event.description))
    capacity = f"/{event.capacity}" if event.capacity is not None else ""
    lines.append(
        Markup("\n")
        + t(
            app,
            lang,
            "events.card.counts",
            going=tally.going,
            capacity=capacity,
            maybe=tally.maybe,
            no=tally.no,
        )
    )
    if tally.waitlist:
        lines.append(t(app, lang, "events.card.waitlist", count=tally.waitlist))
    lines.append(t(app, lang, "events.card.id", id=event.id))
    buttons: list[list[Button]] = []
    if event.status == SCHEDULED:
        buttons.append(
            [
                Button(
                    str(t(app, lang, f"events.button.{s}")),
                    "events:rsvp",
                    {"event": event.id, "status": s},
                )
                for s in STATUSES
            ]
        )
        buttons.append(
            [Button(str(t(app, lang, "events.button.ics")), "events:ics", {"event": event.id})]
        )
    return Message.of(Markup("\n").join(lines), buttons=buttons)


def _chat_ref(card: Card) -> ChatRef:
    return ChatRef(card.platform, card.chat_id, ChatKind(card.chat_kind), thread=card.thread)


def chat_from(data: dict[str, Any]) -> ChatRef:
    return ChatRef(data["platform"], data["id"], ChatKind(data["kind"]), thread=data.get("thread"))


def chat_data(chat: ChatRef) -> dict[str, Any]:
    return {
        "platform": chat.platform,
        "id": chat.id,
        "kind": chat.kind.value,
        "thread": chat.thread,
    }


async def event_chats(app: App, event: Event) -> list[ChatRef]:
    """The groups of the event's region (on every platform) and the group it was made in."""
    chats: list[ChatRef] = []
    if event.region_code:
        chats.extend(await app.regions.chats(event.region_code))
    origin = event.details.get("origin")
    if origin:
        chat = chat_from(origin)
        if not chat.is_dm:
            chats.append(chat)
    unique: dict[str, ChatRef] = {}
    for chat in chats:
        unique.setdefault(chat.key, chat)
    return list(unique.values())


async def announce(app: App, event: Event) -> int:
    """Post the card to every group of the event (once per chat); returns how many."""
    posted = 0
    known = {(c.platform, c.chat_id, c.thread) for c in await Card.filter(event_id=event.id)}
    for chat in await event_chats(app, event):
        if (chat.platform, chat.id, chat.thread) in known:
            continue
        try:
            ref = await app.send(chat, await card_message(app, event))
        except (Unreachable, DeliveryError, NotSupported):
            log.warning(
                "could not post the card of event %s to %s", event.id, chat.key, exc_info=True
            )
            continue
        await remember_card(event, ref)
        posted += 1
    await sync_calendar(app, event)
    return posted


async def sync_calendar(app: App, event: Event) -> None:
    """Mirror the event in the platform calendar of each group whose platform has one
    (Discord guild scheduled events): created with the card, updated after an edit or a
    move, cancelled with the event. A failure is logged; the cards stay the reference."""
    spec = ScheduledEvent(
        title=event.title,
        start=event.starts_at,
        end=event.ends_at,
        description=event.description,
        location=event.place,
    )
    for card in await Card.filter(event_id=event.id):
        adapter = app.adapters.get(card.platform)
        if (
            card.chat_kind == "dm"
            or adapter is None
            or not adapter.supports(Capability.SCHEDULED_EVENTS)
        ):
            continue
        chat = _chat_ref(card)
        try:
            if event.status != SCHEDULED:
                if card.calendar_id:
                    await adapter.cancel_scheduled_event(chat, card.calendar_id)
            elif card.calendar_id:
                await adapter.update_scheduled_event(chat, card.calendar_id, spec)
            else:
                card.calendar_id = await adapter.create_scheduled_event(chat, spec)
                await card.save(update_fields=["calendar_id"])
        except (DeliveryError, NotSupported):
            log.warning("calendar of event %s not synced in %s", event.id, chat.key, exc_info=True)


async def remember_card(event: Event, ref: MessageRef) -> None:
    await Card.create(
        event_id=event.id,
        platform=ref.chat.platform,
        chat_id=ref.chat.id,
        chat_kind=ref.chat.kind.value,
        thread=ref.chat.thread,
        message_id=ref.id,
    )


async def card_chats(event: Event) -> list[ChatRef]:
    """The group chats holding this event's card."""
    return [_chat_ref(c) for c in await Card.filter(event_id=event.id) if c.chat_kind != "dm"]


async def refresh_cards(app: App, event: Event) -> float:
    """Edit every card of the event in place with the current counts and status. Returns
    the longest wait a platform asked for (0 when every edit went through)."""
    wait = 0.0
    for card in await Card.filter(event_id=event.id):
        ref = MessageRef(_chat_ref(card), card.message_id)
        try:
            await app.edit(ref, await card_message(app, event))
        except RetryAfter as exc:
            wait = max(wait, exc.seconds)
        except (Unreachable, DeliveryError, NotSupported):
            log.warning(
                "could not edit the card of event %s in %s", event.id, ref.chat.key, exc_info=True
            )
    return wait


async def request_refresh(app: App, event: Event) -> None:
    """Refresh the cards soon, at most about once per ``card_refresh_seconds``.

    A busy card would otherwise be edited on every press, and platforms limit edits per
    chat (Telegram about 20 a minute in a group). The first press in a quiet window edits
    at once; later ones in the same window share one edit at its end. Keys per window make
    it safe with several workers.
    """
    seconds = float(app.plugin_settings("events").card_refresh_seconds)
    if seconds <= 0:
        await refresh_cards(app, event)
        return
    now = app.clock.now()
    window = math.floor(now.timestamp() / seconds)
    current = f"events:{event.id}:refresh:{window}"
    if not await Job.exists(idempotency_key=current):
        await app.scheduler.schedule(REFRESH_KIND, now, {"event": event.id}, key=current)
        return
    following = datetime.fromtimestamp((window + 1) * seconds, UTC)
    await app.scheduler.schedule(
        REFRESH_KIND, following, {"event": event.id}, key=f"events:{event.id}:refresh:{window + 1}"
    )


async def run_refresh(job: JobContext) -> None:
    event = await Event.get_or_none(id=job.payload["event"])
    if event is None:
        return
    wait = await refresh_cards(job.app, event)
    if wait > 0:
        # Rate limited: try again when the platform allows (a new key: this one is done).
        due = job.app.clock.now() + timedelta(seconds=wait)
        await job.app.scheduler.schedule(
            REFRESH_KIND,
            due,
            {"event": event.id},
            key=f"events:{event.id}:refresh:retry:{int(due.timestamp())}",
        )


# --- reminders --------------------------------------------------------------------------


def reminder_key(event: Event, minutes: int) -> str:
    # The start time is part of the key: moving an event makes new reminders (an old one
    # that already went out must not block the reminder for the new time).
    return f"events:{event.id}:remind:{int(event.starts_at.timestamp())}:{minutes}"


async def schedule_reminders(app: App, event: Event) -> int:
    """(Re)schedule the event's reminders: pending ones for another start time or offset
    are cancelled, the wanted ones are created (or kept: the key makes it idempotent)."""
    now = app.clock.now()
    wanted: dict[str, tuple[int, datetime]] = {}
    for minutes in event.reminder_minutes:
        due = event.starts_at - timedelta(minutes=minutes)
        if due > now:
            wanted[reminder_key(event, minutes)] = (minutes, due)
    pending = await Job.filter(
        idempotency_key__startswith=f"events:{event.id}:remind:", status="pending"
    ).values_list("idempotency_key", flat=True)
    for stale in [str(k) for k in pending if str(k) not in wanted]:
        await app.scheduler.cancel(stale)
    for key, (minutes, due) in wanted.items():
        await app.scheduler.schedule(
            REMIND_KIND,
            due,
            {"event": event.id, "minutes": minutes, "start": int(event.starts_at.timestamp())},
            key=key,
            tz=event.tz,
        )
    return len(wanted)


async def cancel_reminders(app: App, event: Event) -> int:
    return await app.scheduler.cancel_prefix(f"events:{event.id}:")


def _minutes_label(app: App, lang: str, minutes: int) -> Markup:
    if minutes % 1440 == 0:
        return t(app, lang, "events.unit.days", n=minutes // 1440)
    if minutes % 60 == 0:
        return t(app, lang, "events.unit.hours", n=minutes // 60)
    return t(app, lang, "events.unit.minutes", n=minutes)


async def _once(event: Event, minutes: int, target: str, now: datetime) -> bool:
    """Claim one delivery: False if this reminder already went to ``target``."""
    _, created = await ReminderSent.get_or_create(
        event_id=event.id, minutes=minutes, target=target, defaults={"at": now}
    )
    return created


async def run_reminder(job: JobContext) -> None:
    """At each offset: a DM to everyone going or maybe (where DMs reach them) and a
    mention-free post in the event's groups. Dropped if the event has started."""
    app = job.app
    event = await Event.get_or_none(id=job.payload["event"])
    if event is None or event.status != SCHEDULED:
        return
    now = app.clock.now()
    if int(event.starts_at.timestamp()) != job.payload.get("start"):
        return  # the event moved; the reminder for the new time is another job
    if now >= event.starts_at:
        log.warning(
            "reminder %s min before event %s dropped: the event started %s ago",
            job.payload["minutes"],
            event.id,
            now - event.starts_at,
        )
        return
    minutes = int(job.payload["minutes"])
    stamp = int(event.starts_at.timestamp())
    # The real time left: after downtime a "1 day before" reminder may go out 30 minutes
    # before the start, and must say so.
    left_minutes = _left_minutes(event.starts_at - now, minutes)
    if left_minutes != minutes:
        log.warning(
            "reminder %s min before event %s is late: %s min left, the text says so",
            minutes,
            event.id,
            left_minutes,
        )
    # The DMs are durable deliveries: the job only enqueues them (a few statements, however
    # many answered), the outbox sends them at the platform's pace, each at most once. The
    # batch keys make a rerun of this job (after a crash) enqueue nothing twice.
    zones = _Zones(app, event)

    async def compose(language: str, region: str) -> tuple[str, Message]:
        lang = normalize_language(language or None, app.settings.language)
        zone = await zones.of(region)
        text = t(
            app,
            lang,
            "events.reminder.dm",
            title=event.title,
            left=_minutes_label(app, lang, left_minutes),
            when=format_when(event.starts_at, zone, lang, event.ends_at),
            place=event.place or "-",
            id=event.id,
        )
        return f"{lang}:{zone}", Message.of(text)

    answered = Rsvp.filter(event_id=event.id, status__in=[GOING, MAYBE], waitlisted=False).values(
        "member_id"
    )
    await app.outbox.enqueue_members(
        REMINDER_BATCH,
        answered,
        compose,
        key=f"events:{event.id}:{stamp}:{minutes}:dm",
        meta={"event": event.id, "minutes": minutes, "left": left_minutes},
    )
    lang = app.settings.language
    for chat in await card_chats(event):
        target = f"{stamp}:chat:{chat.key}"
        if not await _once(event, minutes, target, now):
            continue
        tally = await counts(event.id)
        text = t(
            app,
            lang,
            "events.reminder.group",
            title=event.title,
            left=_minutes_label(app, lang, left_minutes),
            when=format_when(event.starts_at, event.tz, lang, event.ends_at),
            place=event.place or "-",
            going=tally.going,
            maybe=tally.maybe,
            id=event.id,
        )
        try:
            await app.send(chat, Message.of(text, silent=False))
        except (Unreachable, DeliveryError, NotSupported):
            log.warning("reminder of event %s not posted in %s", event.id, chat.key, exc_info=True)


async def run_announce(job: JobContext) -> None:
    """Post the card of the next occurrence of a series when the previous one starts."""
    event = await Event.get_or_none(id=job.payload["event"])
    if event is None or event.status != SCHEDULED:
        return
    await announce(job.app, event)


async def notify_rsvps(
    app: App, event: Event, key: str, *, statuses: Sequence[str] = (GOING, MAYBE), **kwargs: Any
) -> int:
    """DM everyone who answered going/maybe (including the waitlist) about a change, through
    the outbox (durable, paced, each at most once); returns how many were enqueued."""
    zones = _Zones(app, event)

    async def compose(language: str, region: str) -> tuple[str, Message]:
        lang = normalize_language(language or None, app.settings.language)
        zone = await zones.of(region)
        text = t(
            app,
            lang,
            key,
            title=event.title,
            when=format_when(event.starts_at, zone, lang, event.ends_at),
            id=event.id,
            **kwargs,
        )
        return f"{lang}:{zone}", Message.of(text)

    answered = Rsvp.filter(event_id=event.id, status__in=list(statuses)).values("member_id")
    batches = await app.outbox.enqueue_members(
        NOTICE_BATCH,
        answered,
        compose,
        key=f"events:{event.id}:notice:{secrets.token_hex(6)}",
        meta={"event": event.id, "text": key},
    )
    return sum(b.total for b in batches)


class _Zones:
    """Time zones by region code, looked up once each."""

    def __init__(self, app: App, event: Event) -> None:
        self.app = app
        self.event = event
        self.known: dict[str, str] = {}

    async def of(self, region: str) -> str:
        if region not in self.known:
            zone = await self.app.regions.timezone(region) if region else self.event.tz
            self.known[region] = zone
        return self.known[region]


def _left_minutes(left: timedelta, planned: int) -> int:
    """Minutes left, as the reminder text should say them: the planned offset when on time
    (within two minutes), else the real time, rounded to what a reader expects."""
    real = max(1, math.ceil(left.total_seconds() / 60))
    if abs(real - planned) <= 2:
        return planned
    if real < 120:
        return real
    if real < 36 * 60:
        return round(real / 60) * 60
    return round(real / 1440) * 1440


async def upcoming_for(
    member: Member, now: datetime, limit: int = 10, managed: Sequence[str] = ()
) -> list[Event]:
    """Upcoming events of the member's region (and the regions above it, and national ones),
    any they answered, and those of the regions they manage as captain (``managed``)."""
    codes = [""]
    if member.region_code:
        codes.extend(scope_chain(member.region_code))
    answered = await Rsvp.filter(member_id=member.id).values_list("event_id", flat=True)
    condition = Q(region_code__in=codes) | Q(id__in=list(answered))
    for scope in managed:
        condition |= Q(region_code=scope) | Q(region_code__startswith=f"{scope}.")
    return (
        await Event.filter(condition)
        .filter(status=SCHEDULED, starts_at__gt=now)
        .order_by("starts_at", "id")
        .limit(limit)
    )


def rank(status: str) -> int:
    return _RANK.get(status, -1)
