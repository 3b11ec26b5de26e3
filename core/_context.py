"""``Context``: how a plugin answers. It knows the event, the member, their language and the
App's services, and sends through whichever adapter the target lives on."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from core._adapter import Adapter, Capability, NotSupported, Unreachable
from core._command_names import CommandStyle
from core._commands import Command
from core._events import ChatRef, Event, MessageRef, UserRef
from core._i18n import Text, normalize_language
from core._markup import Markup
from core._messages import Button, Form, Message, as_message
from core._roles import PermissionDenied
from core._steps import begin
from core.models import Account, Conversation, Job, Member

if TYPE_CHECKING:
    from core._app import App
    from core._regions import Regions
    from core._roles import Audit, Roles
    from core._scheduler import JobRow, Scheduler
    from core.outbox import Outbox

__all__ = ["Context", "JobContext"]

log = logging.getLogger(__name__)


class Context:
    """Everything a handler needs: ``ctx.reply``, ``ctx.t``, ``ctx.member`` and services.

    Created by the core for each event (and for each job, as :class:`JobContext`).
    """

    def __init__(
        self,
        app: App,
        *,
        event: Event | None = None,
        adapter: Adapter | None = None,
        account: Account | None = None,
        member: Member | None = None,
        conversation: Conversation | None = None,
    ) -> None:
        self.app = app
        self.event = event
        self.adapter = adapter
        self.account = account
        self.member = member
        self.conversation = conversation
        self._lang: str | None = None
        #: Messages whose buttons a flow ended here has spent; the core disables them
        #: once the handler's changes are committed.
        self.spent: list[MessageRef] = []
        #: Messages sent or edited for this event so far: a handler that raises after one
        #: went out cannot say "nothing was changed" (a message is not rolled back).
        self.messages_out = 0

    # --- who and where ---------------------------------------------------------------

    @property
    def chat(self) -> ChatRef | None:
        return self.event.chat if self.event is not None else None

    @property
    def user(self) -> UserRef | None:
        return self.event.user.ref if self.event is not None else None

    @property
    def lang(self) -> str:
        """The member's language (set from the platform's at first sight, then their choice)."""
        if self._lang is None:
            if self.member is not None:
                chosen: str | None = self.member.language
            else:
                chosen = self.account.language if self.account is not None else None
            self._lang = normalize_language(chosen, self.app.settings.language)
        return self._lang

    @lang.setter
    def lang(self, value: str) -> None:
        self._lang = normalize_language(value, self.app.settings.language)

    @property
    def in_group(self) -> bool:
        return self.chat is not None and not self.chat.is_dm

    # --- services --------------------------------------------------------------------

    @property
    def scheduler(self) -> Scheduler:
        return self.app.scheduler

    @property
    def outbox(self) -> Outbox:
        """Durable, paced fan-out (``ctx.outbox.enqueue(...)``)."""
        return self.app.outbox

    @property
    def roles(self) -> Roles:
        return self.app.roles

    @property
    def audit_log(self) -> Audit:
        return self.app.audit

    @property
    def regions(self) -> Regions:
        return self.app.regions

    def now(self) -> datetime:
        return self.app.clock.now()

    @property
    def command_style(self) -> CommandStyle | None:
        """How the platform this context answers on spells commands; None when it is not
        known yet (then command names are resolved by the adapter that sends)."""
        if self.adapter is not None:
            return self.adapter.command_style
        if self.chat is not None and self.chat.platform in self.app.adapters:
            return self.app.adapters[self.chat.platform].command_style
        return None

    def t(self, key: str, /, **kwargs: Any) -> Markup:
        """Translate ``key`` into the member's language, escaping every argument.

        ``{cmd:NAME}``/``{usage:NAME}`` in the text, and :class:`Command` arguments, name
        commands as this member's platform and language spell them."""
        return self.app.translator(key, self.lang, self.command_style, **kwargs)

    def t_for(self, member: Member, key: str, /, **kwargs: Any) -> Markup:
        """Translate ``key`` into ``member``'s language (to message someone else). Command
        names are spelled for the platform the message is delivered on."""
        lang = normalize_language(member.language, self.app.settings.language)
        return self.app.translator(key, lang, None, **kwargs)

    def cmd(self, command: Command | str) -> Markup:
        """A command as this member types it: ``/acara_baru`` on Telegram in Indonesian,
        ``/event new`` on Discord in English. ``command`` is a :class:`Command` or a
        canonical name (or alias)."""
        return self.app.command_names.name(command, self.lang, self.command_style)

    def usage(self, command: Command | str) -> Markup:
        """The command's usage line for this member (``/acara_baru [judul] …``)."""
        return self.app.command_names.usage(command, self.lang, self.command_style)

    def supports(self, capability: Capability) -> bool:
        """Whether the platform this event came from can do ``capability``."""
        return self.adapter is not None and self.adapter.supports(capability)

    def settings(self, plugin: str) -> Any:
        return self.app.plugin_settings(plugin)

    async def audit(
        self, action: str, *, target: str = "", region: str | None = None, **details: Any
    ) -> None:
        await self.app.audit.record(
            action, actor=self.member, target=target, region=region, **details
        )

    async def require_region(self, region_code: str) -> None:
        """Raise :class:`PermissionDenied` unless the member may manage ``region_code``."""
        if self.member is None:
            raise PermissionDenied()
        if not await self.app.roles.can_manage(self.member.id, region_code):
            # Named as people know it ("Aceh", "seluruh Indonesia"), never a bare code.
            name = await self.regions.name(region_code) if region_code else self.t("core.country")
            raise PermissionDenied("core.error.not_your_region", region=name)

    async def is_platform_admin(self, chat: ChatRef | None = None) -> bool | None:
        """Whether the member administers this group (or ``chat``, another group on the
        same platform) there: True or False where the platform tells, None where it can't
        (no such notion, or not in a group). An error asking the platform counts as False:
        what needs the answer is refused."""
        chat = chat or self.chat
        if self.adapter is None or chat is None or chat.is_dm or self.user is None:
            return None
        if chat.platform != self.user.platform:
            return False
        try:
            return await self.adapter.is_chat_admin(chat, self.user)
        except NotSupported:
            return None
        except Exception:
            log.warning("could not ask %s who administers a group", chat.platform)
            return False

    # --- sending ---------------------------------------------------------------------

    async def reply(
        self,
        content: Message | str | Text,
        *,
        buttons: Sequence[Sequence[Button]] | Sequence[Button] = (),
        private: bool = False,
    ) -> MessageRef | None:
        """Answer in the chat the event came from. ``private`` answers in a DM when the
        event came from a group (falling back to the group if the DM can't be delivered).
        A :class:`Text` is translated for this member."""
        message = self._message(self._own(content), buttons)
        if self.chat is None:
            raise RuntimeError("reply() needs an event; use send() or send_dm()")
        self.messages_out += 1
        if private and self.in_group and self.member is not None:
            try:
                return await self.app.send_dm(self.member, message, prefer=self.chat.platform)
            except Unreachable:
                pass
        ref = await self.app.send(self.chat, message)
        await self._in_flow(ref, message)
        return ref

    async def send(
        self,
        chat: ChatRef,
        content: Message | str | Text,
        *,
        buttons: Sequence[Sequence[Button]] | Sequence[Button] = (),
    ) -> MessageRef:
        """Send to ``chat``. A :class:`Text` is translated into this member's language in
        their own DM, and into the default language elsewhere (a group)."""
        message = self._message(self._for_chat(chat, content), buttons)
        self.messages_out += 1
        ref = await self.app.send(chat, message)
        await self._in_flow(ref, message)
        return ref

    async def _in_flow(self, ref: MessageRef | None, message: Message) -> None:
        """A question with buttons asked in the member's flow is part of it: its buttons
        are spent when the flow ends."""
        conversation = self.conversation
        if (
            conversation is None
            or ref is None
            or not ref.id
            or ref.chat.key != conversation.chat_key
            or not any(b.url is None for row in message.buttons for b in row)
        ):
            return
        await self.app.conversations.remember_prompt(conversation.member_id, ref.chat.key, ref.id)

    async def send_dm(
        self,
        to: Member | Account | UserRef | int,
        content: Message | str | Text,
        *,
        buttons: Sequence[Sequence[Button]] | Sequence[Button] = (),
    ) -> MessageRef:
        """Message a member privately on one of their platforms; raises
        :class:`Unreachable` if none allows it. A :class:`Text` is translated into the
        recipient's language, and command names are spelled for the platform it lands on."""
        if isinstance(content, Text):
            lang = await self._language_of(to)
            content = self.app.translator(content.key, lang, None, **content.kwargs)
        prefer = self.chat.platform if self.chat is not None else None
        self.messages_out += 1
        return await self.app.send_dm(to, self._message(content, buttons), prefer=prefer)

    def _own(self, content: Message | str | Text) -> Message | str:
        if isinstance(content, Text):
            return self.t(content.key, **content.kwargs)
        return content

    def _for_chat(self, chat: ChatRef, content: Message | str | Text) -> Message | str:
        """A :class:`Text` in this member's language in their own DM, in the default
        language elsewhere (a group reads one language)."""
        if not isinstance(content, Text):
            return content
        own_dm = self.chat is not None and chat == self.chat and chat.is_dm
        lang = self.lang if own_dm else self.app.settings.language
        return self.app.translator(content.key, lang, None, **content.kwargs)

    async def _language_of(self, to: Member | Account | UserRef | int) -> str:
        """The recipient's language: their member's choice, else their account's."""
        member: Member | None = None
        account: Account | None = None
        if isinstance(to, Member):
            member = to
        elif isinstance(to, int):
            member = await Member.get_or_none(id=to)
        else:
            account = to if isinstance(to, Account) else await self.app.identity.account_for(to)
            if account is not None:
                member = await Member.get_or_none(id=account.member_id)
        chosen = member.language if member is not None else None
        if not chosen and account is not None:
            chosen = account.language
        return normalize_language(chosen, self.app.settings.language)

    async def edit(
        self,
        ref: MessageRef,
        content: Message | str | Text,
        *,
        buttons: Sequence[Sequence[Button]] | Sequence[Button] = (),
    ) -> None:
        """Replace a message the bot sent. A :class:`Text` is translated as :meth:`send`
        does: the member's language in their own DM, the default language in a group (so
        a member reading English who presses a group message's button does not turn it
        into English for everyone)."""
        message = self._message(self._for_chat(ref.chat, content), buttons)
        self.messages_out += 1
        await self.app.edit(ref, message)

    def _message(
        self, content: Message | str, buttons: Sequence[Sequence[Button]] | Sequence[Button]
    ) -> Message:
        if buttons:
            if isinstance(content, Message):
                raise TypeError("pass buttons inside the Message, or text with buttons=")
            return Message.of(content, buttons=buttons)
        return as_message(content)

    async def show_form(self, form: Form) -> bool:
        """Ask several answers at once where the platform has forms (Discord modals);
        False when it hasn't (or can't right now), so the plugin asks step by step."""
        if self.adapter is None or self.member is None or not self.supports(Capability.MODALS):
            return False
        key = await self.app.buttons.store(form.action, dict(form.data), self.member.id)
        try:
            await self.adapter.show_form(form, key)
        except NotSupported:
            return False
        return True

    # --- conversations ---------------------------------------------------------------

    async def start_flow(self, flow: str, step: str, **data: Any) -> Conversation:
        """Put the member into ``flow`` at ``step`` in this chat (replacing any other)."""
        if self.member is None or self.chat is None:
            raise RuntimeError("a flow needs a member and a chat")
        spec = self.app.flows.get(flow)
        if spec is None:
            raise ValueError(f"unknown flow {flow!r}")
        if not self.chat.is_dm and not spec.groups:
            raise ValueError(
                f"flow {flow!r} runs in private chats only; declare "
                "Flow(..., groups=True) to run it in groups"
            )
        self.conversation = await self.app.conversations.start(
            self.member.id, self.chat.key, flow, step, data
        )
        return self.conversation

    async def start_steps(self, flow: str, **answers: Any) -> None:
        """Start the declarative flow ``flow`` (:meth:`Flow.of_steps`): steps already
        answered in ``answers`` are skipped; the first open one is asked."""
        spec = self.app.flows.get(flow)
        if spec is None or not spec.steps or spec.done is None:
            raise ValueError(f"{flow!r} is not a flow of steps")
        await begin(self, flow, spec.steps, spec.done, dict(answers))

    async def set_step(self, step: str, **data: Any) -> Conversation:
        """Move the current flow to ``step``, merging ``data`` into its stored data."""
        if self.conversation is None:
            raise RuntimeError("no flow is active")
        self.conversation = await self.app.conversations.advance(self.conversation, step, data)
        return self.conversation

    async def end_flow(self) -> None:
        """Leave the member's flow in this chat; the buttons of its questions are spent."""
        if self.member is not None and self.chat is not None:
            spent = await self.app.conversations.finish(
                self.member.id, self.chat.key, at=self.now()
            )
            self.spent.extend(MessageRef(self.chat, message_id) for message_id in spent)
        self.conversation = None


class JobContext(Context):
    """The context a scheduled job runs in: no event, the job's payload and lateness."""

    def __init__(self, app: App, job: Job | JobRow, late_by: timedelta) -> None:
        super().__init__(app)
        self.job = job
        self.payload: dict[str, Any] = dict(job.payload or {})
        # A recurring occurrence's bookkeeping: which series, in which zone.
        recur = self.payload.pop("_recur", None)
        self.series: str | None = str(recur["series"]) if recur else None
        self.late_by = late_by

    @property
    def due_at(self) -> datetime:
        return self.job.due_at

    def for_member(self, member: Member) -> JobContext:
        """A copy speaking ``member``'s language (for per-recipient texts)."""
        clone = JobContext(self.app, self.job, self.late_by)
        clone.member = member
        return clone
