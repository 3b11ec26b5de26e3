"""The events plugin's tables: events, series, RSVPs, cards, check-ins and reminder logs.

Members are referred to by id (an integer column) so that merging and forgetting members
stays in this plugin's hands.
"""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

__all__ = ["Card", "Checkin", "Event", "ReminderSent", "Rsvp", "Series"]


class Series(Model):
    """A recurring event, weekly or monthly, until an end date."""

    id = fields.IntField(primary_key=True)
    frequency = fields.CharField(max_length=16)
    until = fields.DatetimeField()
    created_by_id = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "events_series"


class Event(Model):
    """One event or one occurrence of a series, with its time in UTC and its zone."""

    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    place = fields.CharField(max_length=300, default="")
    region_code = fields.CharField(max_length=16, default="", db_index=True)
    starts_at = fields.DatetimeField(db_index=True)
    ends_at = fields.DatetimeField(null=True)
    tz = fields.CharField(max_length=48, default="Asia/Jakarta")
    capacity = fields.IntField(null=True)
    reminder_minutes: list[int] = fields.JSONField(default=list)
    status = fields.CharField(max_length=16, default="scheduled", db_index=True)
    series: fields.ForeignKeyNullableRelation[Series] = fields.ForeignKeyField(
        "events.Series", related_name="events", null=True, on_delete=fields.CASCADE
    )
    checkin_code = fields.CharField(max_length=16, null=True, db_index=True)
    checkin_until = fields.DatetimeField(null=True)
    created_by_id = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    details: dict[str, Any] = fields.JSONField(default=dict)

    series_id: int | None

    class Meta:
        table = "events_event"


class Rsvp(Model):
    """A member answer to one event, going or maybe or no, maybe on the waitlist."""

    id = fields.IntField(primary_key=True)
    event: fields.ForeignKeyRelation[Event] = fields.ForeignKeyField(
        "events.Event", related_name="rsvps", on_delete=fields.CASCADE
    )
    member_id = fields.IntField(db_index=True)
    status = fields.CharField(max_length=16)
    waitlisted = fields.BooleanField(default=False)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    event_id: int

    class Meta:
        table = "events_rsvp"
        unique_together = (("event", "member_id"),)


class Card(Model):
    """Where an event card was posted, so it can be edited in place."""

    id = fields.IntField(primary_key=True)
    event: fields.ForeignKeyRelation[Event] = fields.ForeignKeyField(
        "events.Event", related_name="cards", on_delete=fields.CASCADE
    )
    platform = fields.CharField(max_length=16)
    chat_id = fields.CharField(max_length=64)
    chat_kind = fields.CharField(max_length=8, default="group")
    thread = fields.CharField(max_length=64, null=True)
    message_id = fields.CharField(max_length=64)
    calendar_id = fields.CharField(max_length=64, null=True)

    event_id: int

    class Meta:
        table = "events_card"


class Checkin(Model):
    """A member who checked in at an event."""

    id = fields.IntField(primary_key=True)
    event: fields.ForeignKeyRelation[Event] = fields.ForeignKeyField(
        "events.Event", related_name="checkins", on_delete=fields.CASCADE
    )
    member_id = fields.IntField(db_index=True)
    at = fields.DatetimeField()

    event_id: int

    class Meta:
        table = "events_checkin"
        unique_together = (("event", "member_id"),)


class ReminderSent(Model):
    """One reminder delivered to one target, so a retried job never sends it twice."""

    id = fields.IntField(primary_key=True)
    event_id = fields.IntField(db_index=True)
    minutes = fields.IntField()
    target = fields.CharField(max_length=200)
    at = fields.DatetimeField()

    class Meta:
        table = "events_reminder_sent"
        unique_together = (("event_id", "minutes", "target"),)
