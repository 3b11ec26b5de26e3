"""Polls: the incentive-use survey and captains' polls, on every platform, with results per
region that never single anybody out.

``/poll_new incentive`` starts the PMO's template (templates live in ``[polls.templates]``);
``/poll_new Question | A | B --multi`` a poll of one's own. Members vote with buttons (private
to the bot) or native polls, one ballot per member across platforms. ``/poll_results``,
``/poll_close``, ``/poll_compare``, ``/poll_export`` and ``guyub export poll`` report them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core import (
    Action,
    App,
    CliCommand,
    Command,
    Context,
    JobKind,
    Member,
    ModelModule,
    Param,
    ParamType,
    PluginInfo,
    PollAnswered,
    Role,
    Where,
    hookimpl,
    load_texts,
)
from plugins.polls import ballots, cli, commands, posting, results, stats
from plugins.polls.settings import PollSettings

PLUGIN = PluginInfo(
    name="polls",
    version="0.1.0",
    description="Incentive-use and captains' polls across platforms, results per region",
)

_POLL = Param("poll", ParamType.INT, description="polls.param.poll", alias="polling")
_BY = ("province", "provinsi", "kabupaten", "kab", "kota")


@hookimpl
def guyub_register_commands() -> Sequence[Command]:
    return [
        Command(
            "poll_new",
            commands.new_command,
            "polls.cmd.new",
            alias="polling_baru",
            params=(
                Param(
                    "spec",
                    ParamType.TEXT,
                    required=False,
                    description="polls.param.spec",
                    alias="isi",
                ),
            ),
            role=Role.CAPTAIN,
            group="poll",
            subname="new",
            group_alias="polling",
            subalias="baru",
        ),
        Command(
            "poll_results",
            commands.results_command,
            "polls.cmd.results",
            alias="polling_hasil",
            params=(
                Param(
                    "poll",
                    ParamType.INT,
                    required=False,
                    description="polls.param.poll",
                    alias="polling",
                ),
                Param(
                    "by",
                    ParamType.CHOICE,
                    required=False,
                    choices=_BY,
                    description="polls.param.by",
                    alias="per",
                ),
            ),
            group="poll",
            subname="results",
            group_alias="polling",
            subalias="hasil",
        ),
        Command(
            "poll_close",
            commands.close_command,
            "polls.cmd.close",
            alias="polling_tutup",
            params=(_POLL,),
            role=Role.CAPTAIN,
            group="poll",
            subname="close",
            group_alias="polling",
            subalias="tutup",
        ),
        Command(
            "poll_compare",
            commands.compare_command,
            "polls.cmd.compare",
            alias="polling_banding",
            params=(
                Param("first", ParamType.INT, description="polls.param.first", alias="pertama"),
                Param("second", ParamType.INT, description="polls.param.second", alias="kedua"),
            ),
            group="poll",
            subname="compare",
            group_alias="polling",
            subalias="banding",
        ),
        Command(
            "poll_export",
            commands.export_command,
            "polls.cmd.export",
            alias="polling_ekspor",
            params=(
                _POLL,
                Param(
                    "what",
                    ParamType.CHOICE,
                    required=False,
                    choices=(*_BY, "ballots", "suara"),
                    description="polls.param.what",
                    alias="jenis",
                ),
            ),
            role=Role.CAPTAIN,
            group="poll",
            subname="export",
            group_alias="polling",
            subalias="ekspor",
        ),
        Command(
            "poll_post",
            commands.post_command,
            "polls.cmd.post",
            alias="polling_kirim",
            params=(_POLL,),
            role=Role.CAPTAIN,
            where=Where.GROUP,
            group="poll",
            subname="post",
            group_alias="polling",
            subalias="kirim",
        ),
        Command(
            "polls",
            commands.list_command,
            "polls.cmd.list",
            alias="daftar_polling",
            group="poll",
            subname="list",
            group_alias="polling",
            subalias="daftar",
        ),
    ]


@hookimpl
def guyub_register_actions() -> Sequence[Action]:
    return [Action(posting.VOTE_ACTION, commands.vote_button)]


@hookimpl
def guyub_register_jobs() -> Sequence[JobKind]:
    return [
        JobKind(posting.REFRESH_JOB, posting.refresh_job, max_attempts=2),
        JobKind(posting.CLOSE_JOB, results.close_job),
    ]


@hookimpl
def guyub_register_models() -> Sequence[ModelModule]:
    return [ModelModule("polls", ("plugins.polls.models",), "plugins.polls.migrations")]


@hookimpl
def guyub_register_texts() -> dict[str, dict[str, str]]:
    return load_texts(__name__)


@hookimpl
def guyub_register_settings() -> type[Any]:
    return PollSettings


@hookimpl
def guyub_register_cli() -> Sequence[CliCommand]:
    return cli.commands()


@hookimpl
async def guyub_on_poll_answered(ctx: Context, event: PollAnswered) -> None:
    await commands.poll_answered(ctx, event)


@hookimpl
async def guyub_on_members_merged(app: App, kept: Member, merged: Member) -> None:
    await ballots.merge_ballots(kept, merged)


@hookimpl
async def guyub_on_member_region_changed(
    ctx: Context, member: Member, old_region: str | None, new_region: str | None
) -> None:
    await ballots.move_region(member, ctx.now())


@hookimpl
async def guyub_export_member(member: Member) -> dict[str, Any] | None:
    return {"ballots": await ballots.export_ballots(member)}


@hookimpl
async def guyub_forget_member(member: Member) -> None:
    await ballots.forget_ballots(member)


@hookimpl
async def guyub_collect_stats(region_codes: Sequence[str] | None, app: App) -> dict[str, Any]:
    return await stats.collect(region_codes, app)
