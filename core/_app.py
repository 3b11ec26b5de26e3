"""The App: plugins, database, services and adapters, in one event loop, one shutdown path.

``async with App(settings) as app`` opens everything in the current task (tortoise's state
lives in a context variable; tasks started later inherit it) and closes it on the way out.
``await app.run()`` runs every adapter and background worker in one ``TaskGroup``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from contextvars import Token
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from aiohttp import web
from pydantic import BaseModel, ValidationError
from tortoise.transactions import in_transaction

from core import _builtin
from core._adapter import Adapter, Outgoing, Unreachable
from core._cache import DispatchCache
from core._clock import Clock, SystemClock, utc
from core._command_names import CommandNames
from core._commands import (
    Command,
    CommandRegistry,
    ParamType,
    UsageError,
    Where,
    parse_args,
    split_args,
)
from core._context import Context, JobContext
from core._db import Database, reset_clock, use_clock
from core._events import (
    ButtonPressed,
    ChatRef,
    CommandInvoked,
    Event,
    MemberJoined,
    MemberLeft,
    MessageReceived,
    MessageRef,
    PollAnswered,
    ScheduledEventInterest,
    Sender,
    UserRef,
)
from core._health import LoopMonitor, ProbeServer
from core._health import routes as probe_routes
from core._heartbeat import Heartbeat
from core._i18n import Translator
from core._identity import Activity, Buttons, Conversations, Identity
from core._logging import pseudonym
from core._messages import FORM_TEXT_LIMIT, Button, Message, RenderedButton
from core._metrics import CommandOutcome, Metrics
from core._plugins import (
    LoadedPlugin,
    PluginError,
    Plugins,
    check_explicit,
    discover,
    select,
)
from core._regions import Regions
from core._roles import Audit, PermissionDenied, Role, Roles
from core._safety import Safety
from core._scheduler import Scheduler
from core._sensitive import find_secret
from core._settings import Settings, SettingsError
from core._shutdown import release_leases
from core._specs import Action, Flow
from core._steps import LongFormText, long_form_texts
from core._supervise import supervise
from core._trace import current_scope, scope
from core.models import Account, Member
from core.outbox import Outbox
from core.outbox import plugin as _outbox_plugin
from core.privacy import Privacy
from core.privacy import plugin as _privacy_plugin
from core.web import WebServer
from core.web import plugin as _web_plugin

__all__ = ["App", "Worker", "worker_name"]

log = logging.getLogger(__name__)


def worker_name(settings: Settings) -> str:
    """This process's name: ``[worker] name``, or host-pid when none is set."""
    return settings.worker.name or f"{socket.gethostname()}-{os.getpid()}"


class Worker(Protocol):
    """Background work the App runs (the scheduler, the outbox)."""

    async def run_forever(self) -> None: ...

    async def run_due(self, limit: int | None = None) -> int: ...


class App:
    """One Guyub instance. Build it, enter it, then ``run()`` or drive it from tests."""

    def __init__(
        self,
        settings: Settings,
        *,
        adapters: Sequence[Adapter] = (),
        clock: Clock | None = None,
        plugins: Sequence[object] = (),
        discover_plugins: bool = True,
        schema: str = "migrate",  # "migrate", "create" (tests: tables from models) or "none"
        create_database: bool = False,
        drop_database: bool = False,
        worker_id: str | None = None,
    ) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.adapters: dict[str, Adapter] = {}
        for adapter in adapters:
            self.add_adapter(adapter)
        if isinstance(plugins, Mapping | str):
            raise TypeError("plugins= takes plugin objects; [plugins] settings go in settings")
        self._extra_plugins = list(plugins)
        self._discover = discover_plugins
        self._schema = schema
        self._create_database = create_database
        self._drop_database = drop_database
        self._worker_id = worker_id
        #: This process's name in metrics, logs and ``guyub status``.
        self.worker_name = worker_name(settings)
        self.metrics = Metrics(self.worker_name)
        self.loop_monitor = LoopMonitor()
        #: True once a stop was asked for: /readyz answers 503, adapters take no more updates.
        self.stopping = False
        #: Updates handled since start, and being handled now.
        self.handled = 0
        self.in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.translator = Translator(settings.language)
        self.commands = CommandRegistry()
        #: Renders commands as each platform and language spell them.
        self.command_names = CommandNames(self.commands, settings.language)
        self.translator.names = self.command_names
        self.actions: dict[str, Action] = {}
        self.flows: dict[str, Flow] = {}
        #: Form titles and step labels too long for a form, by plugin (logged at start-up;
        #: the test kit fails on those of the plugins a test names).
        self.long_form_texts: list[tuple[str, LongFormText]] = []
        self.activity = Activity()
        self.identity = Identity(self.clock, self.activity)
        self.conversations = Conversations()
        self.buttons = Buttons()
        self.audit = Audit(self.clock)
        self.roles = Roles(self.audit)
        self.privacy = Privacy(self)
        self.safety = Safety(self)
        self.workers: list[Worker] = []
        self._quiet_groups = False
        self._group_flows = False
        self.services: dict[str, Any] = {}
        #: The web server; mount routes before ``run(web=True)`` starts it.
        self.web = WebServer(self, settings.web)
        self._plugin_settings: dict[str, BaseModel] = {}
        self.plugins: Plugins
        self.database: Database
        self.scheduler: Scheduler
        self.outbox: Outbox
        self.regions: Regions
        self.cache: DispatchCache
        self._started = False
        self._stop = asyncio.Event()
        self._hurry = asyncio.Event()
        self._clock_token: Token[Clock | None] | None = None

    # --- composition -----------------------------------------------------------------

    def add_adapter(self, adapter: Adapter) -> None:
        if adapter.platform in self.adapters:
            raise ValueError(f"two adapters for platform {adapter.platform!r}")
        self.adapters[adapter.platform] = adapter

    def add_worker(self, worker: Worker) -> None:
        self.workers.append(worker)

    def probe_routes(self) -> list[web.RouteDef]:
        """``/metrics``, ``/healthz`` and ``/readyz`` of this App, for any aiohttp server
        the worker runs (the web server, the Telegram webhook)."""
        return probe_routes(self)

    @property
    def schema_managed(self) -> bool:
        """Whether the schema comes from migrations (``/readyz`` then checks they are all
        applied); tests that build tables from the models say no."""
        return self._schema == "migrate"

    def plugin_settings(self, plugin: str) -> Any:
        """The validated ``[plugin]`` settings table of a plugin that declared a model."""
        return self._plugin_settings[plugin]

    def candidates(self) -> list[tuple[object, str]]:
        found: list[tuple[object, str]] = [
            (_builtin, "core"),
            (_privacy_plugin, "core"),
            (_outbox_plugin, "core"),
            (_web_plugin, "core"),
        ]
        if self._discover:
            # A plugin both installed and passed in code loads once, as passed.
            explicit = {id(p) for p in self._extra_plugins}
            found.extend(c for c in discover() if id(c[0]) not in explicit)
        found.extend((p, "app") for p in self._extra_plugins)
        return found

    def loaded_plugins(self) -> list[LoadedPlugin]:
        return select(self.candidates(), self.settings.plugins)

    # --- lifecycle -------------------------------------------------------------------

    async def __aenter__(self) -> App:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Load plugins, open and migrate the database, start services (no adapters yet)."""
        loaded = self.loaded_plugins()
        check_explicit(loaded)
        self._clock_token = use_clock(self.clock)
        self.plugins = Plugins(loaded, self.settings.plugins.hook_timeout, metrics=self.metrics)
        self.metrics.started(self.clock.now())
        self._register()
        self.database = Database(self.settings.database.url, self.plugins.models())
        await self.database.open(create=self._create_database)
        try:
            if self._schema == "migrate":
                applied = await self.database.migrate()
                if applied:
                    log.info("applied migrations: %s", ", ".join(applied))
                await self._require_migrated_tables()
            elif self._schema == "create":
                await self.database.create_schema()
            self.cache = DispatchCache(self.settings.database.url, self.database.dialect)
            await self.cache.open()
            self.identity.cache = self.roles.cache = self.conversations.cache = self.cache
            await self.buttons.open()
            self.activity.dialect = self.privacy.budget.dialect = self.database.dialect
            self.scheduler = Scheduler(
                self.clock,
                self.settings.scheduler,
                dialect=self.database.dialect,
                worker_id=self._worker_id,
                metrics=self.metrics,
            )
            self.scheduler.bind(lambda job, late: JobContext(self, job, late))
            for _, kinds in self.plugins.jobs():
                for kind in kinds:
                    self.scheduler.register(kind)
            await self.scheduler.resume_series()
            self.workers[:0] = [self.scheduler, self.activity, self.privacy.budget, self.cache]
            self.outbox = Outbox(
                self.clock,
                self.settings.outbox,
                self.adapters,
                self.render,
                dialect=self.database.dialect,
                worker_id=self._worker_id,
                metrics=self.metrics,
            )
            self.workers.insert(1, self.outbox)
            self.regions = Regions(self.plugins)
            await self._bootstrap_admins()
            self._started = True
            await self.plugins.startup(self)
        except BaseException:
            await self.database.close()
            raise

    async def _require_migrated_tables(self) -> None:
        """Stop the start when a plugin's models have tables no migration created: else the
        bot starts and its first handler fails with "no such table" in front of a member."""
        missing = await self.database.missing_tables()
        if not missing:
            return
        owners = {m.app: (plugin, m) for plugin, ms in self.plugins.model_modules() for m in ms}
        problems = []
        for label, tables in missing.items():
            plugin, module = owners.get(label, ("core", None))
            lacking = ", ".join(tables)
            if module is not None and not module.migrations:
                problems.append(
                    f"plugin {plugin!r}: its models ({', '.join(module.models)}) have no "
                    f"migrations package, so nothing creates their tables ({lacking}); give "
                    f"ModelModule({label!r}, ...) migrations='<package>.migrations' (a folder "
                    "with an empty __init__.py), then run `guyub db makemigrations`"
                )
            else:
                where = f" ({module.migrations})" if module is not None else ""
                problems.append(
                    f"plugin {plugin!r}: no migration{where} creates the tables of its "
                    f"models ({lacking}); run `guyub db makemigrations` and ship the files "
                    "it writes with the plugin"
                )
        raise PluginError("; ".join(problems))

    def _register(self) -> None:
        for plugin, bundle in self.plugins.texts():
            self.translator.add(bundle, owner=plugin)
        for plugin, model in self.plugins.settings_models():
            table = self.settings.section(plugin)
            unknown = _unknown_keys(model, table)
            if unknown:
                known = ", ".join(sorted(model.model_fields)) or "none"
                raise SettingsError(
                    f"[{plugin}] settings: unknown key {', '.join(unknown)} (known: {known})"
                )
            try:
                self._plugin_settings[plugin] = model.model_validate(table)
            except ValidationError as exc:
                raise SettingsError(f"[{plugin}] settings: {exc}") from exc
        for plugin, commands in self.plugins.commands():
            self.commands.extend(commands, plugin)
        for plugin, actions in self.plugins.actions():
            for action in actions:
                if action.name in self.actions:
                    raise ValueError(f"button action {action.name!r} of {plugin} is taken")
                self.actions[action.name] = action
        for plugin, routes in self.plugins.web_routes():
            self.web.add_routes(routes, owner=plugin)
        for _plugin, pages in self.plugins.dashboard_pages():
            self.web.pages.extend(pages)
        for plugin, flows in self.plugins.flows():
            for flow in flows:
                if flow.name in self.flows:
                    raise ValueError(f"flow {flow.name!r} of {plugin} is taken")
                self.flows[flow.name] = flow
                for long in long_form_texts(flow, self.translator):
                    log.warning(
                        "plugin %s: form text %r in %r is %d characters, over the %d a form "
                        "shows (Discord); members see %r",
                        plugin,
                        long.key,
                        long.language,
                        len(long.text),
                        FORM_TEXT_LIMIT,
                        long.shown,
                    )
                    self.long_form_texts.append((plugin, long))
        # Plain group chatter is the hot path. Unless a plugin listens to every message, it
        # only marks the sender active (batched), after one indexed look for a flow running
        # in that group, and none at all when no flow runs in groups.
        # /metrics, /healthz and /readyz ride on the App's web server.
        self.web.add_routes(self.probe_routes())
        self._quiet_groups = not self.plugins.implements("guyub_on_message")
        self._group_flows = any(f.groups for f in self.flows.values())

    async def _bootstrap_admins(self) -> None:
        for entry in self.settings.admins:
            try:
                ref = UserRef.parse(entry)
            except ValueError as exc:
                raise SettingsError(f"admins: {exc}") from exc
            account = await self.identity.ensure(ref)
            await self.roles.grant(account.member_id, Role.ADMIN)

    async def stop(self) -> None:
        if not hasattr(self, "database"):
            return
        try:
            if self._started:
                try:
                    await self.activity.run_due()
                except Exception:
                    log.exception("could not write the last activity marks at shutdown")
                try:
                    await self.privacy.budget.flush()
                except Exception:
                    log.exception("could not write the last command counts at shutdown")
                await self.plugins.shutdown(self)
                await self.outbox.close()
        finally:
            self._started = False
            if hasattr(self, "cache"):
                await self.cache.close()
            await self.database.close(drop=self._drop_database)
            token = self._clock_token
            if token is not None:
                with contextlib.suppress(ValueError):  # stopped from another context
                    reset_clock(token)
                self._clock_token = None

    async def run(
        self, *, install_signal_handlers: bool = True, web: bool = False, workers: bool = True
    ) -> None:
        """Run every adapter and worker until cancelled, Ctrl-C or SIGTERM.

        ``web`` also serves the web server (``web.listen``); ``workers=False`` leaves the
        scheduler and outbox to other processes (``guyub web`` runs the web server alone).

        A stop is graceful: adapters stop taking updates, the updates in hand get
        ``[worker] shutdown_timeout`` seconds to finish (a second signal cuts it short),
        then everything is cancelled, this worker's leases on jobs and deliveries are
        released for the others, and ``run`` returns."""
        stop = self._stop = asyncio.Event()
        self._hurry = asyncio.Event()
        loop = asyncio.get_running_loop()
        if install_signal_handlers:
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.add_signal_handler(sig, self._on_signal)
        heartbeat = Heartbeat(self)
        background: list[Worker] = [self.loop_monitor, heartbeat]
        if self.settings.metrics.listen:
            background.append(ProbeServer(self, self.settings.metrics.listen))
        try:
            if web:
                for adapter in self.adapters.values():
                    self.web.add_routes(adapter.web_routes(), owner=f"adapter {adapter.platform}")
                # Listening first: a port already taken stops start-up with a clear error.
                await self.web.start()
            async with asyncio.TaskGroup() as group:
                for worker in background:
                    group.create_task(worker.run_forever(), name=type(worker).__name__)
                if web:
                    group.create_task(self.web.run_forever(), name="web")
                for adapter in self.adapters.values():
                    await self._register_commands(adapter)
                    group.create_task(adapter.run(self), name=f"adapter:{adapter.platform}")
                for worker in self.workers if workers else ():
                    name = type(worker).__name__
                    group.create_task(supervise(name, worker.run_forever), name=name)
                group.create_task(self._stop_when(stop))
        except* _Stop:
            pass
        finally:
            await self.web.stop()
            if install_signal_handlers:
                for sig in (signal.SIGINT, signal.SIGTERM):
                    with contextlib.suppress(NotImplementedError, RuntimeError):
                        loop.remove_signal_handler(sig)
            # Bounded: leases expire on their own, and a stop must never hang on the database.
            try:
                async with asyncio.timeout(_RELEASE_TIMEOUT):
                    await release_leases(self)
                    await heartbeat.beat(stopped=True)
            except Exception:
                log.warning("leases and heartbeat not written at stop; they expire on their own")

    def request_stop(self) -> None:
        """Ask a running ``run()`` to stop (the console does this at end of input)."""
        self._stop.set()

    def _on_signal(self) -> None:
        if self._stop.is_set():
            self._hurry.set()  # a second signal: stop waiting for the updates in hand
        else:
            self._stop.set()

    async def _stop_when(self, stop: asyncio.Event) -> None:
        await stop.wait()
        await self._finish_in_flight()
        raise _Stop

    async def _finish_in_flight(self) -> None:
        """Stop taking updates, then wait (within the budget) for those being handled."""
        self.stopping = True
        budget = self.settings.worker.shutdown_timeout
        log.info(
            "stopping: taking no new updates; %d in flight, waiting up to %gs",
            self.in_flight,
            budget,
        )
        for adapter in self.adapters.values():
            try:
                async with asyncio.timeout(budget):
                    await adapter.stop_receiving()
            except Exception:
                log.warning("%s did not stop receiving cleanly", adapter.platform, exc_info=True)
        waits = [
            asyncio.ensure_future(self._idle.wait()),
            asyncio.ensure_future(self._hurry.wait()),
        ]
        try:
            await asyncio.wait(waits, timeout=budget, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
        if self.in_flight:
            log.warning("%d updates still in flight when the wait ended; cancelled", self.in_flight)
        else:
            log.info("every update in hand finished; stopping")

    async def _register_commands(self, adapter: Adapter) -> None:
        try:
            await adapter.register_commands(self.visible_commands())
        except Exception:
            log.warning(
                "could not register commands on %s; the bot runs without its menu",
                adapter.platform,
                exc_info=True,
            )

    def visible_commands(self) -> list[Command]:
        return [c for c in self.commands.all() if not c.hidden]

    async def run_pending(self) -> int:
        """Run all background work that is due now (tests and the console call this)."""
        total = 0
        while True:
            done = 0
            for worker in self.workers:
                done += await worker.run_due()
            total += done
            if not done:
                return total

    async def advance_clock(self, to: datetime) -> None:
        """Move a settable clock to ``to``, stopping at each due job so it runs at its time."""
        target = utc(to)
        setter: Callable[[datetime], None] | None = getattr(self.clock, "set", None)
        if setter is None:
            raise TypeError("this clock cannot be moved")
        if target < self.clock.now():
            setter(target)  # a script may start by setting the date; nothing runs backwards
            return
        while True:
            next_due = await self.scheduler.next_due()
            if next_due is None or next_due > target:
                break
            if next_due > self.clock.now():
                setter(next_due)
            if not await self.run_pending():
                break
        if target > self.clock.now():
            setter(target)
        await self.run_pending()

    # --- sending ---------------------------------------------------------------------

    def adapter_for(self, platform: str) -> Adapter:
        try:
            return self.adapters[platform]
        except KeyError:
            raise Unreachable(f"no adapter for platform {platform!r}") from None

    async def render(self, message: Message) -> Outgoing:
        """Store button payloads and give the adapter short keys."""
        rows: list[tuple[RenderedButton, ...]] = []
        for row in message.buttons:
            rendered = []
            for button in row:
                if button.url:
                    rendered.append(RenderedButton(button.label, url=button.url))
                else:
                    key = await self.buttons.store(
                        button.action, dict(button.data), button.only_for
                    )
                    rendered.append(RenderedButton(button.label, key=key))
            rows.append(tuple(rendered))
        return Outgoing(
            message.text, tuple(rows), message.poll, message.attachments, message.silent
        )

    async def send(
        self,
        chat: ChatRef,
        message: Message | Outgoing,
        *,
        reply_to: MessageRef | None = None,
    ) -> MessageRef:
        """Send now, at the chat's pace, through the delivery layer (the outbox): a chat
        the platform holds back (429) gets the message after the wait, never lost, in the
        same forum topic and answering the same message (``reply_to``)."""
        self.adapter_for(chat.platform)
        out = message if isinstance(message, Outgoing) else await self.render(message)
        return await self.outbox.send(chat, out, reply_to=reply_to)

    async def edit(self, ref: MessageRef, message: Message | Outgoing) -> None:
        self.adapter_for(ref.chat.platform)
        out = message if isinstance(message, Outgoing) else await self.render(message)
        await self.outbox.edit(ref, out)

    async def close_buttons(self, ref: MessageRef) -> None:
        """Disable the buttons of a message whose flow has ended (where the platform can)."""
        self.adapter_for(ref.chat.platform)
        await self.outbox.close_buttons(ref)

    async def end_poll(self, ref: MessageRef) -> None:
        """Close a native poll the bot sent (``ref`` as ``send`` returned it)."""
        await self.adapter_for(ref.chat.platform).end_poll(ref)

    async def send_dm(
        self,
        to: Member | Account | UserRef | int,
        message: Message | Outgoing,
        *,
        prefer: str | None = None,
    ) -> MessageRef:
        """DM a member on the first platform that allows it (``prefer`` first)."""
        accounts = await self._accounts_of(to)
        accounts.sort(key=lambda a: (a.platform != prefer, not a.dm_open, a.id))
        out = message if isinstance(message, Outgoing) else await self.render(message)
        last: Unreachable | None = None
        for account in accounts:
            adapter = self.adapters.get(account.platform)
            if adapter is None:
                continue
            try:
                ref = await self.outbox.send_dm(
                    UserRef(account.platform, account.platform_user_id),
                    out,
                    account_id=account.id or None,
                )
            except Unreachable as exc:
                last = exc
                continue
            await self._dm_opened(account, ref.chat)
            return ref
        raise last or Unreachable()

    async def _dm_opened(self, account: Account, chat: ChatRef) -> None:
        """A private chat with ``account`` is open (the bot wrote there, or was written
        to): keep that, and the chat's id too (on Discord it is not the user id, and
        /forgetme must find it wherever a plugin kept it)."""
        dm_chat = _dm_chat_id(chat) or account.dm_chat_id
        if account.dm_open and account.dm_chat_id == dm_chat:
            return
        account.dm_open, account.dm_chat_id = True, dm_chat
        await Account.filter(id=account.id).update(dm_open=True, dm_chat_id=dm_chat)
        self.cache.member_changed(account.member_id)

    async def _accounts_of(self, to: Member | Account | UserRef | int) -> list[Account]:
        if isinstance(to, Account):
            return [to]
        if isinstance(to, UserRef):
            account = await self.identity.account_for(to)
            if account is None:
                return [Account(platform=to.platform, platform_user_id=to.id, dm_open=False, id=0)]
            return [account]
        member_id = to.id if isinstance(to, Member) else to
        return list(await Account.filter(member_id=member_id))

    # --- dispatch --------------------------------------------------------------------

    def chatter_is_quiet(self, chat_key: str) -> bool:
        """Whether a plain group message in this chat would only mark its sender active (no
        plugin listens to every message, no flow runs there), known without a query. Adapters
        check it before building an event; False means: dispatch the message as usual."""
        if not self._quiet_groups:
            return False
        if not self._group_flows:
            return True
        return self.cache.refresh_now() and self.cache.chat_known(chat_key) is False

    def mark_active(self, platform: str, user_id: str) -> None:
        """Note that a user was active now (written behind, in batches)."""
        self.activity.seen_id(platform, user_id, self.clock.now())

    async def dispatch(self, event: Event, adapter: Adapter | None = None) -> None:
        """Handle one platform event. Never raises: errors are logged, the member is told.

        Each update gets a correlation id (every log line it causes carries it), is counted
        and timed in the metrics, and ends with one log line saying how it went."""
        kind = type(event).__name__
        self.metrics.update_received(event.platform, kind)
        started = time.perf_counter()
        with scope(kind, event.platform) as update:
            update.source = event  # its platform strings are masked in log lines
            if isinstance(event, CommandInvoked):
                # Declared names only: a hostile command name makes no new series.
                known = self.commands.get(event.name)
                update.command = known.name if known is not None else None
            self.metrics.handling_started()
            self.in_flight += 1
            self._idle.clear()
            try:
                await self._dispatch(event, adapter)
            finally:
                self.in_flight -= 1
                self.handled += 1
                if not self.in_flight:
                    self._idle.set()
                self.metrics.handling_ended()
                seconds = time.perf_counter() - started
                self.metrics.update_handled(kind, seconds)
                if isinstance(event, CommandInvoked):
                    self.metrics.command(update.command or "unknown", update.outcome)
                if log.isEnabledFor(logging.INFO):
                    log.info(
                        "update handled",
                        extra={"outcome": update.outcome, "ms": round(seconds * 1000, 1)},
                    )

    async def _dispatch(self, event: Event, adapter: Adapter | None) -> None:
        adapter = adapter or self.adapters.get(event.platform)
        update = current_scope()
        secret = find_secret(event.text) if isinstance(event, MessageReceived) else None
        if (
            self._quiet_groups
            and secret is None
            and isinstance(event, MessageReceived)
            and not event.chat.is_dm
        ):
            try:
                await self.cache.refresh()
                in_flow = self._group_flows and await self.cache.chat_has_flow(event.chat.key)
            except asyncio.CancelledError:
                raise
            except Exception:
                # Plain chatter while the database is away: note the sender, answer nothing.
                log.exception("could not look up a flow in %s", event.chat.key)
                in_flow = False
            if not in_flow:
                self.activity.seen(event.user.ref, self.clock.now())
                return
        else:
            try:
                await self.cache.refresh()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("could not refresh the dispatch cache")
        ctx = Context(self, event=event, adapter=adapter)
        try:
            account = await self.identity.resolve(event.user)
            ctx.account, ctx.member = account, account.member
            if update is not None:
                update.member = account.member_id
            if event.chat.is_dm:
                await self._dm_opened(account, event.chat)
            if event.user.impersonating:
                await self.safety.name_flagged(ctx)
            if not await self.privacy.admit(ctx, event):
                if update is not None:
                    update.refused()
                return
            await self._route(ctx, event)
            # After the handler's changes are committed: a flow that ended here. The latest
            # questions first (the ones a member may still press); older ones past the
            # limit keep their look and are answered "already done".
            for spent in reversed(ctx.spent[-_CLOSED_PER_FLOW:]):
                try:
                    await self.close_buttons(spent)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    # The member's answer is in; a press on these is "already done".
                    log.warning(
                        "could not disable spent buttons in %s", spent.chat.platform, exc_info=True
                    )
        except UsageError as exc:
            if update is not None:
                update.outcome = CommandOutcome.USAGE_ERROR
            kwargs = dict(exc.kwargs)
            if exc.command is not None:
                kwargs.setdefault("usage", ctx.usage(exc.command))
                kwargs.setdefault("command", ctx.cmd(exc.command))
            await self._safe_reply(ctx, ctx.t(exc.key, **kwargs))
        except PermissionDenied as exc:
            if update is not None:
                update.outcome = CommandOutcome.REFUSED
            kwargs = dict(exc.kwargs)
            reason = exc.reason
            if reason == "core.error.forbidden":
                # The role a command needs; a plugin's own refusal says "captain or admin".
                kwargs.setdefault("role", ctx.t("core.role_needed.captain"))
            if reason == "core.error.forbidden" and "command" not in kwargs:
                command = (
                    self.commands.get(event.name) if isinstance(event, CommandInvoked) else None
                )
                if command is None:
                    reason = "core.error.forbidden_here"
                else:
                    kwargs["command"] = ctx.cmd(command)
            await self._safe_reply(ctx, ctx.t(reason, **kwargs))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if update is not None:
                update.outcome = CommandOutcome.INTERNAL_ERROR
            self.metrics.note_error(exc, "dispatch")
            # Pseudonymous ids: a log line never carries a member's platform id.
            log.exception(
                "error handling %s from %s in %s",
                type(event).__name__,
                pseudonym(event.user.ref),
                pseudonym(event.chat.key) if event.chat.is_dm else event.chat.key,
            )
            # Its writes are rolled back; messages it sent are not: say which is true.
            sent = "core.error.internal_sent" if ctx.messages_out else "core.error.internal"
            await self._safe_reply(ctx, ctx.t(sent))

    async def _safe_reply(self, ctx: Context, text: str) -> None:
        if ctx.chat is not None and self.outbox.blocked(ctx.chat):
            # The platform asked us to leave this chat alone: no apology into it.
            log.info("not answering in %s: the platform holds it back", ctx.chat.key)
            return
        try:
            await ctx.reply(text)
        except Exception:
            log.exception("could not tell %s about an error", pseudonym(ctx.user))

    async def _route(self, ctx: Context, event: Event) -> None:
        if isinstance(event, CommandInvoked):
            await self._command(ctx, event)
        elif isinstance(event, MessageReceived):
            await self._message(ctx, event)
        elif isinstance(event, ButtonPressed):
            await self._button(ctx, event)
        elif isinstance(event, MemberJoined):
            await self.plugins.member_joined(ctx, event)
        elif isinstance(event, MemberLeft):
            await self.plugins.member_left(ctx, event)
        elif isinstance(event, PollAnswered):
            await self.plugins.poll_answered(ctx, event)
        elif isinstance(event, ScheduledEventInterest):
            await self.plugins.scheduled_event_interest(ctx, event)
        else:
            log.warning("unknown event type %s", type(event).__name__)

    async def _command(self, ctx: Context, event: CommandInvoked) -> None:
        assert ctx.member is not None
        # Counted in the database, so the limit holds across worker processes; the polite
        # answer goes out once per window, later commands in it are dropped silently.
        update = current_scope()
        over = await self.privacy.over_command_limit(ctx.member.id)
        if over:
            if update is not None:
                update.refused()
            if over == 1:
                limit = self.settings.limits.commands_per_minute
                await ctx.reply(ctx.t("core.error.rate_limited", limit=limit), private=True)
            return
        command = self.commands.get(event.name)
        if command is None:
            if update is not None:
                update.outcome = CommandOutcome.UNKNOWN_COMMAND
            role = await self.roles.highest(ctx.member.id)
            visible = [c for c in self.visible_commands() if c.role <= role]
            suggestion = self.commands.suggest(event.name[:64], visible)
            key = (
                "core.error.unknown_command_suggest" if suggestion else "core.error.unknown_command"
            )
            hint = self.command_names.command(suggestion) if suggestion else None
            await ctx.reply(
                ctx.t(key, name=event.name[:64], suggestion=ctx.cmd(hint) if hint else "")
            )
            return
        if len(event.args) > self.settings.limits.max_message_chars:
            raise UsageError("core.error.too_long", limit=self.settings.limits.max_message_chars)
        typed = [event.args, *(str(v) for v in (event.options or {}).values())]
        secret = next((kind for text in typed if (kind := find_secret(text))), None)
        if secret is not None:
            # A NIK or an OTP typed after a command is no more kept than one typed alone.
            await self.safety.caught_in_command(ctx, event, secret)
            return
        # The role first: a command the member may not use anywhere is refused where it was
        # typed (not "go to the private chat", to be refused there), naming the role needed
        # and the command as they typed it.
        if command.role > Role.MEMBER and await self.roles.highest(ctx.member.id) < command.role:
            raise PermissionDenied(
                "core.error.forbidden",
                command=ctx.cmd(command),
                role=ctx.t(f"core.role_needed.{command.role.label}"),
            )
        if command.where is Where.GROUP and event.chat.is_dm:
            raise UsageError("core.error.group_only", command=command)
        if command.where is Where.DM and not event.chat.is_dm:
            if update is not None:
                update.refused()
            await self._dm_only(ctx, command)
            return
        parsed_as = _reply_names_member(command, event)
        values = parse_args(parsed_as, event.args, event.options)
        for param in command.params:
            if param not in parsed_as.params:
                values[param.name] = None  # the member replied to, resolved below
        for param in command.params:
            if param.type is ParamType.USER:
                values[param.name] = await self._resolve_user(
                    ctx, event, param.name, values[param.name], command
                )
        if not command.atomic:
            await command.handler(ctx, **values)
            return
        async with in_transaction():
            await command.handler(ctx, **values)

    async def _resolve_user(
        self, ctx: Context, event: CommandInvoked, name: str, raw: Any, command: Command
    ) -> Member | None:
        if raw is None and event.reply_to_user is not None:
            account = await self.identity.resolve(event.reply_to_user)
            return account.member
        if raw is None:
            return None
        if isinstance(raw, Member):
            return raw
        if isinstance(raw, Sender):
            # Picked from the platform's own member list (a Discord user option): a real
            # member of the community even if they never wrote to the bot.
            return (await self.identity.resolve(raw)).member
        if isinstance(raw, UserRef):
            found = await self.identity.account_for(raw)
            if found is None:
                raise UsageError("core.usage.unknown_member", command=command, who=str(raw))
            return await Member.get(id=found.member_id)
        member = await self.identity.find(str(raw), event.platform)
        if member is None:
            raise UsageError("core.usage.unknown_member", command=command, who=str(raw))
        return member

    async def _dm_only(self, ctx: Context, command: Command) -> None:
        link = ctx.adapter.dm_link(command.name) if ctx.adapter else None
        buttons = [Button(ctx.t("core.button.open_dm"), url=link)] if link else []
        await ctx.reply(ctx.t("core.error.dm_only", command=ctx.cmd(command)), buttons=buttons)

    async def _message(self, ctx: Context, event: MessageReceived) -> None:
        assert ctx.member is not None
        text = event.text
        if not text.strip():
            return
        secret = find_secret(text)
        if secret is not None:
            # Never handed to a flow or a plugin: not stored, not echoed.
            await self.safety.caught(ctx, event, secret)
            return
        conversation = await self.conversations.get(ctx.member.id, event.chat.key)
        if conversation is not None:
            flow = self.flows.get(conversation.flow)
            if flow is None:
                log.warning("dropping conversation in unknown flow %r", conversation.flow)
                await self.conversations.finish(ctx.member.id, event.chat.key)
            else:
                if len(text) > self.settings.limits.max_message_chars:
                    raise UsageError(
                        "core.error.too_long", limit=self.settings.limits.max_message_chars
                    )
                ctx.conversation = conversation
                async with in_transaction():
                    await flow.handler(ctx, text)
                return
        if len(text) > self.settings.limits.max_message_chars:
            event = replace(event, text=text[: self.settings.limits.max_message_chars])
        if event.chat.is_dm and not self.plugins.implements("guyub_on_message"):
            # "halo" in a private chat: answer as /start would (register, or a greeting
            # naming /help) rather than say nothing.
            if not await self.plugins.handle_start(ctx, ""):
                name = ctx.member.display_name
                await ctx.reply(ctx.t("core.start.greeting", name=name))
            return
        await self.plugins.message(ctx, event)

    async def _button(self, ctx: Context, event: ButtonPressed) -> None:
        assert ctx.member is not None
        pressed = event.message
        if pressed is not None and await self.conversations.spent(pressed.chat.key, pressed.id):
            # A question of a flow that has ended (its buttons not yet disabled, or a
            # platform that can't disable them): a polite word, nothing runs again.
            await ctx.reply(ctx.t("core.error.button_done"), private=True)
            return
        stored = await self.buttons.load(event.key)
        if stored is None or stored.action not in self.actions:
            await ctx.reply(ctx.t("core.error.button_expired"), private=True)
            return
        if stored.only_for is not None and stored.only_for != ctx.member.id:
            await ctx.reply(ctx.t("core.error.not_your_button"), private=True)
            return
        if ctx.chat is not None:
            ctx.conversation = await self.conversations.get(ctx.member.id, ctx.chat.key)
        data = dict(stored.data or {})
        if event.form is not None:
            data["form"] = dict(event.form)
        async with in_transaction():
            await self.actions[stored.action].handler(ctx, data)

    # --- helpers for plugins ----------------------------------------------------------


def _dm_chat_id(chat: ChatRef) -> str | None:
    """The id of a private chat to keep on the account (platform ids are short; anything
    longer is not one to keep)."""
    return chat.id if chat.is_dm and len(chat.id) <= 128 else None


def _reply_names_member(command: Command, event: CommandInvoked) -> Command:
    """A command with an optional member parameter, typed as a reply to that member's
    message: the reply names the member and the words typed fill the other parameters
    (``/blokir hapus pesan`` in reply to the scammer). Otherwise ``command`` itself."""
    if event.options is not None or event.reply_to_user is None:
        return command
    index = next(
        (i for i, p in enumerate(command.params) if p.type is ParamType.USER and not p.required),
        None,
    )
    if index is None:
        return command
    words = split_args(event.args, len(command.params))
    if index < len(words) and (words[index].startswith(("@", "#")) or ":" in words[index]):
        return command  # a member named explicitly wins over the reply
    params = command.params[:index] + command.params[index + 1 :]
    return replace(command, params=params)


#: How many of an ended flow's questions get their buttons disabled (the latest ones).
_CLOSED_PER_FLOW = 8

#: Seconds a stopping worker spends handing back its leases before it gives up.
_RELEASE_TIMEOUT = 5.0


class _Stop(Exception):
    """Raised inside the TaskGroup to stop every task."""


def _unknown_keys(model: Any, table: Mapping[str, Any]) -> list[str]:
    """Keys of a plugin's settings table its model does not declare (a typo such as
    ``default_capcity`` would otherwise be dropped in silence); none when the model
    accepts extra keys itself."""
    if model.model_config.get("extra") == "allow":
        return []
    names = set(model.model_fields)
    names |= {f.alias for f in model.model_fields.values() if f.alias}
    return sorted(k for k in table if k not in names)
