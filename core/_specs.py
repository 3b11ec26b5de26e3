"""What plugins declare at start-up: metadata, button actions, flows, job kinds, models."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from core._recurrence import Recurrence
from core._steps import Done, Step, run_steps

if TYPE_CHECKING:
    from core._context import Context, JobContext

__all__ = ["Action", "CliCommand", "CliParam", "Flow", "JobKind", "ModelModule", "PluginInfo"]

ActionHandler = Callable[["Context", dict[str, Any]], Awaitable[None]]
FlowHandler = Callable[["Context", str], Awaitable[None]]
JobHandler = Callable[["JobContext"], Awaitable[None]]
CliHandler = Callable[..., Awaitable[int | None]]


@dataclass(frozen=True, slots=True)
class PluginInfo:
    """A plugin's metadata: set ``PLUGIN = PluginInfo(...)`` in the plugin module.

    ``requires`` names plugins that must be enabled for this one to load. ``api`` is the
    range of :data:`core.API_VERSION` the plugin works with (``">=1.1,<2"``); a core outside
    it refuses the plugin with a clear message instead of failing later.
    """

    name: str
    version: str = "0"
    description: str = ""
    requires: tuple[str, ...] = ()
    api: str = ""


@dataclass(frozen=True, slots=True)
class Action:
    """What a button does: ``handler(ctx, data)`` runs when a button with this ``name`` is
    pressed. Names are namespaced by plugin: ``events:rsvp``."""

    name: str
    handler: ActionHandler


@dataclass(frozen=True, slots=True)
class Flow:
    """A multi-step conversation: while a member is in flow ``name`` in a chat, their plain
    messages there go to ``handler(ctx, text)``; ``ctx.conversation`` holds the step.

    Flows run in private chats unless ``groups`` is True. Group chatter is the bot's hot path:
    when no flow runs in groups and no plugin listens to ``guyub_on_message``, a plain group
    message costs no database round trip at all.

    ``asks`` names every step (``ctx.conversation.step``) a handler-style flow may be at, so
    the test suite can put hostile answers to each (a declarative flow's are its ``steps``).
    """

    name: str
    handler: FlowHandler
    groups: bool = False
    steps: tuple[Step, ...] = ()
    done: Done | None = None
    title: str | None = None
    asks: tuple[str, ...] = ()

    @property
    def step_names(self) -> tuple[str, ...]:
        """Every step this flow may wait at for a typed answer."""
        return tuple(s.name for s in self.steps) or self.asks

    @classmethod
    def of_steps(
        cls,
        name: str,
        steps: Sequence[Step],
        done: Done,
        *,
        groups: bool = False,
        title: str | None = None,
    ) -> Flow:
        """A declarative flow: the core asks each :class:`Step` in turn, stores the answers
        and calls ``done(ctx, answers)``; start it with ``ctx.start_steps(name, **given)``.
        Where the platform has forms and every open step has a ``label``, the steps are
        one form instead (``title``, a text key, heads it; at most 45 characters once
        translated, as each step's label: start-up warns about a longer one)."""
        if not steps:
            raise ValueError(f"flow {name!r} needs at least one step")
        names = [s.name for s in steps]
        if len(set(names)) != len(names):
            raise ValueError(f"flow {name!r}: step names must be unique")
        return cls(name, run_steps, groups, tuple(steps), done, title)


@dataclass(frozen=True, slots=True)
class JobKind:
    """A kind of scheduled job. ``late_after`` (seconds): a job found more than that late
    (the bot was down) is dropped and logged instead of run; ``None`` runs it anyway.

    A kind with ``every`` (a timedelta or seconds, counted from Monday 2024-01-01 00:00 in
    ``tz``: ``every=timedelta(days=7)`` runs Mondays at midnight) or ``cron``
    (``"0 9 * * mon"``: Mondays at 09:00 in ``tz``) recurs. Each occurrence is one durable
    job with its own key, so it runs exactly once however many workers share the database;
    the next one is scheduled when it finishes. Occurrences missed while the bot was down
    are not replayed: the pending one runs late (or is dropped by ``late_after``) and the
    series continues from now. With ``autostart`` the core keeps one series (``"default"``)
    going from start-up; more series (one per region, in the region's zone) are started with
    ``scheduler.start_series(kind, series, tz=..., payload=...)``.
    """

    name: str
    handler: JobHandler
    max_attempts: int | None = None
    late_after: float | None = None
    every: timedelta | float | None = None
    cron: str | None = None
    tz: str = "Asia/Jakarta"
    autostart: bool = True

    def __post_init__(self) -> None:
        Recurrence.of(self.every, self.cron)  # raises ValueError on a bad rule

    @property
    def recurrence(self) -> Recurrence | None:
        return Recurrence.of(self.every, self.cron)


@dataclass(frozen=True, slots=True)
class ModelModule:
    """A tortoise app: its label, model modules and migrations package."""

    app: str
    models: tuple[str, ...]
    migrations: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CliParam:
    """A CLI argument (``option=False``) or ``--option`` of a plugin's CLI command.
    ``type`` is ``str``, ``int``, ``float``, ``bool`` (a flag) or ``path``."""

    name: str
    help: str = ""
    type: str = "str"
    option: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CliCommand:
    """``guyub GROUP NAME ...``: ``handler(app, out, **params)`` runs inside a started App
    (database open, plugins loaded) and returns the exit code (None is 0). ``out`` is a
    text stream. Plugins declare CLI commands without importing a CLI library."""

    group: str
    name: str
    help: str
    handler: CliHandler
    params: tuple[CliParam, ...] = ()
