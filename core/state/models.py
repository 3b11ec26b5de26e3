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


class CacheChange(Model):
    """A member id or chat key a write touched, for the caches of every worker."""

    id = fields.BigIntField(primary_key=True)
    key = fields.CharField(max_length=200)

    class Meta:
        table = "core_cache_change"
