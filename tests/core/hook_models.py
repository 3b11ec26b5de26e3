"""A model owned by a test plugin (guyub_register_models)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Note(Model):
    """A note a member left."""

    id = fields.IntField(primary_key=True)
    member_id = fields.IntField()
    text = fields.CharField(max_length=200)

    class Meta:
        table = "hooktest_note"
