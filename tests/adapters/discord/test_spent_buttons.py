"""Spent flow buttons: when a flow ends, the buttons of its questions are disabled on
Discord, and a press that still reaches the bot (an edit Discord refused) is answered
"already done" without running anything again."""

from __future__ import annotations

import discord
from guyub_world import guyub_on_discord
from test_region_roles import register


def buttons(message: discord.Message) -> list[tuple[str | None, bool]]:
    return [
        (c.label, c.disabled)
        for row in message.components
        for c in getattr(row, "children", [])
        if isinstance(c, discord.Button)
    ]


async def test_a_finished_flow_disables_its_buttons(make_app) -> None:
    async with guyub_on_discord(make_app) as guyub:
        amir = await guyub.joins("amir")
        await register(guyub, amir, "Aceh Utara")
        asked = [m for m in amir.user.dm_channel.history() if buttons(m)]
        last = asked[-1]
        assert "bahasa" in last.content
        assert buttons(last) == [("Bahasa Indonesia", True), ("English", True)]
        # Every question of the flow, the consent and the "Lewati" ones too.
        assert len(asked) >= 5
        assert all(disabled for m in asked for _label, disabled in buttons(m))


async def test_a_press_on_a_spent_button_is_answered_already_done(make_app) -> None:
    async with guyub_on_discord(make_app) as guyub:
        budi = await guyub.joins("budi")
        # Discord refuses the edits (say the bot lost access): the buttons stay pressable.
        guyub.env.inject_error(
            "PATCH", "/channels/*/messages/*", status=403, code=50001, times=None
        )
        await register(guyub, budi, "Aceh Utara")
        dm = budi.user.dm_channel
        language = next(m for m in reversed(dm.history()) if buttons(m))
        assert buttons(language) == [("Bahasa Indonesia", False), ("English", False)]

        pressed = await budi.user.click(language, label="English")
        assert pressed.response is not None
        assert "Langkah ini sudah selesai" in pressed.response.content
        member = await guyub.member_of(budi)
        assert member.language == "id"  # nothing ran again

        skip = next(m for m in dm.history() if ("Lewati", False) in buttons(m))
        pressed = await budi.user.click(skip, label="Lewati")
        assert pressed.response is not None
        assert "Langkah ini sudah selesai" in pressed.response.content
