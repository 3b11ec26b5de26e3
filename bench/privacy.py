"""What the privacy gate costs per command: the consent lookup and the database-backed
rate-limit counter, against the same App with the limit switched off (baseline), both on
an in-memory SQLite database in this process. Also: exporting and forgetting a member.

Run: .venv/bin/python bench/privacy.py
"""

from __future__ import annotations

import asyncio
import os
import time

from core import Member
from core.testing import FakeChat, make_app

COMMANDS = 400


async def commands_per_second(limit: int) -> float:
    async with make_app(limits={"commands_per_minute": limit}) as app:
        chat = FakeChat(app)
        amir = chat.user("amir")
        await amir.says("/consent")
        await amir.presses("✅ Setuju")
        started = time.perf_counter()
        for _ in range(COMMANDS):
            await amir.says("/help")
        return COMMANDS / (time.perf_counter() - started)


async def export_and_forget() -> tuple[float, float]:
    async with make_app(limits={"commands_per_minute": 0}) as app:
        chat = FakeChat(app)
        amir = chat.user("amir")
        for _ in range(50):
            await amir.says("/help")
        member = await Member.get(display_name="amir")
        started = time.perf_counter()
        await app.privacy.export(member)
        exported = time.perf_counter() - started
        started = time.perf_counter()
        await app.privacy.forget(member)
        return exported, time.perf_counter() - started


async def main() -> None:
    print(f"machine: {os.cpu_count()} cpus (shared with other sessions)")
    baseline = await commands_per_second(0)
    gated = await commands_per_second(10**9)
    print(f"commands/s, rate limit off (baseline): {baseline:8.1f}")
    print(f"commands/s, rate limit on:              {gated:8.1f}")
    print(f"ratio on/off: {gated / baseline:.2f}")
    exported, forgotten = await export_and_forget()
    print(f"export one member: {exported * 1000:.1f} ms")
    print(f"forget one member: {forgotten * 1000:.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())
