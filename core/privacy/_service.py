"""The App's privacy service (``app.privacy``): the consent gate every event passes, the
per-member command rate limit, and the member data operations."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, NamedTuple

from core._adapter import Unreachable
from core._events import (
    ButtonPressed,
    CommandInvoked,
    Event,
    MemberJoined,
    MemberLeft,
    MessageReceived,
)
from core._markup import Markup
from core._messages import Button, Message
from core.models import Member
from core.privacy import _consent, _members, _ratelimit
from core.privacy._consent import ConsentStatus
from core.privacy._settings import PrivacySettings
from core.privacy.models import ConsentRecord

if TYPE_CHECKING:
    from core._app import App
    from core._context import Context

__all__ = ["Privacy"]

log = logging.getLogger(__name__)

#: The plugin name the privacy commands are registered under.
PLUGIN_NAME = "privacy"
#: Commands a member who declined or withdrew consent may still use.
_ALWAYS_ALLOWED = frozenset({"help", "language", "cancel"})


class Privacy:
    """Consent, rate limiting and the member data operations of one App."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.budget = _ratelimit.CommandBudget("sqlite", window=_MINUTE)

    @property
    def settings(self) -> PrivacySettings:
        try:
            found = self.app.plugin_settings(PLUGIN_NAME)
        except (KeyError, AttributeError):
            return PrivacySettings()
        return found if isinstance(found, PrivacySettings) else PrivacySettings()

    # --- consent ---------------------------------------------------------------------

    async def consent_of(self, member_id: int) -> ConsentRecord | None:
        """The member's latest consent record (None: never asked)."""
        return await _consent.latest(member_id)

    async def may_process(self, member_id: int) -> bool:
        """Whether Guyub may process this member's data beyond deleting it (broadcasts,
        reminders and plugins should skip members for whom this is False)."""
        row = await _consent.latest(member_id)
        if row is not None and row.status == ConsentStatus.WITHDRAWN:
            return False
        if self.settings.consent_required:
            return (
                row is not None
                and row.status == ConsentStatus.GIVEN
                and row.version == self.settings.consent_version
            )
        return True

    async def admit(self, ctx: Context, event: Event) -> bool:
        """Called for every event once the member is known: False stops it here.

        * Members who declined or withdrew are told how to change that (commands, private
          messages) and nothing else runs for them.
        * Members who agreed to an older version of the text are asked again, once, at
          their next command.
        * Members never asked give consent when they register (a plugin's flow records it
          with :meth:`record_consent`) or with /consent; with ``consent_required`` nothing
          but the privacy commands runs until they agree, and every command asks.
        """
        member = ctx.member
        if member is None:
            return True
        if await self._is_privacy_event(event):
            return True
        settings = self.settings
        row = await self._consent_state(member.id)
        interactive = isinstance(event, CommandInvoked | ButtonPressed) or (
            isinstance(event, MessageReceived) and event.chat.is_dm
        )
        if row is not None and row.status == ConsentStatus.WITHDRAWN:
            if isinstance(event, CommandInvoked) and event.name in self._allowed_names():
                return True
            if interactive:
                await ctx.reply(ctx.t("privacy.consent.stopped"), private=True)
            return False
        current = settings.consent_version
        if row is not None and row.status == ConsentStatus.GIVEN and row.version == current:
            return True
        outdated = row is not None and row.status == ConsentStatus.GIVEN
        if settings.consent_required:
            # A command, a button or a private message: each gets the question again.
            if interactive and not await self.ask(ctx, updated=outdated):
                await self._open_dm_first(ctx)
            if interactive and (row is None or row.version != current):
                await self.record_consent(member.id, ConsentStatus.ASKED, event.platform)
            # Joins and leaves still reach plugins: the welcome is how a newcomer learns
            # to open the private chat where consent is asked.
            return isinstance(event, MemberJoined | MemberLeft)
        # The new version is asked with a command, never in the middle of something (a
        # button, a flow answer), and once: the ASKED record remembers it.
        if outdated and isinstance(event, CommandInvoked) and await self.ask(ctx, updated=True):
            await self.record_consent(member.id, ConsentStatus.ASKED, event.platform)
        return True

    async def _consent_state(self, member_id: int) -> _ConsentState | None:
        cache = getattr(self.app, "cache", None)
        state = await cache.member(member_id) if cache is not None else None
        if state is not None:
            return _ConsentState(*state.consent) if state.consent else None
        row = await _consent.latest(member_id)
        return _ConsentState(row.status, row.version) if row is not None else None

    def _allowed_names(self) -> set[str]:
        names: set[str] = set()
        for command in self.app.commands.all():
            if command.name in _ALWAYS_ALLOWED or command.plugin == PLUGIN_NAME:
                names.update(filter(None, (command.name, command.alias)))
        return names

    async def _is_privacy_event(self, event: Event) -> bool:
        if isinstance(event, CommandInvoked):
            command = self.app.commands.get(event.name)
            return command is not None and command.plugin == PLUGIN_NAME
        if isinstance(event, ButtonPressed):
            stored = await self.app.buttons.load(event.key)
            return stored is not None and stored.action.startswith("privacy:")
        return False

    def consent_text(self, ctx: Context) -> Markup:
        version = self.settings.consent_version
        key = f"privacy.consent.v{version}"
        if not self.app.translator.has(key):
            key = "privacy.consent.text"
        return ctx.t(key)

    async def ask(self, ctx: Context, *, updated: bool = False) -> bool:
        """Show the consent text with Agree / Decline buttons in a private chat; False if
        it can't be delivered there (the text is never posted to a group)."""
        assert ctx.member is not None
        version = self.settings.consent_version
        intro = ctx.t("privacy.consent.updated" if updated else "privacy.consent.intro")
        text = Markup("{}\n\n{}\n\n{}").format(
            intro, self.consent_text(ctx), ctx.t("privacy.consent.question", version=version)
        )
        buttons = [
            Button(
                ctx.t("privacy.button.agree"),
                "privacy:consent",
                {"version": version, "answer": "yes"},
                only_for=ctx.member.id,
            ),
            Button(
                ctx.t("privacy.button.decline"),
                "privacy:consent",
                {"version": version, "answer": "no"},
                only_for=ctx.member.id,
            ),
        ]
        message = Message.of(text, buttons=[buttons])
        if ctx.chat is not None and ctx.chat.is_dm:
            await ctx.reply(message)
            return True
        try:
            await self.app.send_dm(
                ctx.member, message, prefer=ctx.chat.platform if ctx.chat else None
            )
        except Unreachable:
            return False
        return True

    async def _open_dm_first(self, ctx: Context) -> None:
        link = ctx.adapter.dm_link("consent") if ctx.adapter is not None else None
        buttons = [Button(ctx.t("core.button.open_dm"), url=link)] if link else []
        await ctx.reply(ctx.t("privacy.consent.open_dm"), buttons=buttons)

    async def record_consent(self, member_id: int, status: str, channel: str) -> None:
        """Record a consent answer for the current version: ``"given"``, ``"withdrawn"``
        or ``"asked"`` (shown, not answered). Plugins that ask for consent themselves (a
        registration flow) call this, so the member is not asked twice."""
        await _consent.record(
            member_id,
            self.settings.consent_version,
            ConsentStatus(status),
            self.app.clock.now(),
            channel,
        )
        self._member_changed(member_id)

    def _member_changed(self, *member_ids: int) -> None:
        # Other workers learn of it through the database; this one at once.
        cache = getattr(self.app, "cache", None)
        if cache is not None:
            for member_id in member_ids:
                cache.member_changed(member_id)

    # --- rate limiting ---------------------------------------------------------------

    async def over_command_limit(self, member_id: int) -> int:
        """Count a command; returns 0 within the limit, else how far over it (1 the first
        time, so the polite reply is sent once per window)."""
        limit = self.app.settings.limits.commands_per_minute
        if limit <= 0:
            return 0
        count = await self.budget.hit(member_id, self.app.clock.now(), limit)
        return max(0, count - limit)

    # --- member data -----------------------------------------------------------------

    async def export(self, member: Member) -> dict[str, object]:
        return await _members.export_member(self.app, member)

    async def forget(self, member: Member, *, reason: str = "request") -> str:
        try:
            return await _members.forget_member(self.app, member, reason=reason)
        finally:
            self._member_changed(member.id)

    async def merge(self, kept: Member, merged: Member, *, channel: str = "link") -> None:
        try:
            await _members.merge_members(self.app, kept, merged, channel=channel)
        finally:
            self._member_changed(kept.id, merged.id)


_MINUTE = timedelta(minutes=1)


class _ConsentState(NamedTuple):
    status: str
    version: int
