"""Tables of the core web app: one-time login links and browser sessions, both stored as
hashes so a database dump gives nobody a way in."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

__all__ = ["LoginLink", "WebSession"]


class LoginLink(Model):
    """A one time dashboard login link for one member, stored as a hash."""

    token_hash = fields.CharField(max_length=64, primary_key=True)
    member_id = fields.IntField(db_index=True)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(db_index=True)
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "core_web_login_link"


class WebSession(Model):
    """A signed in browser, stored as a hash of its cookie."""

    token_hash = fields.CharField(max_length=64, primary_key=True)
    member_id = fields.IntField(db_index=True)
    csrf = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "core_web_session"
