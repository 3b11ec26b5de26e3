"""Tables of the captains plugin. Models import tortoise only."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

__all__ = ["Broadcast", "Warning"]


class Broadcast(Model):
    """A message a captain or admin sends to the members and groups of regions."""

    id = fields.IntField(primary_key=True)
    sender_id = fields.IntField(null=True, db_index=True)
    regions: list[str] = fields.JSONField(default=list)
    mode = fields.CharField(max_length=8, default="both")
    text = fields.TextField(default="")
    status = fields.CharField(max_length=16, default="draft", db_index=True)
    audience = fields.IntField(default=0)
    approved_by_id = fields.IntField(null=True)
    batch_id = fields.BigIntField(null=True)
    progress: dict[str, Any] = fields.JSONField(default=dict)
    lang = fields.CharField(max_length=8, default="id")
    created_at = fields.DatetimeField()
    started_at = fields.DatetimeField(null=True)

    class Meta:
        table = "captains_broadcast"


class Warning(Model):
    """A warning a captain gave a member in a group."""

    id = fields.IntField(primary_key=True)
    member_id = fields.IntField(db_index=True)
    chat_key = fields.CharField(max_length=160)
    region_code = fields.CharField(max_length=16, null=True)
    reason = fields.CharField(max_length=300, default="")
    by_id = fields.IntField(null=True)
    at = fields.DatetimeField()

    class Meta:
        table = "captains_warning"
