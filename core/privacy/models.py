"""Tables of the core privacy app: link codes, consent records and rate counters."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

__all__ = ["ConsentRecord", "LinkCode", "RateCounter"]


class LinkCode(Model):
    """A one time code that joins two accounts into one member, stored as a hash."""

    id = fields.IntField(primary_key=True)
    code_hash = fields.CharField(max_length=64, unique=True)
    member_id = fields.IntField(db_index=True)
    platform = fields.CharField(max_length=16)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(db_index=True)
    claimed_by_id = fields.IntField(null=True, db_index=True)
    claimed_at = fields.DatetimeField(null=True)
    status = fields.CharField(max_length=16, default="open")

    class Meta:
        table = "core_link_code"


class ConsentRecord(Model):
    """One consent decision of a member, with the text version, time and channel."""

    id = fields.IntField(primary_key=True)
    member_id = fields.IntField(db_index=True)
    version = fields.IntField()
    status = fields.CharField(max_length=16)
    at = fields.DatetimeField()
    channel = fields.CharField(max_length=16)

    class Meta:
        table = "core_consent"


class RateCounter(Model):
    """How many times something happened in one time window, shared by every worker."""

    id = fields.BigIntField(primary_key=True)
    bucket = fields.CharField(max_length=64)
    window_start = fields.DatetimeField(db_index=True)
    count = fields.IntField(default=0)

    class Meta:
        table = "core_rate_counter"
        unique_together = (("bucket", "window_start"),)
