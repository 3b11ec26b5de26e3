"""The onboarding plugin's tables. Models import tortoise only.

Nothing here is written before a member agrees to the community's data use: a "no" to the
consent question leaves only the platform account the core keeps anyway.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

__all__ = ["PendingNotice", "Profile"]


class Profile(Model):
    """Alumni details a member gave at registration: training batch and training taken."""

    id = fields.IntField(primary_key=True)
    member_id = fields.IntField(unique=True)
    batch = fields.IntField(null=True)
    training = fields.CharField(max_length=100, null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "onboarding_profile"


class PendingNotice(Model):
    """News for the captains of a region, waiting for the next digest."""

    id = fields.IntField(primary_key=True)
    region_code = fields.CharField(max_length=16, db_index=True)
    member_id = fields.IntField(db_index=True)
    kind = fields.CharField(max_length=16)
    other_region = fields.CharField(max_length=16, null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "onboarding_notice"
