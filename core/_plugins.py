"""The plugin manager facade: the only place that touches ``pm.hook``.

Plugins come from the core's own plugin, the ``guyub.plugins`` entry points (the built-ins
are registered there exactly like a third-party plugin) and objects handed to the App
(tests). ``plugins.enabled`` / ``plugins.disabled`` in the config choose among them; a plugin
whose ``requires`` are not all enabled is not loaded, and says why.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pluggy
from tortoise.transactions import in_transaction

from core import hookspecs
from core._metrics import Metrics
from core._specs import Action, CliCommand, Flow, JobKind, ModelModule, PluginInfo

if TYPE_CHECKING:
    from aiohttp.web import AbstractRouteDef

    from core._app import App
    from core._commands import Command
    from core._context import Context
    from core._events import (
        ChatRef,
        MemberJoined,
        MemberLeft,
        MessageReceived,
        PollAnswered,
        ScheduledEventInterest,
    )
    from core._regions import RegionInfo, RegionMatch
    from core._settings import PluginSettings
    from core.models import Member
    from core.privacy import RetentionPolicy
    from core.web import DashboardPage

__all__ = [
    "API_VERSION",
    "ENTRY_POINT_GROUP",
    "PRIVACY_HOOKS",
    "LoadedPlugin",
    "PluginError",
    "Plugins",
    "api_supported",
    "check_explicit",
    "discover",
    "missing_privacy_hooks",
]

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "guyub.plugins"


@dataclass(frozen=True, slots=True)
class LoadedPlugin:
    """A plugin found at start-up, whether or not it was enabled."""

    info: PluginInfo
    obj: object
    source: str  # "core", "builtin", "entry point <dist>", "app"
    enabled: bool
    reason: str = ""


#: The version of the plugin API (``core.__all__``, hooks, the test kit): the major number
#: changes when something plugins use changes incompatibly, the minor when names are added.
API_VERSION = "1.1"

_COMPARE = re.compile(r"^\s*(>=|<=|==|!=|>|<)\s*(\d+)(?:\.(\d+))?\s*$")


def _version(text: str) -> tuple[int, int]:
    major, _, minor = text.partition(".")
    return int(major), int(minor or 0)


def api_supported(spec: str, version: str = API_VERSION) -> bool:
    """Whether ``version`` is in ``spec`` (``">=1.1,<2"``; an empty spec accepts all).
    Raises ValueError for a malformed spec."""
    current = _version(version)
    for part in filter(None, (p.strip() for p in spec.split(","))):
        match = _COMPARE.match(part)
        if match is None:
            raise ValueError(f"bad API range {spec!r}: use comparisons like '>=1.1,<2'")
        op, major, minor = match.groups()
        bound = (int(major), int(minor or 0))
        ok = {
            ">=": current >= bound,
            "<=": current <= bound,
            ">": current > bound,
            "<": current < bound,
            "==": current == bound,
            "!=": current != bound,
        }[op]
        if not ok:
            return False
    return True


def plugin_info(obj: object, fallback: str) -> PluginInfo:
    info = getattr(obj, "PLUGIN", None)
    if isinstance(info, PluginInfo):
        return info
    return PluginInfo(name=fallback)


def discover() -> list[tuple[object, str]]:
    """Plugins installed under the ``guyub.plugins`` entry point group, with their source."""
    found: list[tuple[object, str]] = []
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            obj = ep.load()
        except Exception:
            log.exception("plugin entry point %r could not be imported", ep.value)
            continue
        dist = ep.dist.name if ep.dist is not None else "?"
        source = "builtin" if ep.value.startswith("plugins.") else f"entry point ({dist})"
        found.append((obj, source))
    return found


def select(
    candidates: Sequence[tuple[object, str]], settings: PluginSettings
) -> list[LoadedPlugin]:
    """Apply enable/disable and ``requires`` to the candidates, keeping their order."""
    wanted = {n.lower() for n in settings.enabled}
    unwanted = {n.lower() for n in settings.disabled}
    plugins: list[LoadedPlugin] = []
    for obj, source in candidates:
        fallback = obj.__name__ if isinstance(obj, ModuleType) else type(obj).__name__
        info = plugin_info(obj, fallback)
        name = info.name.lower()
        if source == "core":
            enabled, reason = True, ""
        elif not _api_ok(info):
            enabled = False
            reason = f"supports the plugin API {info.api}, this Guyub has {API_VERSION}"
            log.error("plugin %s not loaded: it %s", info.name, reason)
        elif name in unwanted:
            enabled, reason = False, "disabled in config"
        elif source != "app" and "*" not in wanted and name not in wanted:
            # Plugins handed to the App in code are wanted by definition.
            enabled, reason = False, "not in plugins.enabled"
        else:
            enabled, reason = True, ""
        plugins.append(LoadedPlugin(info, obj, source, enabled, reason))
    # Drop plugins whose requirements are missing until nothing changes (chains of requires).
    changed = True
    while changed:
        changed = False
        on = {p.info.name.lower() for p in plugins if p.enabled}
        for i, plugin in enumerate(plugins):
            missing = [r for r in plugin.info.requires if r.lower() not in on]
            if plugin.enabled and missing:
                plugins[i] = LoadedPlugin(
                    plugin.info, plugin.obj, plugin.source, False, f"requires {', '.join(missing)}"
                )
                log.error(
                    "plugin %s not loaded: it requires %s", plugin.info.name, ", ".join(missing)
                )
                changed = True
    return plugins


def _api_ok(info: PluginInfo) -> bool:
    try:
        return api_supported(info.api)
    except ValueError:
        log.error("plugin %s declares a malformed API range %r", info.name, info.api)
        return False


class PluginError(RuntimeError):
    """A plugin handed to the App in code cannot be loaded (its ``requires`` are missing,
    the config disables it, or its API range excludes this core)."""


def check_explicit(plugins: Sequence[LoadedPlugin]) -> None:
    """Fail loudly when a plugin passed explicitly (``App(plugins=[...])``) is not loaded:
    a test or a deployment that names a plugin must not silently run without it."""
    refused = [p for p in plugins if p.source == "app" and not p.enabled]
    if refused:
        raise PluginError(
            "; ".join(f"plugin {p.info.name!r} cannot be loaded: {p.reason}" for p in refused)
        )


class Plugins:
    """A fresh pluggy manager per App, wrapped in typed methods."""

    def __init__(
        self,
        plugins: Iterable[LoadedPlugin],
        hook_timeout: float = 10.0,
        *,
        metrics: Metrics | None = None,
    ) -> None:
        self.pm = pluggy.PluginManager("guyub")
        self.metrics = metrics or Metrics()
        self.pm.add_hookspecs(hookspecs)
        self.hook_timeout = hook_timeout
        self.loaded = list(plugins)
        seen: set[str] = set()
        for plugin in self.loaded:
            if not plugin.enabled:
                continue
            if plugin.info.name in seen:
                raise ValueError(f"two plugins are named {plugin.info.name!r}")
            seen.add(plugin.info.name)
            self.pm.register(plugin.obj, name=plugin.info.name)
        self.pm.check_pending()

    @property
    def enabled(self) -> list[LoadedPlugin]:
        return [p for p in self.loaded if p.enabled]

    def names(self) -> list[str]:
        return [p.info.name for p in self.enabled]

    def implements(self, hook: str) -> bool:
        """Whether any enabled plugin implements ``hook``."""
        return bool(self._impls(hook))

    def _impls(self, hook: str) -> list[pluggy.HookImpl]:
        caller: pluggy.HookCaller = getattr(self.pm.hook, hook)
        # pluggy would call the last registered first; Guyub runs plugins in load order
        # (core, built-ins, third parties), with tryfirst ones before and trylast ones after.
        impls = caller.get_hookimpls()
        first = [i for i in impls if i.tryfirst]
        last = [i for i in impls if i.trylast]
        middle = [i for i in impls if not i.tryfirst and not i.trylast]
        return first + middle + last

    # --- generic callers ---------------------------------------------------------------

    def collect(self, hook: str) -> list[tuple[str, Any]]:
        """Call a sync registration hook on every plugin; (plugin name, result) pairs.

        A plugin that raises here is a programming error: it is logged with its name and
        start-up goes on without its contribution.
        """
        results: list[tuple[str, Any]] = []
        for impl in self._impls(hook):
            try:
                result = impl.function()
            except Exception:
                log.exception("plugin %s failed in %s", impl.plugin_name, hook)
                continue
            if inspect.isawaitable(result):
                _close(result)
                log.error("plugin %s: %s must not be async", impl.plugin_name, hook)
                continue
            if result is not None:
                results.append((impl.plugin_name, result))
        return results

    async def notify(self, hook: str, **kwargs: Any) -> None:
        """Await every plugin's implementation, each isolated and time-limited."""
        for impl in self._impls(hook):
            await self._call_isolated(impl, hook, kwargs)

    async def gather(
        self, hook: str, *, only: Iterable[str] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Like :meth:`notify`, keeping each plugin's non-None answer by plugin name
        (``only``: ask just these plugins)."""
        answers: dict[str, Any] = {}
        wanted = set(only) if only is not None else None
        for impl in self._impls(hook):
            if wanted is not None and impl.plugin_name not in wanted:
                continue
            ok, value = await self._call_isolated(impl, hook, kwargs)
            if ok and value is not None:
                answers[impl.plugin_name] = value
        return answers

    async def call_first(self, hook: str, **kwargs: Any) -> Any:
        """The first non-None answer, trying plugins in order (never pluggy's firstresult)."""
        for impl in self._impls(hook):
            ok, value = await self._call_isolated(impl, hook, kwargs)
            if ok and value is not None:
                return value
        return None

    async def _call_isolated(
        self, impl: pluggy.HookImpl, hook: str, kwargs: dict[str, Any]
    ) -> tuple[bool, Any]:
        args = {name: kwargs[name] for name in impl.argnames if name in kwargs}
        started = time.perf_counter()
        try:
            result = impl.function(**args)
            if inspect.isawaitable(result):
                # In this task, no task per call (what wait_for does from Python 3.12 on).
                async with asyncio.timeout(self.hook_timeout):
                    result = await result
            return True, result
        except TimeoutError:
            self.metrics.hook_failed(impl.plugin_name, hook, timeout=True)
            log.error(
                "plugin %s timed out in %s after %.1fs",
                impl.plugin_name,
                hook,
                time.perf_counter() - started,
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.metrics.hook_failed(impl.plugin_name, hook)
            self.metrics.note_error(exc, f"plugin:{impl.plugin_name}")
            log.exception("plugin %s failed in %s", impl.plugin_name, hook)
        return False, None

    # --- typed facade: registration --------------------------------------------------

    def commands(self) -> list[tuple[str, Sequence[Command]]]:
        return self.collect("guyub_register_commands")

    def actions(self) -> list[tuple[str, Sequence[Action]]]:
        return self.collect("guyub_register_actions")

    def flows(self) -> list[tuple[str, Sequence[Flow]]]:
        return self.collect("guyub_register_flows")

    def jobs(self) -> list[tuple[str, Sequence[JobKind]]]:
        return self.collect("guyub_register_jobs")

    def models(self) -> list[ModelModule]:
        return [m for _, mods in self.model_modules() for m in mods]

    def model_modules(self) -> list[tuple[str, Sequence[ModelModule]]]:
        return self.collect("guyub_register_models")

    def texts(self) -> list[tuple[str, dict[str, dict[str, str]]]]:
        return self.collect("guyub_register_texts")

    def cli_commands(self) -> list[tuple[str, Sequence[CliCommand]]]:
        return self.collect("guyub_register_cli")

    def web_routes(self) -> list[tuple[str, Iterable[AbstractRouteDef]]]:
        return self.collect("guyub_register_web")

    def dashboard_pages(self) -> list[tuple[str, Sequence[DashboardPage]]]:
        return self.collect("guyub_register_dashboard")

    def settings_models(self) -> list[tuple[str, type[Any]]]:
        return self.collect("guyub_register_settings")

    # --- typed facade: notifications -------------------------------------------------

    async def startup(self, app: App) -> None:
        await self.notify("guyub_on_startup", app=app)

    async def shutdown(self, app: App) -> None:
        await self.notify("guyub_on_shutdown", app=app)

    async def message(self, ctx: Context, event: MessageReceived) -> None:
        await self.notify("guyub_on_message", ctx=ctx, event=event)

    async def member_joined(self, ctx: Context, event: MemberJoined) -> None:
        await self.notify("guyub_on_member_joined", ctx=ctx, event=event)

    async def member_left(self, ctx: Context, event: MemberLeft) -> None:
        await self.notify("guyub_on_member_left", ctx=ctx, event=event)

    async def scheduled_event_interest(self, ctx: Context, event: ScheduledEventInterest) -> None:
        await self.notify("guyub_on_scheduled_event_interest", ctx=ctx, event=event)

    async def calendar_event_cancelled(self, app: App, platform: str, event_id: str) -> None:
        await self.notify(
            "guyub_on_calendar_event_cancelled", app=app, platform=platform, event_id=event_id
        )

    async def poll_answered(self, ctx: Context, event: PollAnswered) -> None:
        await self.notify("guyub_on_poll_answered", ctx=ctx, event=event)

    async def member_onboarded(self, ctx: Context, member: Member) -> None:
        await self.notify("guyub_on_member_onboarded", ctx=ctx, member=member)

    async def member_region_changed(
        self, ctx: Context, member: Member, old_region: str | None, new_region: str | None
    ) -> None:
        await self.notify(
            "guyub_on_member_region_changed",
            ctx=ctx,
            member=member,
            old_region=old_region,
            new_region=new_region,
        )

    async def members_merged(self, app: App, kept: Member, merged: Member) -> None:
        await self.notify("guyub_on_members_merged", app=app, kept=kept, merged=merged)

    # --- typed facade: questions and gathering ---------------------------------------

    async def resolve_region(self, code: str) -> RegionInfo | None:
        answer: RegionInfo | None = await self.call_first("guyub_resolve_region", code=code)
        return answer

    async def resolve_region_match(self, text: str) -> RegionMatch | None:
        answer: RegionMatch | None = await self.call_first("guyub_resolve_region_match", text=text)
        return answer

    async def resolve_region_chats(self, code: str) -> list[ChatRef]:
        return list(await self.call_first("guyub_resolve_region_chats", code=code) or [])

    async def resolve_region_children(self, code: str) -> list[RegionInfo]:
        return list(await self.call_first("guyub_resolve_region_children", code=code) or [])

    async def handle_start(self, ctx: Context, payload: str) -> bool:
        return bool(await self.call_first("guyub_handle_start", ctx=ctx, payload=payload))

    async def resolve_completions(
        self, source: str, text: str, ctx: Context | None = None
    ) -> list[tuple[str, str]]:
        answer = await self.call_first(
            "guyub_resolve_completions", source=source, text=text, ctx=ctx
        )
        return list(answer or [])[:25]

    async def export_member(self, member: Member) -> dict[str, Any]:
        return await self.gather("guyub_export_member", member=member)

    async def forget_member(self, member: Member) -> list[str]:
        """Each plugin forgets in a transaction of its own: a crash or an error leaves that
        plugin's rows as they were (the forget job resumes), never half-deleted. Returns
        the plugins whose part failed."""
        failed: list[str] = []
        for impl in self._impls("guyub_forget_member"):
            try:
                async with in_transaction():
                    ok, _ = await self._call_isolated(
                        impl, "guyub_forget_member", {"member": member}
                    )
                    if not ok:
                        raise _RolledBack
            except _RolledBack:
                log.error("forgetting in plugin %s was rolled back", impl.plugin_name)
                failed.append(impl.plugin_name)
        return failed

    async def collect_stats(
        self, region_codes: Sequence[str] | None, app: App, *, only: Iterable[str] | None = None
    ) -> dict[str, Any]:
        return await self.gather(
            "guyub_collect_stats", only=only, region_codes=region_codes, app=app
        )

    # --- typed facade: privacy -------------------------------------------------------

    async def apply_retention(self, app: App, policy: RetentionPolicy) -> dict[str, Any]:
        return await self.gather("guyub_apply_retention", app=app, policy=policy)


class _RolledBack(Exception):
    """A plugin's forget failed: undo what it had done so far."""


#: Hooks every plugin that stores anything about members must implement.
PRIVACY_HOOKS = ("guyub_export_member", "guyub_forget_member")


def missing_privacy_hooks(obj: object) -> list[str]:
    """Which of :data:`PRIVACY_HOOKS` ``obj`` (a plugin module or object) lacks."""
    return [name for name in PRIVACY_HOOKS if not callable(getattr(obj, name, None))]


def _close(awaitable: Any) -> None:
    close = getattr(awaitable, "close", None)
    if callable(close):
        close()
