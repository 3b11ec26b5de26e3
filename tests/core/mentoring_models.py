"""The model of a test plugin whose author never ran ``guyub db makemigrations``."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Mentor(Model):
    """A member offering to mentor others in a skill."""

    id = fields.IntField(primary_key=True)
    member_id = fields.IntField()
    skill = fields.CharField(max_length=80)

    class Meta:
        table = "mentoring_mentor"
