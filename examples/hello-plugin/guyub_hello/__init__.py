"""An example third-party Guyub plugin.

``/hello`` (``/halo``) greets with a wave button, naming the member's region (so it
requires the built-in regions plugin); ``/hello_later 10m`` schedules a durable greeting.
It uses only ``core``'s public API and installs under the ``guyub.plugins`` entry point,
exactly like the built-in plugins.
"""

from __future__ import annotations

from datetime import timedelta

from core import (
    Action,
    Button,
    ChatKind,
    ChatRef,
    Command,
    Context,
    JobContext,
    JobKind,
    Member,
    Param,
    ParamType,
    PluginInfo,
    hookimpl,
    load_texts,
)

PLUGIN = PluginInfo(
    name="hello",
    version="1.0.0",
    description="Says hello, waves back, and greets later on a schedule",
    requires=("regions",),
    api=">=1.1,<2",
)


async def hello(ctx: Context) -> None:
    assert ctx.member is not None
    region = await ctx.regions.get(ctx.member.region_code)
    where = ctx.t("hello.from", region=region.name) if region else ""
    await ctx.reply(
        ctx.t("hello.greeting", name=ctx.member.display_name, where=where),
        buttons=[Button(ctx.t("hello.wave_button"), "hello:wave", {"n": 1})],
    )


async def wave(ctx: Context, data: dict[str, object]) -> None:
    assert ctx.member is not None
    await ctx.reply(ctx.t("hello.waved", name=ctx.member.display_name))


async def hello_later(ctx: Context, delay: timedelta) -> None:
    assert ctx.member is not None
    assert ctx.chat is not None
    due = ctx.now() + delay
    await ctx.scheduler.schedule(
        "hello:greet",
        due,
        {
            "member": ctx.member.id,
            "platform": ctx.chat.platform,
            "chat": ctx.chat.id,
            "kind": ctx.chat.kind.value,
            "title": ctx.chat.title,
        },
    )
    await ctx.reply(ctx.t("hello.scheduled", minutes=int(delay.total_seconds() // 60)))


async def greet(job: JobContext) -> None:
    member = await Member.get(id=job.payload["member"])
    chat = ChatRef(
        job.payload["platform"],
        job.payload["chat"],
        ChatKind(job.payload["kind"]),
        title=job.payload["title"],
    )
    ctx = job.for_member(member)
    await ctx.send(chat, ctx.t("hello.later", name=member.display_name))


@hookimpl
def guyub_register_commands() -> list[Command]:
    return [
        Command("hello", hello, "hello.cmd.hello", alias="halo"),
        Command(
            "hello_later",
            hello_later,
            "hello.cmd.later",
            alias="halo_nanti",
            params=(
                Param("delay", ParamType.DURATION, description="hello.param.delay", alias="jeda"),
            ),
        ),
    ]


@hookimpl
def guyub_register_actions() -> list[Action]:
    return [Action("hello:wave", wave)]


@hookimpl
def guyub_register_jobs() -> list[JobKind]:
    return [JobKind("hello:greet", greet)]


@hookimpl
def guyub_register_texts() -> dict[str, dict[str, str]]:
    return load_texts(__name__)
