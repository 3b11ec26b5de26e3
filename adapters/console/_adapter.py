"""The console adapter: a terminal chat, the default when no platform token is configured."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from typing import TextIO

from adapters.console._session import PLATFORM, ConsoleSession, ScriptError, TerminalOut
from core import App
from core.testing import ExpectationFailed, MemoryAdapter

__all__ = ["ConsoleAdapter"]

BANNER = """Guyub console. Type messages as the current user (commands start with /).
:as NAME, :admin NAME, :in group NAME, :in dm, :join, :leave, :press LABEL, :vote 1,3,
:clock +2h.
Ctrl-D quits."""


@dataclass(eq=False)
class ConsoleAdapter(MemoryAdapter):
    """Reads lines from a terminal and prints the bot's answers, inside ``App.run``."""

    name: str = PLATFORM

    def __post_init__(self) -> None:
        super().__post_init__()
        self.stdin: TextIO = sys.stdin
        self.stdout: TextIO = sys.stdout

    def __hash__(self) -> int:
        return id(self)

    async def run(self, app: App) -> None:
        session = ConsoleSession(app, self.stdout, adapter=self)
        out = TerminalOut(self.stdout)
        out.write(BANNER + "\n")
        while True:
            out.write(f"{session.user.name}@{session._label(session.where)}> ")
            out.flush()
            try:
                line = await asyncio.to_thread(self.stdin.readline)
            except UnicodeDecodeError:
                out.write("!! that line is not UTF-8 text; ignored\n")
                continue
            if not line:
                out.write("\n")
                app.request_stop()
                return
            try:
                await session.handle(line)
            except (ScriptError, ExpectationFailed) as exc:
                out.write(f"!! {exc}\n")
