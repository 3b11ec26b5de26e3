"""A small plugin the Discord adapter tests drive: a welcome on join, typed slash options
with autocomplete, a private command, a grouped command creating a guild scheduled event,
a native poll and a button."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from core import (
    Action,
    Button,
    ButtonPressed,
    Capability,
    Command,
    Context,
    Form,
    FormField,
    Member,
    MemberJoined,
    MemberLeft,
    Message,
    Param,
    ParamType,
    PluginInfo,
    PollAnswered,
    PollSpec,
    Role,
    ScheduledEvent,
    ScheduledEventInterest,
    hookimpl,
)

PLUGIN = PluginInfo(name="sample", version="1.0.0", description="Discord adapter test plugin")

#: Poll answers the core received, in order (the tests read and clear it).
votes: list[tuple[str, str, tuple[int, ...]]] = []
#: Scheduled events the plugin created, by title.
created: dict[str, str] = {}

_REGIONS = [("Aceh", "11"), ("Aceh Utara", "11.08"), ("Bireuen", "11.11"), ("Jawa Barat", "32")]


async def greet(
    ctx: Context, region: str, times: int | None = None, who: Member | None = None
) -> None:
    name = who.display_name if who else (ctx.member.display_name if ctx.member else "")
    await ctx.reply(ctx.t("sample.greeting", name=name, region=region, times=times or 1))


async def secret(ctx: Context) -> None:
    await ctx.reply(ctx.t("sample.secret_text"))


async def whisper(ctx: Context) -> None:
    await ctx.reply(ctx.t("sample.secret_text"), private=True)


async def wave(ctx: Context) -> None:
    await ctx.reply(
        ctx.t("sample.wave_text"), buttons=[Button(ctx.t("sample.wave_button"), "sample:wave")]
    )


async def waved(ctx: Context, data: dict[str, Any]) -> None:
    assert ctx.member is not None
    await ctx.reply(ctx.t("sample.waved", name=ctx.member.display_name))


_STORY = Form(
    "Cerita alumni",
    (FormField("name", "Nama"), FormField("story", "Cerita", long=True, required=False)),
    action="sample:story",
    data={"from": "sample"},
)


async def story(ctx: Context) -> None:
    if not await ctx.show_form(_STORY):
        await ctx.reply(
            "Tulis ceritamu di sini.", buttons=[Button("Isi formulir", "sample:open_story")]
        )


async def open_story(ctx: Context, data: dict[str, Any]) -> None:
    if not await ctx.show_form(_STORY):
        await ctx.reply("Tulis ceritamu di sini.")


async def story_told(ctx: Context, data: dict[str, Any]) -> None:
    answers = data["form"]
    await ctx.reply(f"Terima kasih {answers['name']}: {answers['story']} ({data['from']})")


async def quiet(ctx: Context) -> None:
    """Answers nothing: the adapter still acknowledges the interaction."""


async def slow(ctx: Context) -> None:
    """Answers after 0.2 s of loop time: a shorter ``defer_after`` timer rings first."""
    await asyncio.sleep(0.2)
    await ctx.reply("Selesai")


async def counter(ctx: Context) -> None:
    await ctx.reply("Hitungan: 0", buttons=[Button("+1", "sample:count", {"n": 0})])


async def count(ctx: Context, data: dict[str, Any]) -> None:
    event = ctx.event
    assert isinstance(event, ButtonPressed)
    assert event.message is not None
    n = int(data["n"]) + 1
    await ctx.edit(
        event.message, f"Hitungan: {n}", buttons=[Button("+1", "sample:count", {"n": n})]
    )


async def vote(ctx: Context) -> None:
    if not ctx.supports(Capability.NATIVE_POLLS):
        await ctx.reply("no polls")
        return
    await ctx.reply(
        Message.of(
            "",
            poll=PollSpec(
                "Dana insentif dipakai untuk apa?",
                ("Makan", "Modal usaha", "Listrik"),
                multiple=True,
            ),
        )
    )


async def event_new(ctx: Context, title: str) -> None:
    assert ctx.adapter is not None
    assert ctx.chat is not None
    start = ctx.now() + timedelta(days=1)
    event_id = await ctx.adapter.create_scheduled_event(
        ctx.chat, ScheduledEvent(title, start, description="Temu alumni", location="Banda Aceh")
    )
    created[title] = event_id
    await ctx.reply(ctx.t("sample.event_created", title=title))


async def event_cancel(ctx: Context, title: str) -> None:
    assert ctx.adapter is not None
    assert ctx.chat is not None
    await ctx.adapter.cancel_scheduled_event(ctx.chat, created[title])
    await ctx.reply(ctx.t("sample.event_cancelled", title=title))


@hookimpl
def guyub_register_commands() -> list[Command]:
    return [
        Command(
            "greet",
            greet,
            "sample.greet",
            alias="sapa",
            params=(
                Param("region", description="sample.region", autocomplete="regions"),
                Param("times", ParamType.INT, required=False),
                Param("who", ParamType.USER, required=False),
            ),
        ),
        Command("secret", secret, "sample.secret", private=True),
        Command("whisper", whisper, "sample.secret"),
        Command("wave", wave, "sample.wave"),
        Command("vote", vote, "sample.vote"),
        Command("counter", counter, "sample.wave"),
        Command("quiet", quiet, "sample.wave"),
        Command("slow", slow, "sample.wave"),
        Command("story", story, "sample.wave"),
        Command(
            "event_new",
            event_new,
            "sample.event_new",
            group="event",
            subname="new",
            role=Role.CAPTAIN,
            params=(Param("title", ParamType.TEXT),),
        ),
        Command(
            "event_cancel",
            event_cancel,
            "sample.event_cancel",
            group="event",
            subname="cancel",
            role=Role.CAPTAIN,
            params=(Param("title", ParamType.TEXT),),
        ),
    ]


@hookimpl
def guyub_register_actions() -> list[Action]:
    return [
        Action("sample:wave", waved),
        Action("sample:count", count),
        Action("sample:story", story_told),
        Action("sample:open_story", open_story),
    ]


@hookimpl
def guyub_register_texts() -> dict[str, dict[str, str]]:
    return {
        "id": {
            "sample.greet": "Sapa anggota dari sebuah daerah",
            "sample.region": "Daerah asal",
            "sample.greeting": "Halo <b>{name}</b> dari {region} (x{times})",
            "sample.secret": "Pesan rahasia",
            "sample.secret_text": "Hanya untukmu",
            "sample.wave": "Lambaikan tangan",
            "sample.wave_text": "Tekan tombolnya",
            "sample.wave_button": "Lambai",
            "sample.waved": "{name} melambai!",
            "sample.vote": "Survei dana insentif",
            "sample.event_new": "Buat acara baru",
            "sample.event_cancel": "Batalkan acara",
            "sample.event_created": "Acara {title} dibuat",
            "sample.event_cancelled": "Acara {title} dibatalkan",
            "sample.welcome": "Selamat datang, {name}!",
            "sample.welcome_button": "Mulai",
            "sample.voted": "Suara tercatat",
        },
        "en": {
            "sample.greet": "Greet a member from a region",
            "sample.region": "Home region",
            "sample.greeting": "Hello <b>{name}</b> from {region} (x{times})",
            "sample.secret": "A secret message",
            "sample.secret_text": "Only for you",
            "sample.wave": "Wave",
            "sample.wave_text": "Press the button",
            "sample.wave_button": "Wave",
            "sample.waved": "{name} waves!",
            "sample.vote": "Incentive survey",
            "sample.event_new": "Create an event",
            "sample.event_cancel": "Cancel an event",
            "sample.event_created": "Event {title} created",
            "sample.event_cancelled": "Event {title} cancelled",
            "sample.welcome": "Welcome, {name}!",
            "sample.welcome_button": "Start",
            "sample.voted": "Vote recorded",
        },
    }


@hookimpl
async def guyub_on_member_joined(ctx: Context, event: MemberJoined) -> None:
    await ctx.reply(
        ctx.t("sample.welcome", name=event.user.display_name),
        buttons=[Button(ctx.t("sample.welcome_button"), "sample:wave")],
    )


@hookimpl
async def guyub_on_poll_answered(ctx: Context, event: PollAnswered) -> None:
    votes.append((event.poll_id, event.user.ref.id, event.options))


@hookimpl
async def guyub_resolve_completions(
    source: str, text: str, ctx: Context | None
) -> list[tuple[str, str]] | None:
    if source != "regions":
        return None
    return [(label, code) for label, code in _REGIONS if text.lower() in label.lower()]


#: Discord user ids of members who left.
left: list[str] = []


@hookimpl
async def guyub_on_member_left(ctx: Context, event: MemberLeft) -> None:
    left.append(event.user.ref.id)


#: Plain messages the core passed to plugins: (chat key, text).
messages: list[tuple[str, str]] = []


@hookimpl
async def guyub_on_message(ctx: Context, event: Any) -> None:
    messages.append((event.chat.key, event.text))


#: (event id, Discord user id, interested) as the core passed them on.
interest: list[tuple[str, str, bool]] = []


@hookimpl
async def guyub_on_scheduled_event_interest(ctx: Context, event: ScheduledEventInterest) -> None:
    interest.append((event.event_id, event.user.ref.id, event.interested))
