"""Replies and edits through the delivery layer: paced per chat and per group, a chat held
back by a 429 (any retry_after) gets its reply after the wait, nothing is dropped, and no
apology goes into a chat the platform holds back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from core import (
    ChatKind,
    ChatRef,
    Command,
    Context,
    DeliveryStatus,
    FakeClock,
    Message,
    MessageRef,
    Outgoing,
    PluginInfo,
    RateLimits,
    RetryAfter,
    hookimpl,
)
from core.outbox.models import Delivery
from core.testing import TEST_START, FakeChat, MemoryAdapter


class Answers:
    PLUGIN = PluginInfo(name="answers")

    @hookimpl
    def guyub_register_commands(self) -> list[Command]:
        return [
            Command("ping", self.ping, "answers.cmd"),
            Command("boom", self.boom, "answers.cmd"),
        ]

    @hookimpl
    def guyub_register_texts(self) -> dict[str, dict[str, str]]:
        return {"id": {"answers.cmd": "Tes"}, "en": {"answers.cmd": "Test"}}

    async def ping(self, ctx: Context) -> None:
        await ctx.reply("pong")

    async def boom(self, ctx: Context) -> None:
        raise RuntimeError("a bug")


@dataclass(eq=False)
class HeldBack(MemoryAdapter):
    """Refuses sends to chats in ``hold`` once each with a 429 of ``seconds``; records
    every attempt."""

    clock: FakeClock | None = None
    hold: dict[str, float] = field(default_factory=dict)
    attempts: list[str] = field(default_factory=list)
    times: list[float] = field(default_factory=list)

    async def send(
        self, chat: ChatRef, message: Outgoing, *, reply_to: MessageRef | None = None
    ) -> MessageRef:
        self.attempts.append(chat.id)
        seconds = self.hold.pop(chat.id, None)
        if seconds is not None:
            raise RetryAfter(seconds)
        if self.clock is not None:
            self.times.append(self.clock.now().timestamp())
        return await super().send(chat, message, reply_to=reply_to)


def telegram_pace() -> RateLimits:
    return RateLimits(
        overall_per_second=30, per_chat_per_second=1, per_group_per_minute=20, dm_per_second=30
    )


async def test_reply_held_back_by_a_long_429_is_delivered_after_the_wait(make_app) -> None:
    clock = FakeClock(TEST_START)
    fake = HeldBack("tg", limits=telegram_pace(), clock=clock)
    async with make_app(plugins=[Answers()], clock=clock, discover_plugins=False) as app:
        chat = FakeChat(app, [fake])
        amir = chat.user("amir")
        group = chat.group("Aceh")
        fake.hold[group.id] = 25.0
        await amir.says(group, "/ping")
        # Not sent, not lost, no "sorry" into the held-back chat.
        chat.expect_nothing()
        assert fake.attempts == [group.id]
        assert await Delivery.filter(status=DeliveryStatus.PENDING).count() == 1
        await chat.advance(timedelta(seconds=10))
        assert not chat.sent_to(group)
        await chat.advance(timedelta(seconds=20))
        chat.expect_sent(group, contains="pong")
        assert fake.attempts == [group.id, group.id]
    assert len(chat.sent_to(group)) == 1


async def test_no_apology_into_a_chat_the_platform_holds_back(make_app) -> None:
    clock = FakeClock(TEST_START)
    fake = HeldBack("tg", limits=telegram_pace(), clock=clock)
    async with make_app(plugins=[Answers()], clock=clock, discover_plugins=False) as app:
        chat = FakeChat(app, [fake])
        amir = chat.user("amir")
        group = chat.group("Aceh")
        fake.hold[group.id] = 25.0
        await amir.says(group, "/ping")  # the 429: the chat is held back for 25 s
        await amir.says(group, "/boom")  # a bug while it is held back
        assert fake.attempts == [group.id]  # no apology attempted
        await amir.says(chat.group("Bireuen"), "/boom")
        chat.expect_sent(
            chat.group("Bireuen"), contains="Maaf, terjadi kesalahan"
        )  # told elsewhere


async def test_replies_in_one_group_keep_to_twenty_a_minute(make_app) -> None:
    clock = FakeClock(TEST_START)
    fake = HeldBack("tg", limits=telegram_pace(), clock=clock)
    async with make_app(plugins=[Answers()], clock=clock, discover_plugins=False) as app:
        chat = FakeChat(app, [fake])
        group = chat.group("Aceh")
        people = [chat.user(f"u{i}") for i in range(30)]
        for person in people:
            await person.says(group, "/ping")
        await chat.advance(timedelta(minutes=5))
        assert len(chat.sent_to(group)) == 30  # every reply arrives ...
    sent_at = sorted(fake.times)
    # ... and no 60 s window holds more than 20 of them (simulated time).
    for i, start in enumerate(sent_at):
        assert len([t for t in sent_at[i:] if t - start < 60.0]) <= 20


async def test_edits_wait_for_the_chat_too(make_app) -> None:
    clock = FakeClock(TEST_START)
    fake = HeldBack("tg", limits=telegram_pace(), clock=clock)
    async with make_app(clock=clock, discover_plugins=False, adapters=[fake]) as app:
        group = ChatRef("tg", "g1")
        ref = await app.send(group, Message.of("Hasil: 1"))
        start = clock.now()
        await app.edit(ref, Message.of("Hasil: 2"))
        # One message a second in a chat: the edit went out a second after the send.
        assert clock.now() - start >= timedelta(seconds=1)


async def test_replies_in_private_chats_are_not_held_to_the_bulk_dm_pace(make_app) -> None:
    clock = FakeClock(TEST_START)
    # Discord-like: bulk DMs go slowly (spam heuristics), answers to members do not.
    slow_dms = RateLimits(
        overall_per_second=25, per_chat_per_second=1, per_group_per_minute=30, dm_per_second=0.5
    )
    fake = HeldBack("dc", limits=slow_dms, clock=clock)
    async with make_app(clock=clock, discover_plugins=False, adapters=[fake]) as app:
        for i in range(20):
            ref = await app.send(ChatRef("dc", f"dm{i}", ChatKind.DM), Message.of("hai"))
            assert ref.id  # sent now, not stored for later
        assert clock.now() - TEST_START < timedelta(seconds=2)
