"""Captain tools: broadcasts through the core outbox, member lists and export, stats,
moderation in regional groups, and captain management. Every captain/admin command is
checked in the core (the command's role, then ``ctx.require_region`` for its region)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core import (
    Action,
    App,
    CliCommand,
    Command,
    Flow,
    Member,
    ModelModule,
    Param,
    ParamType,
    PluginInfo,
    Role,
    Where,
    hookimpl,
    load_texts,
)
from plugins.captains import _broadcast, _captains, _members, _moderation, _stats, _web
from plugins.captains._cli import cli_commands
from plugins.captains.models import Broadcast, Warning

PLUGIN = PluginInfo(
    name="captains",
    version="0.1.0",
    description="Broadcasts, member lists, stats, moderation and captain management",
)


class CaptainsSettings(BaseModel):
    """The ``[captains]`` settings table."""

    model_config = ConfigDict(extra="forbid")

    approval_threshold: int = Field(5000, ge=0)
    warnings_before_mute: int = Field(3, ge=0)
    auto_mute_minutes: int = Field(1440, ge=1)
    members_page_size: int = Field(20, ge=1, le=100)


def _region(required: bool = False) -> Param:
    return Param(
        "region",
        ParamType.TEXT,
        required=required,
        description="captains.param.region",
        autocomplete="regions",
        alias="wilayah",
    )


def _delete() -> Param:
    """``hapus pesan``: also remove the message the command replies to."""
    return Param(
        "delete",
        ParamType.TEXT,
        required=False,
        description="captains.param.delete",
        alias="hapus",
    )


_WHO_ALIASES = {"member": "anggota", "old": "lama", "new": "baru"}


def _who(required: bool = False, name: str = "member") -> Param:
    return Param(
        name,
        ParamType.USER,
        required=required,
        description="captains.param.member",
        alias=_WHO_ALIASES[name],
    )


@hookimpl
def guyub_register_commands() -> Sequence[Command]:
    captain, admin = Role.CAPTAIN, Role.ADMIN
    return [
        Command(
            "captain_add",
            _captains.captain_add,
            "captains.cmd.captain_add",
            alias="kapten_tambah",
            params=(_who(True), _region(True)),
            role=admin,
        ),
        Command(
            "captain_remove",
            _captains.captain_remove,
            "captains.cmd.captain_remove",
            alias="kapten_hapus",
            params=(_who(True), _region()),
            role=admin,
        ),
        Command(
            "captain_list",
            _captains.captain_list,
            "captains.cmd.captain_list",
            alias="kapten_daftar",
            params=(_region(),),
            role=captain,
        ),
        Command(
            "captain_handover",
            _captains.captain_handover,
            "captains.cmd.captain_handover",
            alias="kapten_serah",
            params=(_who(True, "old"), _who(True, "new"), _region()),
            role=captain,
        ),
        Command(
            "broadcast",
            _broadcast.broadcast_command,
            "captains.cmd.broadcast",
            alias="siaran",
            params=(_region(),),
            role=captain,
            where=Where.DM,
        ),
        Command(
            "members",
            _members.members_command,
            "captains.cmd.members",
            alias="anggota",
            params=(_region(),),
            role=captain,
            where=Where.DM,  # names of members stay out of group chats
        ),
        Command(
            "stats",
            _stats.stats_command,
            "captains.cmd.stats",
            alias="statistik",
            params=(_region(),),
            role=captain,
        ),
        Command(
            "warn",
            _moderation.warn,
            "captains.cmd.warn",
            alias="peringatkan",
            params=(
                _who(),
                Param(
                    "reason",
                    ParamType.TEXT,
                    required=False,
                    description="captains.param.reason",
                    alias="alasan",
                ),
            ),
            role=captain,
            where=Where.GROUP,
        ),
        Command(
            "mute",
            _moderation.mute,
            "captains.cmd.mute",
            alias="bisukan",
            params=(
                Param(
                    "duration",
                    ParamType.DURATION,
                    description="captains.param.duration",
                    alias="durasi",
                ),
                _who(),
                _delete(),
            ),
            role=captain,
            where=Where.GROUP,
        ),
        Command(
            "unmute",
            _moderation.unmute,
            "captains.cmd.unmute",
            alias="suarakan",
            params=(_who(),),
            role=captain,
            where=Where.GROUP,
        ),
        Command(
            "kick",
            _moderation.kick,
            "captains.cmd.kick",
            alias="keluarkan",
            params=(_who(),),
            role=captain,
            where=Where.GROUP,
        ),
        Command(
            "ban",
            _moderation.ban,
            "captains.cmd.ban",
            alias="blokir",
            params=(_who(), _delete()),
            role=captain,
            where=Where.GROUP,
        ),
        Command(
            "audit",
            _moderation.audit_command,
            "captains.cmd.audit",
            alias="jejak",
            params=(_region(),),
            role=admin,
            where=Where.DM,
        ),
    ]


@hookimpl
def guyub_register_actions() -> Sequence[Action]:
    return [
        Action(_broadcast.ACTION, _broadcast.on_button),
        Action(_members.ACTION, _members.on_button),
    ]


@hookimpl
def guyub_register_flows() -> Sequence[Flow]:
    return [Flow(_broadcast.FLOW, _broadcast.broadcast_flow, asks=("text",))]


@hookimpl
def guyub_register_models() -> Sequence[ModelModule]:
    return [
        ModelModule(
            app="captains",
            models=("plugins.captains.models",),
            migrations="plugins.captains.migrations",
        )
    ]


@hookimpl
def guyub_register_settings() -> type[Any]:
    return CaptainsSettings


@hookimpl
def guyub_register_texts() -> dict[str, dict[str, str]]:
    return load_texts(__name__)


@hookimpl
def guyub_register_cli() -> Sequence[CliCommand]:
    return cli_commands()


@hookimpl
async def guyub_on_startup(app: App) -> None:
    app.outbox.on_progress(_broadcast.KIND, _broadcast.on_progress(app))


@hookimpl
async def guyub_collect_stats(region_codes: Sequence[str] | None, app: App) -> dict[str, Any]:
    return await _stats.collect(app, list(region_codes) if region_codes else [""])


@hookimpl
async def guyub_export_member(member: Member) -> dict[str, Any] | None:
    warnings = await Warning.filter(member_id=member.id).order_by("at")
    broadcasts = await Broadcast.filter(sender_id=member.id).order_by("created_at")
    if not warnings and not broadcasts:
        return None
    return {
        "warnings": [
            {
                "at": w.at.isoformat(),
                "chat": w.chat_key,
                "region": w.region_code,
                "reason": w.reason,
            }
            for w in warnings
        ],
        "broadcasts_sent": [
            {
                "at": b.created_at.isoformat(),
                "regions": b.regions,
                "text": b.text,
                "status": b.status,
            }
            for b in broadcasts
        ],
    }


@hookimpl
async def guyub_forget_member(member: Member) -> None:
    await Warning.filter(member_id=member.id).delete()
    await Warning.filter(by_id=member.id).update(by_id=None)
    # Broadcasts went to whole regions: they stay (counts, audit) without their sender.
    await Broadcast.filter(sender_id=member.id).update(sender_id=None)
    await Broadcast.filter(approved_by_id=member.id).update(approved_by_id=None)


@hookimpl
async def guyub_on_members_merged(app: App, kept: Member, merged: Member) -> None:
    await Warning.filter(member_id=merged.id).update(member_id=kept.id)
    await Warning.filter(by_id=merged.id).update(by_id=kept.id)
    await Broadcast.filter(sender_id=merged.id).update(sender_id=kept.id)
    await Broadcast.filter(approved_by_id=merged.id).update(approved_by_id=kept.id)


@hookimpl
def guyub_register_web() -> list[Any]:
    return list(_web.routes())


@hookimpl
def guyub_register_dashboard() -> list[Any]:
    return list(_web.pages())
