"""The polls plugin's tables: polls, ballots (one per member per poll) and the messages a
poll was posted as. Models import tortoise only.

Tortoise turns model docstrings into table comments and its SQLite migration runner splits
on semicolons and chokes on quotes: keep model docstrings to plain words.
"""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

__all__ = ["Ballot", "Poll", "Post", "TallyCell"]


class Poll(Model):
    """A poll, from a template or written by a captain, open until it closes."""

    id = fields.IntField(primary_key=True)
    template = fields.CharField(max_length=32, null=True, db_index=True)
    wave = fields.IntField(default=1)
    label = fields.CharField(max_length=64, default="")
    question: dict[str, str] = fields.JSONField(default=dict)
    options: list[dict[str, str]] = fields.JSONField(default=list)
    multiple = fields.BooleanField(default=False)
    anonymous = fields.BooleanField(default=True)
    results_live = fields.BooleanField(default=True)
    region_code = fields.CharField(max_length=16, null=True, db_index=True)
    language = fields.CharField(max_length=8, default="id")
    created_by_id = fields.IntField(null=True)
    created_at = fields.DatetimeField()
    closes_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)

    ballots: fields.ReverseRelation[Ballot]
    posts: fields.ReverseRelation[Post]

    class Meta:
        table = "polls_poll"


class Ballot(Model):
    """The answer of one member to one poll. The choices are a bit set of option indexes.
    Rows without a member are aggregates of ballots whose members asked to be forgotten,
    weight says how many ballots such a row stands for."""

    id = fields.BigIntField(primary_key=True)
    poll: fields.ForeignKeyRelation[Poll] = fields.ForeignKeyField(
        "polls.Poll", related_name="ballots", on_delete=fields.CASCADE
    )
    member_id = fields.IntField(null=True)
    choices = fields.IntField()
    weight = fields.IntField(default=1)
    region_code = fields.CharField(max_length=16, null=True)
    province_code = fields.CharField(max_length=8, null=True)
    platform = fields.CharField(max_length=16, null=True)
    voted_at = fields.DatetimeField()

    poll_id: int

    class Meta:
        table = "polls_ballot"
        unique_together = (("poll", "member_id"),)
        # Covering indexes: the result query reads only the index, in group order.
        indexes = (
            ("poll_id", "region_code", "choices", "weight"),
            ("poll_id", "province_code", "choices", "weight"),
            ("member_id",),
        )


class Post(Model):
    """A message showing a poll in one chat, with its native poll id where there is one."""

    id = fields.IntField(primary_key=True)
    poll: fields.ForeignKeyRelation[Poll] = fields.ForeignKeyField(
        "polls.Poll", related_name="posts", on_delete=fields.CASCADE
    )
    platform = fields.CharField(max_length=16)
    chat_id = fields.CharField(max_length=64)
    chat_kind = fields.CharField(max_length=8, default="group")
    chat_title = fields.CharField(max_length=128, null=True)
    thread = fields.CharField(max_length=64, null=True)
    message_id = fields.CharField(max_length=64)
    native_poll_id = fields.CharField(max_length=128, null=True)
    language = fields.CharField(max_length=8, default="id")
    posted_at = fields.DatetimeField()
    extra: dict[str, Any] = fields.JSONField(default=dict)

    poll_id: int

    class Meta:
        table = "polls_post"
        indexes = (("platform", "native_poll_id"),)


class TallyCell(Model):
    """Ballots of a poll (by weight) with one answer set in one region, kept with them.

    Updated in the transaction of every ballot change. Several rows for the same cell may
    exist (two workers creating it at once): results add them up."""

    id = fields.BigIntField(primary_key=True)
    poll: fields.ForeignKeyRelation[Poll] = fields.ForeignKeyField(
        "polls.Poll", related_name="tally", on_delete=fields.CASCADE
    )
    region_code = fields.CharField(max_length=16, null=True)
    province_code = fields.CharField(max_length=8, null=True)
    choices = fields.IntField()
    weight = fields.IntField(default=0)

    poll_id: int

    class Meta:
        table = "polls_tally"
        indexes = (("poll_id", "region_code", "choices"),)
