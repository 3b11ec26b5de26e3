"""Tables of the core outbox app. Models import tortoise only.

Docstrings stay plain words: tortoise turns them into table comments.
"""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

__all__ = ["Delivery", "OutboxBatch", "SendSchedule"]


class OutboxBatch(Model):
    """One message fanned out to many recipients, stored once."""

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharField(max_length=64, db_index=True)
    key = fields.CharField(max_length=128, null=True, unique=True)
    message: dict[str, Any] = fields.JSONField(default=dict)
    meta: dict[str, Any] = fields.JSONField(default=dict)
    status = fields.CharField(max_length=16, default="active", db_index=True)
    total = fields.IntField(default=0)
    created_at = fields.DatetimeField()
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "core_outbox_batch"


class Delivery(Model):
    """One recipient of a batch, a private chat or a group, sent at most once."""

    id = fields.BigIntField(primary_key=True)
    batch_id = fields.BigIntField()
    platform = fields.CharField(max_length=16)
    chat_kind = fields.CharField(max_length=8)
    target = fields.CharField(max_length=64)
    account_id = fields.IntField(null=True)
    region_code = fields.CharField(max_length=16, null=True)
    status = fields.CharField(max_length=16, default="pending")
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    locked_by = fields.CharField(max_length=64, null=True)
    locked_until = fields.DatetimeField(null=True)
    last_error = fields.TextField(null=True)
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "core_outbox_delivery"
        unique_together = (("batch_id", "platform", "chat_kind", "target"),)
        # Claims walk a batch's pending rows in id order without sorting them all.
        indexes = (("batch_id", "status", "id"), ("status", "id"))


class SendSchedule(Model):
    """A rate shared by every worker of a deployment: the next free send time, in the
    database clock's seconds since the epoch."""

    key = fields.CharField(max_length=128, primary_key=True)
    next_free = fields.FloatField(default=0.0)

    class Meta:
        table = "core_outbox_rate"
