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


class WorkerBeat(Model):
    """A worker process's heartbeat, written every few seconds, for guyub status."""

    name = fields.CharField(max_length=96, primary_key=True)
    host = fields.CharField(max_length=128)
    pid = fields.IntField()
    adapters = fields.CharField(max_length=128, default="")
    started_at = fields.DatetimeField()
    seen_at = fields.DatetimeField(db_index=True)
    stopped_at = fields.DatetimeField(null=True)
    handled = fields.BigIntField(default=0)
    in_flight = fields.IntField(default=0)
    last_error = fields.TextField(null=True)
    last_error_at = fields.DatetimeField(null=True)

    class Meta:
        table = "core_worker"


class CacheChange(Model):
    """A member id or chat key a write touched, for the caches of every worker."""

    id = fields.BigIntField(primary_key=True)
    key = fields.CharField(max_length=200)

    class Meta:
        table = "core_cache_change"
