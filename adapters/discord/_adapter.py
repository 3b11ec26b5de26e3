"""The Discord adapter: discord.py 2.7 events in, core messages out.

Nothing of ``discord`` leaves this package: the core sees ``ChatRef``/``UserRef``/events only.
The client is built in ``__init__`` without connecting; ``run(app)`` logs in with
``async with client: await client.start(token)`` inside the App's TaskGroup.

Interactions (slash commands, button presses) must be answered within three seconds. While
the core handles one, the adapter keeps it in a context variable: a reply to the same channel
becomes the interaction's response (ephemeral for ``private`` commands), a private reply to
the same user becomes an ephemeral message instead of a DM, and a handler slower than
``defer_after`` seconds gets a "thinking..." deferral first.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import aiohttp
import discord

from adapters.discord import _guild
from adapters.discord._calls import AmbiguousAnswer, never_sent, send_trace, unknown_outcome
from adapters.discord._client import GuyubClient, GuyubShardedClient, build_intents
from adapters.discord._commands import (
    CommandSet,
    build_command_set,
    read_invocation,
    same_commands,
)
from adapters.discord._convert import PLATFORM, chat_of, message_ref, sender_of, user_ref
from adapters.discord._outgoing import (
    BUTTON_PREFIX,
    FORM_PREFIX,
    MENU_PREFIX,
    build_modal,
    build_view,
    disabled_view,
    form_answers,
    message_pieces,
)
from adapters.discord._render import NO_PINGS, split_text, to_markdown
from adapters.discord._scope import GuildScope
from core import (
    Adapter,
    ButtonPressed,
    Capability,
    ChatKind,
    ChatRef,
    Command,
    CommandInvoked,
    CommandStyle,
    Context,
    DeliveryError,
    DeliveryUnknown,
    Event,
    Form,
    FormField,
    MemberJoined,
    MemberLeft,
    Message,
    MessageReceived,
    MessageRef,
    NotSupported,
    Outgoing,
    ParamType,
    PollAnswered,
    RateLimits,
    ScheduledEvent,
    ScheduledEventInterest,
    Sender,
    Settings,
    Unreachable,
    UserRef,
    load_texts,
    parse_command_line,
    to_plain,
)
from core.state import get_value, set_value

if TYPE_CHECKING:
    from core import App

__all__ = ["BUTTON_PREFIX", "DiscordAdapter", "build_intents"]

log = logging.getLogger(__name__)

#: Application command type of a message context-menu command.
_MESSAGE_MENU = 3

_INTENTS_HELP = (
    "Discord refused the privileged intents this bot asks for. Open "
    "https://discord.com/developers/applications, choose the application, then Bot > "
    "Privileged Gateway Intents, and enable SERVER MEMBERS INTENT (and MESSAGE CONTENT "
    "INTENT if discord.message_content is true). Member joins and leaves need it. "
    "The Discord adapter has stopped; other platforms keep running."
)


@dataclass(eq=False)
class _Exchange:
    """An interaction the core is answering right now."""

    interaction: discord.Interaction
    chat: ChatRef
    kind: str  # "command" or "component"
    private: bool = False
    deferred: bool = False
    original_used: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: The "thinking..." deferral, once the answer took longer than ``defer_after``.
    deferring: asyncio.Task[None] | None = None


_EXCHANGE: contextvars.ContextVar[_Exchange | None] = contextvars.ContextVar(
    "guyub_discord_exchange", default=None
)


@dataclass(eq=False)
class _Welcome:
    """A join being handled: the first message to its welcome channel mentions (and pings)
    the newcomer, and nobody else."""

    chat: ChatRef
    user_id: int
    done: bool = False


_WELCOME: contextvars.ContextVar[_Welcome | None] = contextvars.ContextVar(
    "guyub_discord_welcome", default=None
)


class DiscordAdapter(Adapter):
    """Discord through discord.py. Build it with :func:`adapters.discord.create`."""

    platform = PLATFORM
    command_style = CommandStyle.GROUPED
    capabilities = frozenset(
        {
            Capability.NATIVE_POLLS,
            Capability.MODALS,
            Capability.DM_WITHOUT_START,
            Capability.SCHEDULED_EVENTS,
            Capability.EDIT_MESSAGES,
            Capability.DELETE_MESSAGES,
            Capability.BUTTONS,
            Capability.FILES,
            Capability.KICK,
            Capability.BAN,
            Capability.MUTE,
            Capability.ROLES,
        }
    )

    def __init__(self, settings: Settings, *, defer_after: float | None = 2.0) -> None:
        self.settings = settings.discord
        self.defer_after = defer_after
        #: Interactions not answered yet, in the order they came: (loop time, exchange, context).
        self._waiting: dict[int, tuple[float, _Exchange, contextvars.Context]] = {}
        self._sweep: asyncio.TimerHandle | None = None
        options: dict[str, Any] = {
            "intents": build_intents(self.settings.message_content),
            "allowed_mentions": NO_PINGS,
            # Guyub keeps no history of its own; a small cache serves replies and poll counts.
            "max_messages": 1000,
            # A 5xx answer to a message create is not retried (it may have been posted).
            "http_trace": send_trace(),
        }
        self.client: GuyubClient | GuyubShardedClient
        if self.settings.shard_count is not None or self.settings.shard_ids is not None:
            self.client = GuyubShardedClient(
                self,
                shard_count=self.settings.shard_count,
                shard_ids=self.settings.shard_ids,
                **options,
            )
        else:
            self.client = GuyubClient(self, **options)
        self.app: App | None = None
        self.scope = GuildScope(self.settings.guild_ids)
        self._registered: list[Command] | None = None
        self._commands: CommandSet | None = None
        self._vote_locks: dict[str, tuple[asyncio.Lock, int]] = {}

    # --- lifecycle -------------------------------------------------------------------

    def bind(self, app: App) -> None:
        """Attach the App whose ``dispatch`` receives this adapter's events."""
        self.app = app
        app.translator.add(load_texts("adapters.discord"), owner="discord")

    async def run(self, app: App) -> None:
        self.bind(app)
        token = self.settings.token
        if token is None:
            raise RuntimeError("discord.token is not set (GUYUB_DISCORD__TOKEN)")
        async with self.client:
            try:
                await self.client.start(token.get_secret_value())
            except discord.PrivilegedIntentsRequired:
                log.error(_INTENTS_HELP)
            except discord.LoginFailure:
                log.error("Discord rejected the token (GUYUB_DISCORD__TOKEN); adapter stopped")

    async def register_commands(self, commands: Sequence[Command]) -> None:
        # The application id is only known after login: the sync itself runs in setup_hook.
        self._registered = list(commands)

    def command_set(self) -> CommandSet:
        app = self._require_app()
        if self._commands is None:
            commands = self._registered
            if commands is None:
                commands = app.visible_commands()
            self._commands = build_command_set(commands, app.translator)
        return self._commands

    def command_name(self, command: str, lang: str | None = None) -> str | None:
        """How the core command ``command`` is typed on Discord by a ``lang`` client
        (``event_new`` → ``/acara baru`` or ``/event new``); None if it isn't synced."""
        return self.command_set().spell(command, lang)

    async def sync_commands(self) -> bool:
        """Make Discord's application commands match this command set: per guild in
        ``guild_ids`` (and none globally), else globally. What Discord has is fetched and
        compared, so commands deleted in Discord, or overwritten by another deployment with
        the same application, are repaired; an unchanged set costs one read per scope.
        Guilds that had commands from an earlier ``guild_ids`` are emptied. True if
        anything was written."""
        commands = self.command_set()
        application_id = self.client.application_id
        if application_id is None:
            log.warning("Discord: no application id yet; commands not synced")
            return False
        guilds = list(dict.fromkeys(self.settings.guild_ids))
        wanted: dict[int | None, list[dict[str, Any]]] = {}
        if guilds:
            # Guild commands don't exist in DMs: what runs in DMs (/profile, /forgetme...)
            # is also global, for DMs only, so nobody sees a command twice in a server.
            wanted[None] = _only_in(commands.payload, _IN_DMS)
            for guild_id in guilds:
                wanted[guild_id] = _only_in(commands.payload, _IN_GUILDS)
        else:
            wanted[None] = commands.payload
        key = f"discord:commands:{application_id}:guilds"
        earlier = json.loads(await get_value(key) or "[]")
        for guild_id in earlier:
            if isinstance(guild_id, int) and guild_id not in wanted:
                wanted[guild_id] = []  # no longer listed: remove its commands
        synced = False
        for scope, payload in wanted.items():
            synced = await self._sync_scope(application_id, scope, payload) or synced
        await set_value(key, json.dumps(guilds))
        return synced

    async def _sync_scope(
        self, application_id: int, guild_id: int | None, payload: list[dict[str, Any]]
    ) -> bool:
        where = str(guild_id) if guild_id is not None else "global"
        http = self.client.http
        try:
            if guild_id is None:
                present = await http.get_global_commands(application_id)
            else:
                present = await http.get_guild_commands(application_id, guild_id)
        except discord.Forbidden:
            log.warning("Discord: no access to the commands of guild %s (left it?)", where)
            return False
        except discord.HTTPException:
            log.exception("Discord: reading the commands of %s failed", where)
            present = None
        if present is not None and same_commands(present, payload):
            return False
        try:
            if guild_id is None:
                await http.bulk_upsert_global_commands(application_id, payload)
            else:
                await http.bulk_upsert_guild_commands(application_id, guild_id, payload)
        except discord.HTTPException:
            log.exception("Discord: syncing commands to %s failed", where)
            return False
        log.info(
            "Discord: synced %d commands to %s",
            len(payload),
            where if guild_id is not None or not payload else "all guilds (may take an hour)",
        )
        return True

    def _require_app(self) -> App:
        if self.app is None:
            raise RuntimeError("DiscordAdapter.bind(app) was not called")
        return self.app

    async def _dispatch(self, event: Event) -> None:
        await self._require_app().dispatch(event, self)

    # --- inbound ---------------------------------------------------------------------

    async def on_message(self, message: discord.Message) -> None:
        """Messages in channels, threads and DMs; ``/name args`` typed as text is a command."""
        if message.author.bot or message.webhook_id is not None:
            return
        if message.type not in (discord.MessageType.default, discord.MessageType.reply):
            return
        if message.guild is not None and not await self._serves(message.guild):
            return
        chat = chat_of(message.channel, guild_id=message.guild.id if message.guild else None)
        app = self._require_app()
        # The lean path: plain chatter in a guild where the core would only mark the sender
        # active costs no event (a leading "/" may be a typed command: full path).
        if (
            not chat.is_dm
            and not message.content.lstrip().startswith("/")
            and app.chatter_is_quiet(chat.key)
        ):
            app.mark_active(PLATFORM, str(message.author.id))
            return
        sender = sender_of(message.author)
        ref = message_ref(chat, message.id)
        reply_to: MessageRef | None = None
        reply_to_user: Sender | None = None
        if message.reference is not None and message.reference.message_id is not None:
            reply_to = message_ref(chat, message.reference.message_id)
            resolved = message.reference.resolved
            if isinstance(resolved, discord.Message):
                reply_to_user = sender_of(resolved.author)
        event: Event
        text = message.content
        parsed = parse_command_line(text) if text.lstrip().startswith("/") else None
        if parsed is not None and (chat.is_dm or app.commands.get(parsed[0]) is not None):
            event = CommandInvoked(
                user=sender,
                chat=chat,
                at=message.created_at,
                name=parsed[0],
                args=parsed[1],
                message=ref,
                reply_to=reply_to,
                reply_to_user=reply_to_user,
            )
        else:
            event = MessageReceived(
                user=sender,
                chat=chat,
                at=message.created_at,
                text=message.content,
                message=ref,
                reply_to=reply_to,
                reply_to_user=reply_to_user,
            )
        await self._dispatch(event)

    def welcome_chat(self, guild: discord.Guild) -> ChatRef | None:
        """Where a guild's joins and leaves are told: its channel in
        ``discord.welcome_channel_ids``, its system channel, else the first text channel
        the bot may write in."""
        chosen = (guild.get_channel(i) for i in self.settings.welcome_channel_ids)
        channel: discord.TextChannel | None = next(
            (c for c in chosen if isinstance(c, discord.TextChannel)), None
        )
        channel = channel or guild.system_channel
        if channel is None:
            me = guild.me
            channel = next(
                (c for c in guild.text_channels if me and c.permissions_for(me).send_messages),
                None,
            )
        if channel is None:
            return None
        return ChatRef(PLATFORM, str(channel.id), ChatKind.GROUP, title=channel.name)

    async def on_member_join(self, member: discord.Member) -> None:
        if member.bot:
            return
        self.scope.member_joined(member.guild.id)  # maybe an admin: ask again
        if member.pending or not await self._serves(member.guild):
            return  # welcomed once they pass the server's membership screening
        await self._joined(member)

    async def on_member_update(self, before: discord.Member, after: discord.Member) -> None:
        joined = before.pending and not after.pending and not after.bot
        if joined and await self._serves(after.guild):
            await self._joined(after)

    async def _serves(self, guild: discord.Guild) -> bool:
        return await self.scope.serves(self._require_app(), guild)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        """Added to a guild: one polite line and leave when the bot does not serve it."""
        if await self._serves(guild):
            log.info("Discord: added to guild %s (%s)", guild.id, guild.name)
            return
        log.warning("Discord: added to guild %s, which it does not serve", guild.id)
        if not self.settings.leave_other_guilds:
            return
        chat = self.welcome_chat(guild)
        app = self._require_app()
        if chat is not None:
            lang = str(guild.preferred_locale)
            try:
                await app.send(chat, Message.of(app.translator("discord.guild_refused", lang)))
            except DeliveryError:
                log.info("Discord: could not say goodbye in guild %s", guild.id)
        try:
            await guild.leave()
        except discord.HTTPException:
            log.exception("Discord: leaving guild %s failed", guild.id)

    async def check_guilds(self) -> None:
        """At start: name the guilds the bot is in but does not serve (it stays, silent)."""
        for guild in list(self.client.guilds):
            if not await self._serves(guild):
                log.warning(
                    "Discord: in guild %s (%s), which is not served (discord.guild_ids, "
                    "or no Guyub admin is a member); everything there is ignored",
                    guild.id,
                    guild.name,
                )

    async def _joined(self, member: discord.Member) -> None:
        chat = self.welcome_chat(member.guild)
        if chat is None:
            log.warning(
                "Discord: %s joined guild %s, which has no channel the bot can use",
                member.id,
                member.guild.id,
            )
            return
        token = _WELCOME.set(_Welcome(chat, member.id))
        try:
            await self._dispatch(
                MemberJoined(user=sender_of(member), chat=chat, at=member.joined_at)
            )
        finally:
            _WELCOME.reset(token)

    async def on_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        if payload.user.bot:
            return
        guild = self.client.get_guild(payload.guild_id)
        if guild is None or not await self._serves(guild):
            return
        chat = self.welcome_chat(guild)
        if chat is not None:
            await self._dispatch(MemberLeft(user=sender_of(payload.user), chat=chat))
        if payload.user.id in await self.scope.admin_ids(self._require_app()):
            self.scope.member_left(guild.id)  # maybe the last admin: ask again

    async def on_event_interest(
        self, event: discord.ScheduledEvent, user: discord.User, *, interested: bool
    ) -> None:
        """Discord's "Interested" on a guild scheduled event."""
        if user.bot or event.guild is None or not await self._serves(event.guild):
            return
        chat = self.welcome_chat(event.guild)
        if chat is None:
            return
        await self._dispatch(
            ScheduledEventInterest(
                user=sender_of(user), chat=chat, event_id=str(event.id), interested=interested
            )
        )

    async def on_event_cancelled(self, event: discord.ScheduledEvent) -> None:
        """An event in the guild's Events list was cancelled or deleted in Discord."""
        if event.guild is None or not await self._serves(event.guild):
            return
        app = self._require_app()
        await app.plugins.calendar_event_cancelled(app, PLATFORM, str(event.id))

    async def _user(self, user_id: int, guild_id: int | None) -> discord.abc.User:
        guild = self.client.get_guild(guild_id) if guild_id else None
        found = (guild.get_member(user_id) if guild else None) or self.client.get_user(user_id)
        return found if found is not None else await self.client.fetch_user(user_id)

    async def on_poll_vote(self, payload: discord.RawPollVoteActionEvent, *, added: bool) -> None:
        """One answer added or removed; the core gets the member's whole current choice.

        Discord reports answers one at a time (1-based); the current choice is kept in the
        database (core state) so a restart or another worker sees the same selection."""
        if payload.user_id == (self.client.user.id if self.client.user else None):
            return
        if not await self.scope.serves_id(self._require_app(), self.client, payload.guild_id):
            return
        key = f"discord:poll:{payload.message_id}:{payload.user_id}"
        # Two quick clicks arrive as two concurrent events: read-modify-write one at a time.
        # (A poll's guild lives on one shard, so one process sees all of a member's votes.)
        lock, waiting = self._vote_locks.get(key, (asyncio.Lock(), 0))
        self._vote_locks[key] = (lock, waiting + 1)
        try:
            async with lock:
                stored = await get_value(key)
                chosen = set(json.loads(stored)) if stored else set()
                index = payload.answer_id - 1
                if added:
                    chosen.add(index)
                else:
                    chosen.discard(index)
                await set_value(key, json.dumps(sorted(chosen)))
        finally:
            lock, waiting = self._vote_locks[key]
            if waiting <= 1:
                del self._vote_locks[key]
            else:
                self._vote_locks[key] = (lock, waiting - 1)
        channel = self.client.get_channel(payload.channel_id)
        chat = (
            chat_of(channel)
            if channel is not None
            else ChatRef(
                PLATFORM,
                str(payload.channel_id),
                ChatKind.GROUP if payload.guild_id else ChatKind.DM,
            )
        )
        user = await self._user(payload.user_id, payload.guild_id)
        await self._dispatch(
            PollAnswered(
                user=sender_of(user),
                chat=chat,
                poll_id=str(payload.message_id),
                options=tuple(sorted(chosen)),
            )
        )

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Slash commands, autocomplete and button presses, on any message ever sent (the
        button's key is in its custom_id, so old messages work after a restart)."""
        kind = interaction.type
        if interaction.guild_id is not None and not await self.scope.serves_id(
            self._require_app(), self.client, interaction.guild_id
        ):
            await self._refuse(interaction)
            return
        if kind is discord.InteractionType.application_command:
            if dict(interaction.data or {}).get("type") == _MESSAGE_MENU:
                await self._menu(interaction)
            else:
                await self._slash(interaction)
        elif kind is discord.InteractionType.autocomplete:
            await self._autocomplete(interaction)
        elif kind in (discord.InteractionType.component, discord.InteractionType.modal_submit):
            data: dict[str, Any] = dict(interaction.data or {})
            custom_id = str(data.get("custom_id", ""))
            if custom_id.startswith(BUTTON_PREFIX):
                await self._button(interaction, custom_id[len(BUTTON_PREFIX) :])
            elif custom_id.startswith(FORM_PREFIX):
                answers = form_answers(data.get("components") or [])
                await self._button(interaction, custom_id[len(FORM_PREFIX) :], answers)
            elif custom_id.startswith(MENU_PREFIX):
                await self._menu_form(interaction, custom_id[len(MENU_PREFIX) :], data)

    async def _refuse(self, interaction: discord.Interaction) -> None:
        """An interaction in a guild the bot does not serve: one line, nothing stored."""
        try:
            if interaction.type is discord.InteractionType.autocomplete:
                await interaction.response.autocomplete([])
                return
            text = self._require_app().translator("discord.not_served", str(interaction.locale))
            await interaction.response.send_message(
                to_markdown(text), ephemeral=True, allowed_mentions=NO_PINGS
            )
        except discord.HTTPException:
            log.warning("Discord: could not answer an interaction in an unserved guild")

    def _interaction_chat(self, interaction: discord.Interaction) -> ChatRef:
        channel = interaction.channel
        if channel is None:
            kind = ChatKind.DM if interaction.guild_id is None else ChatKind.GROUP
            return ChatRef(PLATFORM, str(interaction.channel_id), kind)
        return chat_of(channel, guild_id=interaction.guild_id)

    async def _slash(self, interaction: discord.Interaction) -> None:
        data: dict[str, Any] = dict(interaction.data or {})
        call = read_invocation(self.command_set(), data)
        chat = self._interaction_chat(interaction)
        sender = sender_of(interaction.user, interaction.locale)
        if call is None:
            # Synced before a plugin was removed: the core answers "unknown command" with a
            # suggestion, in the member's language.
            event = CommandInvoked(
                user=sender, chat=chat, at=interaction.created_at, name=str(data.get("name", ""))
            )
            await self._answer(_Exchange(interaction, chat, "command", private=True), event)
            return
        event = CommandInvoked(
            user=sender,
            chat=chat,
            at=interaction.created_at,
            name=call.command.name,
            args=" ".join(
                str(v.ref) if isinstance(v, Sender) else str(v) for v in call.options.values()
            ),
            options=call.options,
        )
        exchange = _Exchange(interaction, chat, "command", private=call.command.private)
        await self._answer(exchange, event)

    async def _menu(self, interaction: discord.Interaction) -> None:
        """A message context-menu command ("Apps" > "Warn" on a message): the core command
        acting on the message's author; its other options are asked in a modal first."""
        data: dict[str, Any] = dict(interaction.data or {})
        command = self.command_set().menus.get(str(data.get("name", "")))
        target = str(data.get("target_id", ""))
        messages = (data.get("resolved") or {}).get("messages") or {}
        author = (messages.get(target) or {}).get("author") or {}
        author_id = str(author.get("id", ""))
        if command is None or not author_id.isdigit() or not target.isdigit():
            await self._refuse_unknown(interaction, str(data.get("name", "")))
            return
        asked = [p for p in command.params if p.type is not ParamType.USER][:5]
        if not asked:
            await self._run_menu(interaction, command, author_id, target, {})
            return
        translator = self._require_app().translator
        lang = str(interaction.locale)
        fields = tuple(
            FormField(
                p.name,
                to_plain(translator(p.description, lang)) if p.description else p.name,
                long=p.type is ParamType.TEXT,
                required=p.required,
                max_length=300,
            )
            for p in asked
        )
        form = Form(str(data.get("name", command.name)), fields, action="")
        modal = build_modal(form, "", custom_id=f"{MENU_PREFIX}{command.name}:{author_id}:{target}")
        try:
            await interaction.response.send_modal(modal)
        except discord.HTTPException:
            log.warning("Discord: could not show the form of /%s", command.name, exc_info=True)

    async def _menu_form(
        self, interaction: discord.Interaction, rest: str, data: dict[str, Any]
    ) -> None:
        name, _, ids = rest.partition(":")
        author_id, _, target = ids.partition(":")
        command = self._require_app().commands.get(name)
        if command is None or not author_id.isdigit() or not target.isdigit():
            await self._refuse_unknown(interaction, name)
            return
        answers = form_answers(data.get("components") or [])
        options = {k: v for k, v in answers.items() if v.strip()}
        await self._run_menu(interaction, command, author_id, target, options)

    async def _run_menu(
        self,
        interaction: discord.Interaction,
        command: Command,
        author_id: str,
        target: str,
        options: dict[str, Any],
    ) -> None:
        chat = self._interaction_chat(interaction)
        author = await self._user(int(author_id), interaction.guild_id)
        event = CommandInvoked(
            user=sender_of(interaction.user, interaction.locale),
            chat=chat,
            at=interaction.created_at,
            name=command.name,
            args=" ".join(str(v) for v in options.values()),
            options=options,
            reply_to=message_ref(chat, int(target)),
            reply_to_user=sender_of(author),
        )
        await self._answer(_Exchange(interaction, chat, "command", private=command.private), event)

    async def _refuse_unknown(self, interaction: discord.Interaction, name: str) -> None:
        """A command Discord still shows but Guyub no longer has: the core says so."""
        chat = self._interaction_chat(interaction)
        event = CommandInvoked(
            user=sender_of(interaction.user, interaction.locale),
            chat=chat,
            at=interaction.created_at,
            name=name.lower().replace(" ", "_")[:64] or "?",
        )
        await self._answer(_Exchange(interaction, chat, "command", private=True), event)

    async def _button(
        self, interaction: discord.Interaction, key: str, form: dict[str, str] | None = None
    ) -> None:
        chat = self._interaction_chat(interaction)
        message = message_ref(chat, interaction.message.id) if interaction.message else None
        event = ButtonPressed(
            user=sender_of(interaction.user, interaction.locale),
            chat=chat,
            at=interaction.created_at,
            key=key,
            message=message,
            form=form,
        )
        # A form opened by a slash command has no message to update: answer it as a command.
        kind = "component" if interaction.message is not None else "command"
        await self._answer(_Exchange(interaction, chat, kind), event)

    async def _autocomplete(self, interaction: discord.Interaction) -> None:
        app = self._require_app()
        call = read_invocation(self.command_set(), dict(interaction.data or {}))
        choices: list[discord.app_commands.Choice[str]] = []
        if call is not None and call.focused is not None:
            name, text = call.focused
            param = next((p for p in call.command.params if p.name == name), None)
            if param is not None and param.autocomplete:
                ctx = Context(app, adapter=self)
                ctx.account = await app.identity.account_for(user_ref(interaction.user.id))
                if ctx.account is None:
                    ctx.lang = str(interaction.locale)
                try:
                    found = await app.plugins.resolve_completions(param.autocomplete, text, ctx)
                except Exception:
                    log.exception("completions for %r failed", param.autocomplete)
                    found = []
                choices = [
                    discord.app_commands.Choice(name=label[:100] or value[:100], value=value[:100])
                    for label, value in found[:25]
                ]
        await interaction.response.autocomplete(choices)

    async def _answer(self, exchange: _Exchange, event: Event) -> None:
        token = _EXCHANGE.set(exchange)
        if self.defer_after is not None:
            if self.defer_after <= 0:
                await self._defer(exchange)
            else:
                self._watch(exchange)
        try:
            await self._dispatch(event)
        finally:
            _EXCHANGE.reset(token)
            self._waiting.pop(id(exchange), None)
            if exchange.deferring is not None:
                # A deferral under way finishes first (its failure is logged in _defer).
                with contextlib.suppress(Exception):
                    await exchange.deferring
            await self._finish(exchange)

    def _watch(self, exchange: _Exchange) -> None:
        """Defer ``exchange`` if it is still unanswered ``defer_after`` seconds from now.
        One timer for all of them (they start in order), not a task or a timer each: most
        answers go out long before it rings."""
        loop = asyncio.get_running_loop()
        # The deferral runs in the interaction's own context (its update's log id; the
        # webhook adapter discord.py answers through).
        self._waiting[id(exchange)] = (loop.time(), exchange, contextvars.copy_context())
        if self._sweep is None:
            assert self.defer_after is not None
            # The timer's own empty context: not the first interaction's.
            self._sweep = loop.call_later(
                self.defer_after, self._defer_slow, context=contextvars.Context()
            )

    def _defer_slow(self) -> None:
        """Show "thinking..." (Discord waits 3 s at most) for every interaction unanswered
        for ``defer_after`` seconds; ring again when the next one falls due."""
        self._sweep = None
        if self.defer_after is None:
            return
        loop = asyncio.get_running_loop()
        due = loop.time() - self.defer_after
        for key, (started, exchange, context) in list(self._waiting.items()):
            if started > due:
                self._sweep = loop.call_later(
                    started - due, self._defer_slow, context=contextvars.Context()
                )
                return
            del self._waiting[key]
            exchange.deferring = loop.create_task(self._defer(exchange), context=context)

    async def _defer(self, exchange: _Exchange) -> None:
        async with exchange.lock:
            response = exchange.interaction.response
            if response.is_done():
                return
            try:
                if exchange.kind == "command":
                    await response.defer(ephemeral=exchange.private, thinking=True)
                else:
                    await response.defer()
            except discord.HTTPException:
                log.warning("Discord: could not defer an interaction", exc_info=True)
                return
            exchange.deferred = True

    async def _finish(self, exchange: _Exchange) -> None:
        """Acknowledge an interaction the core answered elsewhere (or not at all), so the
        member never sees "The application did not respond"."""
        async with exchange.lock:
            interaction = exchange.interaction
            try:
                if not interaction.response.is_done():
                    if exchange.kind == "component":
                        await interaction.response.defer()
                        return
                    await interaction.response.defer(ephemeral=True, thinking=True)
                    exchange.deferred = True
                if exchange.kind == "command" and exchange.deferred and not exchange.original_used:
                    await interaction.delete_original_response()
            except discord.HTTPException:
                log.warning("Discord: could not close an interaction", exc_info=True)

    # --- outbound --------------------------------------------------------------------

    def answers_in_place(self, chat: ChatRef) -> bool:
        """A send to the chat of the interaction in hand goes through its response or
        follow-ups (the interaction's own webhook): Discord counts it against neither the
        channel's message limit nor the bot's global rate limit."""
        exchange = _EXCHANGE.get()
        return exchange is not None and exchange.chat == chat

    async def send(
        self, chat: ChatRef, message: Outgoing, *, reply_to: MessageRef | None = None
    ) -> MessageRef:
        exchange = _EXCHANGE.get()
        if exchange is not None and exchange.chat == chat:
            return await self._respond(exchange, message, ephemeral=exchange.private)
        channel = self.client.get_partial_messageable(
            int(chat.thread or chat.id), type=_channel_type(chat)
        )
        welcome = _WELCOME.get()
        if welcome is not None and not welcome.done and welcome.chat == chat:
            welcome.done = True
            return await self._post(channel, chat, message, reply_to, mention=welcome.user_id)
        return await self._post(channel, chat, message, reply_to)

    async def _post(
        self,
        channel: discord.abc.Messageable,
        chat: ChatRef,
        message: Outgoing,
        reply_to: MessageRef | None = None,
        *,
        mention: int | None = None,
    ) -> MessageRef:
        last: discord.Message | None = None
        try:
            for number, piece in enumerate(message_pieces(message)):
                if number == 0 and mention is not None:
                    # The newcomer is named (and notified); nobody else is pinged.
                    piece["content"] = f"<@{mention}> {piece.get('content') or ''}".strip()
                    piece["allowed_mentions"] = discord.AllowedMentions(
                        everyone=False,
                        users=[discord.Object(mention)],
                        roles=False,
                        replied_user=False,
                    )
                if number == 0 and reply_to is not None:
                    piece["reference"] = discord.MessageReference(
                        message_id=int(reply_to.id),
                        channel_id=int(reply_to.chat.thread or reply_to.chat.id),
                        fail_if_not_exists=False,
                    )
                last = await channel.send(**piece)
        except discord.Forbidden as exc:
            if chat.is_dm:
                raise Unreachable(f"DMs closed: {exc.text}") from exc
            raise DeliveryError(f"forbidden in {chat.key}: {exc.text}", permanent=True) from exc
        except discord.NotFound as exc:
            raise DeliveryError(f"unknown channel {chat.key}", permanent=True) from exc
        except discord.HTTPException as exc:
            raise DeliveryError(f"Discord error {exc.status}: {exc.text}") from exc
        except (TimeoutError, aiohttp.ClientError, AmbiguousAnswer) as exc:
            raise _uncertain(chat, exc) from exc
        assert last is not None
        return message_ref(chat, last.id, poll=message.poll is not None)

    async def _respond(
        self, exchange: _Exchange, message: Outgoing, *, ephemeral: bool
    ) -> MessageRef:
        """Answer through the interaction: its response first, then follow-ups."""
        interaction = exchange.interaction
        message_id = 0
        async with exchange.lock:
            try:
                for piece in message_pieces(message):
                    if not interaction.response.is_done():
                        callback = await interaction.response.send_message(
                            ephemeral=ephemeral, **piece
                        )
                        exchange.original_used = True
                        message_id = callback.message_id or 0
                    elif (
                        exchange.kind == "command"
                        and exchange.deferred
                        and not exchange.original_used
                        and ephemeral == exchange.private
                        and "poll" not in piece
                    ):
                        piece.pop("silent", None)
                        files = piece.pop("files", None)
                        if files:
                            piece["attachments"] = files
                        edited = await interaction.edit_original_response(**piece)
                        exchange.original_used = True
                        message_id = edited.id
                    else:
                        sent = await interaction.followup.send(
                            wait=True, ephemeral=ephemeral, **_without_none(piece)
                        )
                        message_id = sent.id
            except discord.HTTPException as exc:
                raise DeliveryError(f"interaction answer failed: {exc.text}") from exc
            except (TimeoutError, aiohttp.ClientError, AmbiguousAnswer) as exc:
                raise _uncertain(exchange.chat, exc) from exc
        return message_ref(exchange.chat, message_id, poll=message.poll is not None)

    async def send_dm(self, user: UserRef, message: Outgoing) -> MessageRef:
        exchange = _EXCHANGE.get()
        if (
            exchange is not None
            and not exchange.chat.is_dm
            and str(exchange.interaction.user.id) == user.id
        ):
            # "Only you can see this" is Discord's private answer; no DM needed.
            return await self._respond(exchange, message, ephemeral=True)
        try:
            target = self.client.get_user(int(user.id)) or await self.client.fetch_user(
                int(user.id)
            )
            channel = target.dm_channel or await target.create_dm()
        except discord.NotFound as exc:
            raise Unreachable(f"unknown Discord user {user.id}") from exc
        except discord.Forbidden as exc:
            raise Unreachable(f"cannot open a DM with {user.id}") from exc
        return await self._post(channel, chat_of(channel), message)

    async def end_poll(self, ref: MessageRef) -> None:
        channel = self.client.get_partial_messageable(
            int(ref.chat.thread or ref.chat.id), type=_channel_type(ref.chat)
        )
        try:
            await channel.get_partial_message(int(ref.id)).end_poll()
        except discord.NotFound as exc:
            raise DeliveryError(f"message {ref.id} is gone", permanent=True) from exc
        except discord.Forbidden as exc:
            raise NotSupported(f"end_poll in {ref.chat.key}") from exc
        except discord.HTTPException as exc:
            raise DeliveryError(f"Discord error {exc.status}: {exc.text}") from exc

    def _current_edit(self, ref: MessageRef) -> _Exchange | None:
        exchange = _EXCHANGE.get()
        if (
            exchange is not None
            and exchange.kind == "component"
            and exchange.interaction.message is not None
            and str(exchange.interaction.message.id) == ref.id
        ):
            return exchange
        return None

    async def edit(self, ref: MessageRef, message: Outgoing) -> None:
        text = to_markdown(message.text)
        chunks = split_text(text)
        content = chunks[0] if chunks else "\u200b"
        if len(chunks) > 1:
            log.warning("Discord: an edit longer than 2,000 characters was cut")
        view = build_view(message.buttons)
        kwargs: dict[str, Any] = {
            "content": content,
            "view": view,
            "allowed_mentions": NO_PINGS,
        }
        exchange = self._current_edit(ref)
        try:
            if exchange is not None:
                async with exchange.lock:
                    if not exchange.interaction.response.is_done():
                        await exchange.interaction.response.edit_message(**kwargs)
                        return
                    await exchange.interaction.edit_original_response(**kwargs)
                    return
            channel = self.client.get_partial_messageable(
                int(ref.chat.thread or ref.chat.id), type=_channel_type(ref.chat)
            )
            await channel.get_partial_message(int(ref.id)).edit(**kwargs)
        except discord.NotFound as exc:
            raise DeliveryError(f"message {ref.id} is gone", permanent=True) from exc
        except discord.Forbidden as exc:
            raise NotSupported(f"edit in {ref.chat.key}") from exc
        except discord.HTTPException as exc:
            raise DeliveryError(f"Discord error {exc.status}: {exc.text}") from exc

    async def close_buttons(self, ref: MessageRef) -> None:
        """Disable a spent message's buttons. The message a member just pressed is updated
        as the press's own answer when nothing else answered it; any other is read and
        edited. An ephemeral message can't be reached this way: it is left as it is (a
        press on it is answered "already done")."""
        exchange = self._current_edit(ref)
        if exchange is not None and exchange.interaction.message is not None:
            view = disabled_view(exchange.interaction.message)
            if view is None:
                return
            async with exchange.lock:
                if not exchange.interaction.response.is_done():
                    try:
                        await exchange.interaction.response.edit_message(view=view)
                    except discord.HTTPException as exc:
                        raise DeliveryError(f"Discord error {exc.status}: {exc.text}") from exc
                    return
        channel = self.client.get_partial_messageable(
            int(ref.chat.thread or ref.chat.id), type=_channel_type(ref.chat)
        )
        try:
            message = await channel.fetch_message(int(ref.id))
            view = disabled_view(message)
            if view is not None:
                await message.edit(view=view)
        except discord.NotFound as exc:
            raise DeliveryError(f"message {ref.id} is gone", permanent=True) from exc
        except discord.Forbidden as exc:
            raise NotSupported(f"edit in {ref.chat.key}") from exc
        except discord.HTTPException as exc:
            raise DeliveryError(f"Discord error {exc.status}: {exc.text}") from exc

    async def delete(self, ref: MessageRef) -> None:
        channel = self.client.get_partial_messageable(
            int(ref.chat.thread or ref.chat.id), type=_channel_type(ref.chat)
        )
        try:
            await channel.get_partial_message(int(ref.id)).delete()
        except discord.NotFound:
            return
        except discord.Forbidden as exc:
            raise NotSupported(f"delete in {ref.chat.key}") from exc

    async def show_form(self, form: Form, key: str) -> None:
        """A modal, as the answer to the interaction being handled (Discord allows a modal
        only as the first answer to a command or a button press)."""
        exchange = _EXCHANGE.get()
        if exchange is None:
            raise NotSupported("modals outside an interaction")
        async with exchange.lock:
            if exchange.interaction.response.is_done():
                raise NotSupported("modals after the interaction was answered")
            try:
                await exchange.interaction.response.send_modal(build_modal(form, key))
            except discord.HTTPException as exc:
                raise DeliveryError(f"modal failed: {exc.text}") from exc

    async def open_dm(self, user: UserRef) -> ChatRef:
        """The DM channel with ``user`` (Discord opens it without a message)."""
        try:
            target = self.client.get_user(int(user.id)) or await self.client.fetch_user(
                int(user.id)
            )
            channel = target.dm_channel or await target.create_dm()
        except discord.NotFound as exc:
            raise Unreachable(f"unknown Discord user {user.id}") from exc
        except discord.HTTPException as exc:
            raise Unreachable(f"cannot open a DM with {user.id}") from exc
        return chat_of(channel)

    def mod_log_chat(self, chat: ChatRef) -> ChatRef | None:
        """The channel of ``discord.mod_log_channel_ids`` in ``chat``'s guild."""
        if chat.is_dm or not self.settings.mod_log_channel_ids:
            return None
        channel = self.client.get_channel(int(chat.id))
        guild = getattr(channel, "guild", None)
        if not isinstance(guild, discord.Guild):
            return None
        for channel_id in self.settings.mod_log_channel_ids:
            found = guild.get_channel(channel_id)
            if isinstance(found, discord.TextChannel):
                return ChatRef(PLATFORM, str(found.id), ChatKind.GROUP, title=found.name)
        return None

    def dm_link(self, payload: str = "") -> str | None:
        """The bot's profile, where "Send Message" opens a DM. Discord links carry no
        payload, so with one there is no link: the bot opens the DM itself
        (:meth:`open_dm`), e.g. from the welcome's registration button."""
        if payload:
            return None
        user = self.client.user
        return f"https://discord.com/users/{user.id}" if user is not None else None

    def health(self) -> str | None:
        if self.client.is_closed() or not self.client.is_ready():
            return "not connected to the Discord gateway"
        return None

    def rate_limits(self) -> RateLimits:
        # REST limits come from Discord's headers and discord.py waits on them; what it
        # can't know is that bulk DMs get a bot flagged as spam, so DMs go slowly.
        return RateLimits(
            overall_per_second=25.0,
            per_chat_per_second=1.0,
            per_group_per_minute=30.0,
            dm_per_second=0.5,
        )

    # --- guild administration (adapters.discord._guild) -----------------------------

    async def kick(self, chat: ChatRef, user: UserRef) -> None:
        await _guild.kick(self.client, chat, user)

    async def ban(self, chat: ChatRef, user: UserRef) -> None:
        await _guild.ban(self.client, chat, user)

    async def mute(self, chat: ChatRef, user: UserRef, until: datetime | None) -> None:
        """A Discord timeout; "until further notice" is Discord's longest, 28 days."""
        await _guild.timeout(self.client, chat, user, until, indefinitely=until is None)

    async def unmute(self, chat: ChatRef, user: UserRef) -> None:
        await _guild.timeout(self.client, chat, user, None)

    async def is_chat_admin(self, chat: ChatRef, user: UserRef) -> bool:
        """Whether ``user`` administers the channel ``chat`` on Discord (see
        :func:`adapters.discord._guild.is_channel_admin`)."""
        if chat.is_dm:
            return False
        return await _guild.is_channel_admin(self.client, chat, user)

    async def add_role(self, chat: ChatRef, user: UserRef, role: str) -> None:
        await _guild.set_role(self.client, chat, user, role, give=True)

    async def remove_role(self, chat: ChatRef, user: UserRef, role: str) -> None:
        await _guild.set_role(self.client, chat, user, role, give=False)

    async def create_scheduled_event(self, chat: ChatRef, event: ScheduledEvent) -> str:
        return await _guild.create_event(self.client, chat, event)

    async def update_scheduled_event(
        self, chat: ChatRef, event_id: str, event: ScheduledEvent
    ) -> None:
        await _guild.update_event(self.client, chat, event_id, event)

    async def cancel_scheduled_event(self, chat: ChatRef, event_id: str) -> None:
        await _guild.cancel_event(self.client, chat, event_id)


#: Discord interaction contexts.
_IN_GUILDS, _IN_DMS = 0, 1


def _only_in(payload: list[dict[str, Any]], context: int) -> list[dict[str, Any]]:
    """The commands usable in ``context``, restricted to it."""
    return [
        {**entry, "contexts": [context]}
        for entry in payload
        if context in (entry.get("contexts") or [_IN_GUILDS, _IN_DMS])
    ]


def _channel_type(chat: ChatRef) -> discord.ChannelType | None:
    return discord.ChannelType.private if chat.is_dm else None


def _without_none(piece: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in piece.items() if v is not None}


def _uncertain(chat: ChatRef, exc: BaseException) -> DeliveryError:
    """A send that failed on the way: unknown if Discord may have acted on it, a plain
    (retryable) failure if the connection was never made."""
    if unknown_outcome(exc):
        return DeliveryUnknown(f"{chat.key}: {type(exc).__name__}: {exc}")
    return DeliveryError(f"{chat.key}: {type(exc).__name__}: {exc}", permanent=not never_sent(exc))
