"""Tables of the core state app."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class SeenUpdate(Model):
    """A platform update already processed, to process each once."""

    id = fields.BigIntField(primary_key=True)
    source = fields.CharField(max_length=32)
    key = fields.CharField(max_length=128)
    seen_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "core_seen_update"
        unique_together = (("source", "key"),)


class KeyValue(Model):
    """A small named value kept by the core or an adapter."""

    key = fields.CharField(max_length=128, primary_key=True)
    value = fields.TextField()

    class Meta:
        table = "core_kv"
