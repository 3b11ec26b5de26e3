"""A terminal chat for local use, demos and scenario scripts.

Found by the core through the ``guyub.adapters`` entry point: ``create(settings)`` builds the
adapter, ``ConsoleSession`` plays scripts, ``demo_script()`` is ``guyub demo``'s scenario.
"""

from __future__ import annotations

from importlib import resources

from adapters.console._adapter import ConsoleAdapter
from adapters.console._session import ConsoleSession, ScriptError, ScriptResult, parse_clock
from core import Settings

__all__ = [
    "ConsoleAdapter",
    "ConsoleSession",
    "ScriptError",
    "ScriptResult",
    "create",
    "demo_script",
    "parse_clock",
]


def create(settings: Settings) -> ConsoleAdapter:
    """The console adapter (always available: it needs no token)."""
    return ConsoleAdapter()


def demo_script() -> str:
    """The scenario ``guyub demo`` plays."""
    return resources.files(__package__).joinpath("demo.txt").read_text(encoding="utf-8")
