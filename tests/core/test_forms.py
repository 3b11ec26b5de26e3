"""Forms: shown where the platform has modals, refused (False) elsewhere."""

from __future__ import annotations

from core import Command, Context, Form, FormField


async def test_show_form_is_false_without_modals(chat) -> None:
    shown: list[bool] = []

    async def ask(ctx: Context) -> None:
        shown.append(await ctx.show_form(Form("Cerita", (FormField("name", "Nama"),), "x:y")))

    chat.app.commands.add(Command("ask", ask, "core.help.title"), "test")
    amir = chat.user("amir")
    await amir.says(chat.group("Aceh"), "/ask")
    assert shown == [False]
