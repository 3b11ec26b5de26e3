"""The core's tables. Models import tortoise only (no settings, no SDK).

Name columns are :class:`core._names.ShownNameField` (a CharField guarded as it is read): the
one import beside tortoise, a pure function.

Tortoise turns a model's docstring into a table comment, and its SQLite migration runner
splits statements on semicolons and chokes on quotes: keep model docstrings to plain words.
"""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from core._names import ShownNameField

__all__ = [
    "Account",
    "AuditEntry",
    "ButtonKey",
    "Conversation",
    "FlowPrompt",
    "Job",
    "Member",
    "RoleGrant",
]


class Member(Model):
    """A person in the community, whatever platforms they use."""

    id = fields.IntField(primary_key=True)
    display_name = ShownNameField(max_length=128, default="")
    language = fields.CharField(max_length=8, default="id")
    region_code = fields.CharField(max_length=16, null=True, db_index=True)
    registered_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_active_at = fields.DatetimeField(null=True)

    accounts: fields.ReverseRelation[Account]

    class Meta:
        table = "core_member"


class Account(Model):
    """A member on one platform, unique per platform and platform user id."""

    id = fields.IntField(primary_key=True)
    platform = fields.CharField(max_length=16)
    platform_user_id = fields.CharField(max_length=64)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "core.Member", related_name="accounts", on_delete=fields.CASCADE
    )
    username = fields.CharField(max_length=128, null=True)
    display_name = ShownNameField(max_length=128, default="")
    language = fields.CharField(max_length=16, null=True)
    dm_open = fields.BooleanField(default=False)
    #: The private chat with the bot, for /forgetme to find (on Discord not the user id).
    dm_chat_id = fields.CharField(max_length=128, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_seen_at = fields.DatetimeField(null=True)

    member_id: int

    class Meta:
        table = "core_account"
        unique_together = (("platform", "platform_user_id"),)


class RoleGrant(Model):
    """A captain or admin role. The scope is a region code for captains, empty for national."""

    id = fields.IntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "core.Member", related_name="roles", on_delete=fields.CASCADE
    )
    role = fields.CharField(max_length=16)
    scope = fields.CharField(max_length=16, default="")
    granted_by_id = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    member_id: int

    class Meta:
        table = "core_role_grant"
        unique_together = (("member", "role", "scope"),)


class AuditEntry(Model):
    """One captain or admin action, or a privacy-relevant event."""

    id = fields.IntField(primary_key=True)
    at = fields.DatetimeField(db_index=True)
    actor_id = fields.IntField(null=True, db_index=True)
    action = fields.CharField(max_length=64, db_index=True)
    target = fields.CharField(max_length=128, default="")
    region_code = fields.CharField(max_length=16, null=True, db_index=True)
    details: dict[str, Any] = fields.JSONField(default=dict)

    class Meta:
        table = "core_audit"


class Conversation(Model):
    """The step a member has reached in a multi-step flow, in one chat."""

    id = fields.IntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "core.Member", related_name="conversations", on_delete=fields.CASCADE
    )
    chat_key = fields.CharField(max_length=160, db_index=True)
    flow = fields.CharField(max_length=64)
    step = fields.CharField(max_length=64)
    data: dict[str, Any] = fields.JSONField(default=dict)
    updated_at = fields.DatetimeField(auto_now=True)

    member_id: int

    class Meta:
        table = "core_conversation"
        unique_together = (("member", "chat_key"),)


class FlowPrompt(Model):
    """A message with buttons that belongs to a flow of one member in one chat.

    When the flow ends its buttons are spent. They are disabled where the platform can
    edit them, and a press on one is answered politely as already done.
    """

    id = fields.IntField(primary_key=True)
    member_id = fields.IntField(db_index=True)
    chat_key = fields.CharField(max_length=160)
    message_id = fields.CharField(max_length=64)
    spent_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "core_flow_prompt"
        unique_together = (("chat_key", "message_id"),)


class ButtonKey(Model):
    """A button payload kept server side, the platform only sees the key."""

    key = fields.CharField(max_length=16, primary_key=True)
    action = fields.CharField(max_length=64)
    data: dict[str, Any] = fields.JSONField(default=dict)
    only_for = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "core_button"


class Job(Model):
    """Timed work, a row per job, claimed by one worker at a time."""

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharField(max_length=64, db_index=True)
    payload: dict[str, Any] = fields.JSONField(default=dict)
    due_at = fields.DatetimeField(db_index=True)
    tz = fields.CharField(max_length=48, default="UTC")
    status = fields.CharField(max_length=16, default="pending", db_index=True)
    attempts = fields.IntField(default=0)
    max_attempts = fields.IntField(default=5)
    late_after_seconds = fields.IntField(null=True)
    idempotency_key = fields.CharField(max_length=191, null=True, unique=True)
    last_error = fields.TextField(null=True)
    locked_by = fields.CharField(max_length=64, null=True)
    locked_until = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "core_job"
        # The claim looks for pending jobs by due time.
        indexes = (("status", "due_at"),)
