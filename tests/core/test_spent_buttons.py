"""Spent flow buttons (core/_context.py end_flow, core/_app.py): when a flow ends, the
buttons of the questions it asked are made unusable where the platform can edit messages,
and a press that still arrives is answered "already done" without running anything."""

from __future__ import annotations

from typing import Any

from core import (
    Action,
    Button,
    Capability,
    Command,
    Context,
    Flow,
    MessageRef,
    PluginInfo,
    hookimpl,
)
from core.models import FlowPrompt
from core.testing import ALL_CAPABILITIES, FakeChat, MemoryAdapter, make_app


class Quiz:
    """A two-question flow answered with buttons, and a card that outlives it."""

    PLUGIN = PluginInfo(name="quiz")

    def __init__(self) -> None:
        self.answers: list[str] = []

    async def start(self, ctx: Context) -> None:
        await ctx.reply("Sebelum mulai: kartu acara", buttons=[Button("Hadir", "quiz:card")])
        await ctx.start_flow("quiz:run", "first")
        await ctx.reply("Pertanyaan 1?", buttons=[Button("Satu", "quiz:answer", {"v": "a"})])

    async def answer(self, ctx: Context, data: dict[str, Any]) -> None:
        self.answers.append(str(data["v"]))
        if ctx.conversation is not None and ctx.conversation.step == "first":
            await ctx.set_step("second")
            await ctx.reply("Pertanyaan 2?", buttons=[Button("Dua", "quiz:answer", {"v": "b"})])
            return
        await ctx.end_flow()
        await ctx.reply("Selesai!", buttons=[Button("Lihat hasil", "quiz:card")])

    async def card(self, ctx: Context, data: dict[str, Any]) -> None:
        await ctx.reply("Kartu dibuka")

    async def typed(self, ctx: Context, text: str) -> None:
        await ctx.reply("Tekan tombolnya.")

    @hookimpl
    def guyub_register_commands(self) -> list[Command]:
        return [Command("quiz", self.start, "quiz.cmd")]

    @hookimpl
    def guyub_register_actions(self) -> list[Action]:
        return [Action("quiz:answer", self.answer), Action("quiz:card", self.card)]

    @hookimpl
    def guyub_register_flows(self) -> list[Flow]:
        return [Flow("quiz:run", self.typed)]

    @hookimpl
    def guyub_register_texts(self) -> dict[str, dict[str, str]]:
        return {"id": {"quiz.cmd": "Kuis"}, "en": {"quiz.cmd": "Quiz"}}


async def test_a_finished_flow_takes_its_questions_buttons_away() -> None:
    quiz = Quiz()
    async with make_app(plugins=[quiz], discover_plugins=False) as app:
        chat = FakeChat(app)
        amir = chat.user("amir")
        await amir.says("/quiz")
        await amir.presses("Satu")
        await amir.presses("Dua")
        chat.expect_sent(amir, contains="Selesai!")
        questions = [s for s in chat.sent_to(amir) if s.text.startswith("Pertanyaan")]
        assert [s.button_labels() for s in questions] == [[], []]
        assert chat.adapter().closed == [s.ref for s in reversed(questions)]  # latest first
        # What was sent outside the flow keeps its buttons.
        assert chat.latest_with_button(amir.dm, "Hadir") is not None
        assert chat.latest_with_button(amir.dm, "Lihat hasil") is not None

        # A client that has not caught up presses an old one: told, nothing runs again.
        await amir.presses("Satu", spent=True)
        chat.expect_sent(amir, contains="Langkah ini sudah selesai")
        assert quiz.answers == ["a", "b"]
        await amir.presses("Hadir")
        chat.expect_sent(amir, contains="Kartu dibuka")


async def test_where_messages_cannot_be_edited_a_press_is_answered_already_done() -> None:
    quiz = Quiz()
    plain = MemoryAdapter("fake", caps=ALL_CAPABILITIES - {Capability.EDIT_MESSAGES})
    async with make_app(plugins=[quiz], discover_plugins=False) as app:
        chat = FakeChat(app, [plain])
        budi = chat.user("budi")
        await budi.says("/quiz")
        await budi.presses("Satu")
        await budi.presses("Dua")
        assert plain.closed == []
        await budi.presses("Dua")  # still shown: the platform can't take it away
        chat.expect_sent(budi, contains="Langkah ini sudah selesai")
        await budi.presses("Satu")
        chat.expect_sent(budi, contains="Langkah ini sudah selesai")
        assert quiz.answers == ["a", "b"]
        member = await chat.app.identity.find("budi", "fake")
        assert member is not None
        assert await FlowPrompt.filter(member_id=member.id, spent_at__isnull=False).count() == 2


class _Flaky(MemoryAdapter):
    """A platform whose edits time out on the way."""

    async def close_buttons(self, ref: MessageRef) -> None:
        raise TimeoutError("edit timed out")


async def test_a_failed_disable_never_turns_a_finished_answer_into_an_error() -> None:
    quiz = Quiz()
    flaky = _Flaky("fake")
    async with make_app(plugins=[quiz], discover_plugins=False) as app:
        chat = FakeChat(app, [flaky])
        cut = chat.user("cut")
        await cut.says("/quiz")
        await cut.presses("Satu")
        await cut.presses("Dua")
        chat.expect_sent(cut, contains="Selesai!")
        chat.expect_not_sent(cut, contains="kesalahan")
        await cut.presses("Dua")
        chat.expect_sent(cut, contains="Langkah ini sudah selesai")
