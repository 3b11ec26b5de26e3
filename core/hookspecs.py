"""Every hook a Guyub plugin can implement: the reference manual for plugin authors.

Implement a hook with ``@hookimpl`` on a function named like the spec in your plugin module
(or on a method of a plugin object)::

    from core import hookimpl

    @hookimpl
    def guyub_register_commands():
        return [Command("hello", hello, "hello.cmd", alias="halo")]

Three kinds of hook:

* ``guyub_register_*`` are **synchronous** and called once at start-up, in plugin load
  order. Each returns what the plugin contributes; results of all plugins are collected.
* ``guyub_on_*`` are **async notifications**. Every plugin's implementation is awaited,
  each isolated: an exception or a timeout (``plugins.hook_timeout``) in one plugin is
  logged with the plugin's name and the others still run. Return values are ignored.
* ``guyub_resolve_*`` ask a question; implementations may be sync or async. They are called
  one after another (tryfirst/trylast respected) and the **first non-None answer wins**.
  Guyub calls them through its own ``call_first``, never pluggy's ``firstresult``, because
  pluggy cannot await coroutines.
* ``guyub_collect_*`` / ``guyub_export_*`` / ``guyub_forget_*`` are async and every plugin
  answers; the answers are gathered per plugin name.

Only ``core._plugins`` touches ``pm.hook``; the rest of Guyub calls the typed facade.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

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
    from core._specs import Action, CliCommand, Flow, JobKind, ModelModule
    from core.models import Member
    from core.privacy import RetentionPolicy
    from core.web import DashboardPage

__all__ = ["hookimpl", "hookspec"]

hookspec = pluggy.HookspecMarker("guyub")
hookimpl = pluggy.HookimplMarker("guyub")


# --- start-up: registration (sync, every plugin, results collected) -----------------------


@hookspec
def guyub_register_commands() -> Sequence[Command]:
    """Called once at start-up. Return the plugin's commands.

    Names and aliases must be unique across plugins; a clash stops start-up with a message
    naming both plugins. Adapters register the commands natively (menus, slash commands).
    """


@hookspec
def guyub_register_actions() -> Sequence[Action]:
    """Called once at start-up. Return the button actions the plugin handles.

    A pressed button whose action name matches runs ``Action.handler(ctx, data)``.
    """


@hookspec
def guyub_register_flows() -> Sequence[Flow]:
    """Called once at start-up. Return the plugin's multi-step conversation flows.

    While a member is in a flow in a chat, their plain messages there go to the flow's
    handler instead of ``guyub_on_message``.
    """


@hookspec
def guyub_register_jobs() -> Sequence[JobKind]:
    """Called once at start-up. Return the kinds of scheduled job the plugin runs."""


@hookspec
def guyub_register_models() -> Sequence[ModelModule]:
    """Called once at start-up, before the database is opened. Return the plugin's tortoise
    apps (label, model modules, migrations package). Each plugin owns its tables."""


@hookspec
def guyub_register_texts() -> dict[str, dict[str, str]]:
    """Called once at start-up. Return ``{language: {key: template}}`` with an ``id`` and an
    ``en`` entry for every key (``core.load_texts(__package__)`` reads ``texts/*.toml``)."""


@hookspec
def guyub_register_settings() -> type[Any] | None:
    """Called once at start-up. Return a pydantic model for the plugin's ``[name]`` settings
    table; ``app.plugin_settings(name)`` then returns the validated instance."""


@hookspec
def guyub_register_cli() -> Sequence[CliCommand]:
    """Called when the ``guyub`` CLI starts. Return ``guyub GROUP NAME`` commands; each
    runs in a started App (``guyub regions search``, ``guyub export poll``...)."""


@hookspec
def guyub_register_web() -> Iterable[AbstractRouteDef] | None:
    """Called once at start-up, before the web server listens. Return aiohttp route
    definitions (a ``web.RouteTableDef``, or ``[web.get(path, handler), ...]``) to mount on
    the App's web server; ``request.app[core.web.APP_KEY]`` is the App in a handler.
    A method and path must be unique across plugins: a clash stops start-up with a message
    naming both plugins."""


@hookspec
def guyub_register_dashboard() -> Sequence[DashboardPage]:
    """Called once at start-up. Return the plugin's links in the dashboard menu
    (:class:`core.web.DashboardPage`: path, label text key, admin only, the package whose
    ``templates/`` folder holds the plugin's Jinja2 templates). The pages themselves are
    routes from ``guyub_register_web`` wrapped in ``core.web.dashboard_page``."""


# --- lifecycle (async notifications) -------------------------------------------------------


@hookspec
async def guyub_on_startup(app: App) -> None:
    """Called after the database is ready and every plugin is registered, before adapters
    connect. Seed data, warm caches, schedule recurring jobs here."""


@hookspec
async def guyub_on_shutdown(app: App) -> None:
    """Called once while the App stops, before the database is closed."""


# --- chat events (async notifications) -----------------------------------------------------


@hookspec
async def guyub_on_message(ctx: Context, event: MessageReceived) -> None:
    """Called for every plain message (not a command, not consumed by a flow), in groups
    and private chats. Keep it cheap: it runs for all group chatter."""


@hookspec
async def guyub_on_member_joined(ctx: Context, event: MemberJoined) -> None:
    """Called when a user joins a group the bot is in (``ctx.member`` is already stored)."""


@hookspec
async def guyub_on_member_left(ctx: Context, event: MemberLeft) -> None:
    """Called when a user leaves or is removed from a group."""


@hookspec
async def guyub_on_poll_answered(ctx: Context, event: PollAnswered) -> None:
    """Called when a member votes on (or retracts a vote on) a native platform poll.

    ``event.poll_id`` matches the ``poll_id`` of the :class:`MessageRef` that sending the poll
    returned; a plugin keeps that id to know the votes are for its poll."""


# --- community events raised by plugins (async notifications) -----------------------------


@hookspec
async def guyub_on_member_onboarded(ctx: Context, member: Member) -> None:
    """Called when a member finishes registration (a region and a name are set)."""


@hookspec
async def guyub_on_member_region_changed(
    ctx: Context, member: Member, old_region: str | None, new_region: str | None
) -> None:
    """Called after a member's region changed (``member.region_code`` is the new one)."""


@hookspec
async def guyub_on_members_merged(app: App, kept: Member, merged: Member) -> None:
    """Called when two members become one (account linking), before ``merged`` is deleted.
    Move or merge the plugin's rows from ``merged`` to ``kept`` without double counting."""


# --- questions (first non-None answer wins) -------------------------------------------------


@hookspec
async def guyub_resolve_region(code: str) -> RegionInfo | None:
    """Return the region with this code (name, parent, time zone), or None if unknown.

    The core's region service (``app.regions``) asks this; the regions plugin answers.
    """


@hookspec
async def guyub_resolve_region_match(text: str) -> RegionMatch | None:
    """Match what a member typed (``aceh utara``, ``Kab. Aceh Utara``, ``sumut``) to regions.

    Return a :class:`RegionMatch`: ranked candidates and whether the best one is certain
    (a member must never land in a wrong region silently: uncertain matches are asked).
    """


@hookspec
async def guyub_resolve_region_chats(code: str) -> Sequence[ChatRef] | None:
    """Return the group chats bound to exactly this region, on every platform."""


@hookspec
async def guyub_handle_start(ctx: Context, payload: str) -> bool | None:
    """Called on ``/start`` in a private chat (``payload`` is the deep-link argument, e.g.
    ``onboard``). Return True if you answered; the first True wins and the core's own
    greeting is skipped."""


@hookspec
async def guyub_resolve_completions(
    source: str, text: str, ctx: Context | None
) -> Sequence[tuple[str, str]] | None:
    """Return up to 25 ``(label, value)`` suggestions for a parameter whose ``autocomplete``
    is ``source`` and whose partial input is ``text``; None if the source isn't yours."""


# --- privacy and reporting (async, every plugin answers) -----------------------------------


@hookspec
async def guyub_export_member(member: Member) -> dict[str, Any] | None:
    """Return everything the plugin stores about ``member`` as JSON-ready data (``/mydata``)."""


@hookspec
async def guyub_forget_member(member: Member) -> None:
    """Delete the plugin's personal data about ``member`` (``/forgetme``); aggregate counts may
    stay, individual rows must go."""


@hookspec
async def guyub_collect_stats(
    region_codes: Sequence[str] | None, app: App
) -> dict[str, Any] | None:
    """Return the plugin's figures for ``/stats`` over those regions (None: the whole country)."""


# --- platform calendar (Discord guild scheduled events) -------------------------------------


@hookspec
async def guyub_on_scheduled_event_interest(ctx: Context, event: ScheduledEventInterest) -> None:
    """Called when a member marks (``event.interested``) or unmarks an event in the
    platform's calendar as interesting; ``event.event_id`` is the id that
    ``Adapter.create_scheduled_event`` returned. An events plugin may count it as an RSVP."""


# --- privacy: retention (async, every plugin answers) --------------------------------------


@hookspec
async def guyub_apply_retention(app: App, policy: RetentionPolicy) -> dict[str, int] | None:
    """Called by the daily retention job (``[privacy]`` settings). Delete the rows the
    policy's cut-off times say are too old (``policy.delivered_outbox_before`` for the
    outbox's delivered rows, ``policy.inactive_members_before``...) and return how many
    went, by kind, for the audit log. ``None`` cut-offs mean keep."""
