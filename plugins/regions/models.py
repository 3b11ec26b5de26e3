"""The regions plugin's tables. Models import tortoise only.

Members reference regions by code (``core_member.region_code``), never by a row id, so a
data update that renames a region changes nothing for them.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

__all__ = ["RecipientCount", "Region", "RegionChat"]


class Region(Model):
    """A province or kabupaten or kota, keyed by its Kemendagri code."""

    code = fields.CharField(max_length=16, primary_key=True)
    name = fields.CharField(max_length=128)
    kind = fields.CharField(max_length=16)
    parent_code = fields.CharField(max_length=16, null=True, db_index=True)
    timezone = fields.CharField(max_length=48)

    class Meta:
        table = "regions_region"


class RegionChat(Model):
    """A group or channel bound to a region on one platform."""

    id = fields.IntField(primary_key=True)
    region_code = fields.CharField(max_length=16, db_index=True)
    platform = fields.CharField(max_length=16)
    chat_id = fields.CharField(max_length=64)
    thread_id = fields.CharField(max_length=64, default="")
    title = fields.CharField(max_length=128, default="")
    invite_link = fields.CharField(max_length=255, null=True)
    discord_role_id = fields.CharField(max_length=32, null=True)
    linked_by_id = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "regions_chat"
        unique_together = (("platform", "chat_id", "thread_id"),)


class RecipientCount(Model):
    """The official number of programme recipients in a region, imported from a file."""

    region_code = fields.CharField(max_length=16, primary_key=True)
    recipients = fields.IntField()
    imported_at = fields.DatetimeField()

    class Meta:
        table = "regions_recipients"
