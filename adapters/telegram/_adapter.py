"""The Telegram adapter: python-telegram-bot 22 started and stopped by hand inside the App's
TaskGroup, updates turned into core events, core messages into Bot API calls."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from aiohttp.web import AbstractRouteDef
from telegram import (
    ChatMember,
    ChatMemberUpdated,
    ChatPermissions,
    InputFile,
    MenuButtonCommands,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application, ApplicationBuilder, TypeHandler
from telegram.request import HTTPXRequest

from adapters.telegram._calls import Caller, retry_seconds
from adapters.telegram._convert import (
    PLATFORM,
    BotIdentity,
    chat_key,
    dm_chat,
    lock_key,
    update_events,
)
from adapters.telegram._menu import menus
from adapters.telegram._render import (
    MAX_CAPTION,
    MAX_TEXT,
    html_chunks,
    keyboard,
)
from adapters.telegram._webhook import WebhookServer
from core import (
    Adapter,
    App,
    Attachment,
    AttachmentKind,
    Capability,
    ChatKind,
    ChatRef,
    Command,
    DeliveryError,
    MemberJoined,
    MemberLeft,
    MessageRef,
    NotSupported,
    Outgoing,
    PollAnswered,
    RateLimits,
    Settings,
    Unreachable,
    UserRef,
)
from core import RetryAfter as CoreRetryAfter
from core._logging import secret_filter
from core.state import first_time, get_value, set_value
from core.state.models import SeenUpdate
from core.web import parse_listen

__all__ = ["ALLOWED_UPDATES", "CAPABILITIES", "TelegramAdapter"]

log = logging.getLogger("adapters.telegram")

T = TypeVar("T")

#: Without these in allowed_updates Telegram never sends joins (chat_member), votes or
#: button presses while polling or on a webhook.
ALLOWED_UPDATES = (
    "message",
    "callback_query",
    "chat_member",
    "my_chat_member",
    "poll_answer",
)

CAPABILITIES = frozenset(
    {
        Capability.NATIVE_POLLS,
        Capability.EDIT_MESSAGES,
        Capability.DELETE_MESSAGES,
        Capability.BUTTONS,
        Capability.FILES,
        Capability.KICK,
        Capability.BAN,
        Capability.MUTE,
    }
)

#: Loggers that may print a URL holding the token (``/bot<token>/getMe``).
_TOKEN_LOGGERS = (
    "httpx",
    "httpcore",
    "telegram",
    "telegram.Bot",
    "telegram.ext",
    "telegram.ext.ExtBot",
    "telegram.ext.Application",
    "telegram.ext.Updater",
    "telegram.request.BaseRequest",
    "telegram.request.HTTPXRequest",
    "adapters.telegram",
)

#: Once-only marks: update ids, and membership changes reported twice.
MEMBER_SOURCE = "telegram-member"
SEEN_KEEP = timedelta(days=2)

#: Chat types whose plain messages may take the lean path.
_GROUP_TYPES = frozenset({"group", "supergroup"})
_START_PAYLOAD = re.compile(r"[^A-Za-z0-9_-]")
_MAX_POLL_OPTIONS = 12

TelegramApplication = Application[Any, Any, Any, Any, Any, Any]


class TelegramAdapter(Adapter):
    """Telegram through python-telegram-bot. Long polling by default, or a webhook served by
    aiohttp (``telegram.mode = "webhook"``). Build it without connecting; ``run`` connects."""

    platform = PLATFORM
    capabilities = CAPABILITIES

    def __init__(
        self,
        settings: Settings,
        *,
        caller: Caller | None = None,
        retry_delay: float = 60.0,
        poll_timeout: int = 30,
        read_timeout: float = 15.0,
    ) -> None:
        config = settings.telegram
        if config.token is None:
            raise ValueError("telegram.token is not set (GUYUB_TELEGRAM__TOKEN)")
        token = config.token.get_secret_value()
        _mask(token)
        self.mode = config.mode.strip().lower()
        if self.mode not in ("polling", "webhook"):
            raise ValueError(f"telegram.mode must be 'polling' or 'webhook', not {config.mode!r}")
        self._secret: str | None = None
        if self.mode == "webhook":
            if not config.webhook_url or config.webhook_secret is None:
                raise ValueError(
                    "webhook mode needs telegram.webhook_url and GUYUB_TELEGRAM__WEBHOOK_SECRET"
                )
            self._secret = config.webhook_secret.get_secret_value()
            _mask(self._secret)
            if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", self._secret):
                raise ValueError("the webhook secret may hold only A-Z, a-z, 0-9, _ and -")
        self.webhook_url = config.webhook_url
        self.webhook_listen = config.webhook_listen
        self.webhook_port = config.webhook_port
        self.webhook: WebhookServer | None = None
        # The webhook shares the App's web server when both are to listen on one address.
        web_address = parse_listen(settings.web.listen) if settings.web.listen else None
        self.shares_web = self.mode == "webhook" and web_address == (
            config.webhook_listen,
            config.webhook_port,
        )
        self._mounted = False
        self._shared_webhook: WebhookServer | None = None
        self.language = settings.language
        self.caller = caller or Caller()
        #: First pause before retrying a failed non-essential call (doubles up to an hour).
        self.retry_delay = retry_delay
        self.poll_timeout = poll_timeout
        #: Seconds between two clean-ups of old once-only marks.
        self.forget_every = 3600.0
        self.me = BotIdentity(0, config.bot_username)
        #: Seconds to wait for Telegram's answer; a send unanswered by then is ``unknown``.
        self.read_timeout = read_timeout
        self.application = self._build(token, config.api_base_url)
        self._app: App | None = None
        self._commands: list[Command] = []
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def _build(self, token: str, api_base_url: str) -> TelegramApplication:
        root = api_base_url.rstrip("/")
        builder = (
            ApplicationBuilder()
            .token(token)
            .base_url(f"{root}/bot")
            .base_file_url(f"{root}/file/bot")
            .request(
                HTTPXRequest(
                    connection_pool_size=64,
                    read_timeout=self.read_timeout,
                    write_timeout=15.0,
                    connect_timeout=10.0,
                    pool_timeout=5.0,
                )
            )
            .job_queue(None)
            # Updates of different chats are handled side by side; one chat's in order
            # (see _on_update).
            .concurrent_updates(64)
        )
        if self.mode == "webhook":
            builder = builder.updater(None)
        application: TelegramApplication = builder.build()
        application.add_handler(TypeHandler(Update, self._on_update))
        application.add_error_handler(self._on_error)
        return application

    # --- lifecycle -----------------------------------------------------------------------

    async def run(self, app: App) -> None:
        """Connect, receive updates (polling or webhook) until cancelled, then disconnect."""
        try:
            await self.start(app)
            if self.mode == "webhook":
                await self._serve_webhook()
            else:
                updater = self.application.updater
                assert updater is not None
                await updater.start_polling(
                    allowed_updates=list(ALLOWED_UPDATES),
                    timeout=self.poll_timeout,
                    bootstrap_retries=-1,
                )
                log.info("Telegram: polling as @%s", self.me.username)
            await asyncio.Event().wait()
        finally:
            await self.stop()

    async def start(self, app: App) -> None:
        """Bind to ``app``, say hello to Telegram (getMe, retried until it answers) and start
        handling updates. Menus are registered in the background."""
        self._app = app
        await self._initialize()
        await self.application.start()
        self._spawn("commands", self._push_commands)
        self._tasks["forget"] = asyncio.get_running_loop().create_task(
            self._forget_now_and_then(), name="telegram:forget"
        )

    async def stop_receiving(self) -> None:
        """A graceful stop: no more getUpdates, and the webhook refuses connections (Telegram
        retries them, on another worker behind the load balancer)."""
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.webhook is not None:
            await self.webhook.stop()
            self.webhook = None
        if self._shared_webhook is not None:
            # On the App's web server (still serving the dashboard): refuse with 503.
            self._shared_webhook.accepting = False

    async def stop(self) -> None:
        """Stop receiving, finish the updates in hand and close the HTTP clients."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.webhook is not None:
            await self.webhook.stop()
            self.webhook = None
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    async def _initialize(self) -> None:
        """getMe until it answers: the bot can't tell its own commands apart without it."""
        delay = self.caller.backoff
        while True:
            try:
                await self.application.initialize()
                break
            except InvalidToken:
                log.error("Telegram rejected the bot token (check GUYUB_TELEGRAM__TOKEN)")
                raise
            except (NetworkError, RetryAfter) as exc:
                wait = retry_seconds(exc) if isinstance(exc, RetryAfter) else delay
                log.warning("cannot reach Telegram (%s); retrying in %.1fs", exc, wait)
                await asyncio.sleep(wait)
                delay = min(delay * 2, 60.0)
        bot = self.application.bot
        self.me = BotIdentity(bot.id, bot.username)

    def _webhook_server(self) -> WebhookServer:
        assert self.webhook_url is not None
        assert self._secret is not None
        return WebhookServer(
            path=urlsplit(self.webhook_url).path or "/",
            secret=self._secret,
            deliver=self.deliver_json,
            host=self.webhook_listen,
            port=self.webhook_port,
            # /metrics, /healthz and /readyz beside the webhook, for the load balancer.
            routes=self._app.probe_routes() if self._app is not None else (),
        )

    def web_routes(self) -> Sequence[AbstractRouteDef]:
        """The webhook endpoint, when it shares the App's web server (same address)."""
        if not self.shares_web:
            return ()
        self._mounted = True
        self._shared_webhook = self._webhook_server()
        return [self._shared_webhook.route()]

    async def _serve_webhook(self) -> None:
        shared = self._mounted and self._app is not None and self._app.web.running
        if shared:
            log.info("Telegram webhook served by the App's web server")
        else:
            self.webhook = self._webhook_server()
            await self.webhook.start()
        self._spawn("webhook", self._set_webhook)

    async def _set_webhook(self) -> None:
        assert self.webhook_url is not None
        await self.application.bot.set_webhook(
            self.webhook_url,
            secret_token=self._secret,
            allowed_updates=list(ALLOWED_UPDATES),
        )
        log.info("Telegram: webhook set for @%s", self.me.username)

    async def deliver_json(self, data: dict[str, Any]) -> None:
        """Queue one update received as JSON (the webhook calls this). An update PTB can't
        read is logged and dropped: answering with an error would make Telegram send it
        again and again."""
        try:
            update = Update.de_json(data, self.application.bot)
        except Exception:
            log.exception(
                "dropping Telegram update %s that could not be read", data.get("update_id")
            )
            return
        await self.application.update_queue.put(update)

    def _spawn(self, name: str, call: Callable[[], Awaitable[None]]) -> None:
        """Run a non-essential call in the background, retrying until it succeeds."""
        previous = self._tasks.pop(name, None)
        if previous is not None:
            previous.cancel()
        self._tasks[name] = asyncio.get_running_loop().create_task(
            self._keep_trying(name, call), name=f"telegram:{name}"
        )

    async def _forget_now_and_then(self) -> None:
        while True:
            await asyncio.sleep(self.forget_every)
            try:
                await self.forget_seen()
            except Exception:
                log.warning("could not forget old Telegram update ids", exc_info=True)

    async def forget_seen(self) -> int:
        """Drop once-only marks older than two days (Telegram keeps an undelivered update for
        24 hours, so an older id never comes again); returns how many."""
        cutoff = self._bound().clock.now() - SEEN_KEEP
        deleted: int = await SeenUpdate.filter(
            source__in=(PLATFORM, MEMBER_SOURCE), seen_at__lt=cutoff
        ).delete()
        return deleted

    async def _keep_trying(self, name: str, call: Callable[[], Awaitable[None]]) -> None:
        delay = self.retry_delay
        while True:
            try:
                await call()
                return
            except asyncio.CancelledError:
                raise
            except CoreRetryAfter as exc:
                # Telegram said how long: wait that long for this call, not for anything else.
                wait = max(delay, exc.seconds)
                log.warning("Telegram %s rate limited; retrying in %.0fs", name, wait)
                await asyncio.sleep(wait)
                continue
            except Exception as exc:
                log.warning("Telegram %s failed (%s); retrying in %.0fs", name, exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 3600.0)

    # --- inbound -------------------------------------------------------------------------

    async def _on_update(self, update: object, _context: object) -> None:
        if not isinstance(update, Update):
            return
        if self._quiet_chatter(update):
            return
        key = lock_key(update)
        lock, users = self._locks.get(key) or (asyncio.Lock(), 0)
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                await self.handle_update(update)
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def _quiet_chatter(self, update: Update) -> bool:
        """The lean path: a plain text message in a group where the core would only mark the
        sender active is handled here, with no event, lock or once-only check (a duplicate
        delivery marks the same activity twice)."""
        message = update.message
        app = self._app
        if message is None or app is None or message.chat.type not in _GROUP_TYPES:
            return False
        text, author = message.text, message.from_user
        if not text or text[0] == "/" or author is None or author.is_bot:
            return False
        if message.sender_chat is not None:
            return False
        if not app.chatter_is_quiet(chat_key(message)):
            return False
        app.mark_active(PLATFORM, str(author.id))
        return True

    async def _on_error(self, update: object, context: Any) -> None:
        log.error("error handling a Telegram update", exc_info=context.error)

    async def handle_update(self, update: Update) -> None:
        """Turn one update into core events and dispatch them, once across all workers."""
        app = self._bound()
        if update.my_chat_member is not None:
            _note_own_status(update.my_chat_member)
            return
        events = update_events(update, self.me)
        query = update.callback_query
        if not events and query is None:
            return
        # Behind a load balancer several workers may get the same webhook delivery; only one
        # process can poll getUpdates, whose offset already confirms each update once.
        if self.mode == "webhook" and not await first_time(
            PLATFORM, f"{self.me.id}:{update.update_id}", app.clock.now()
        ):
            log.debug("update %s already handled", update.update_id)
            return
        if query is not None:
            # Answer at once, so the member's client stops its spinner whatever the plugin does.
            try:
                await query.answer()
            except TelegramError as exc:
                log.debug("could not answer callback query: %s", exc)
        for event in events:
            if isinstance(event, MemberJoined | MemberLeft) and not await self._first_change(event):
                continue
            if isinstance(event, PollAnswered):
                event = await self._locate_poll(event)
            await app.dispatch(event, self)

    async def _first_change(self, event: MemberJoined | MemberLeft) -> bool:
        """A join arrives twice when the bot is an admin (the chat_member update and the
        service message). Keys on two offset 20-second grids: two reports less than ten
        seconds apart always share a key on one of them."""
        app = self._bound()
        at = event.at or app.clock.now()
        stamp = int(at.timestamp())
        kind = "join" if isinstance(event, MemberJoined) else "leave"
        base = f"{self.me.id}:{event.chat.id}:{event.user.ref.id}:{kind}"
        for shift in (0, 10):
            if not await first_time(
                "telegram-member", f"{base}:{shift}:{(stamp + shift) // 20}", at
            ):
                return False
        return True

    async def _locate_poll(self, event: PollAnswered) -> PollAnswered:
        """poll_answer names only the poll: put the vote in the chat the poll was shown in
        (``poll_id`` stays Telegram's, as the MessageRef ``send`` returned carries it)."""
        stored = await get_value(_poll_key(event.poll_id))
        if stored is None:
            return event
        where = json.loads(stored)
        chat = ChatRef(
            PLATFORM,
            where["chat"],
            ChatKind(where["kind"]),
            title=where.get("title"),
            thread=where.get("thread"),
        )
        return replace(event, chat=chat)

    def _bound(self) -> App:
        if self._app is None:
            raise RuntimeError("the Telegram adapter is not started")
        return self._app

    # --- commands --------------------------------------------------------------------------

    async def register_commands(self, commands: Sequence[Command]) -> None:
        """Remember the commands; they are sent to Telegram once connected (and again after a
        failure, in the background)."""
        self._commands = list(commands)
        if self._app is not None and self.application.running:
            self._spawn("commands", self._push_commands)

    async def _push_commands(self) -> None:
        app = self._bound()
        bot = self.application.bot
        for entry in menus(self._commands, app.translator, self.language):
            await self.caller(
                "setMyCommands",
                lambda e=entry: bot.set_my_commands(  # type: ignore[misc]
                    list(e.commands), scope=e.scope, language_code=e.language
                ),
                idempotent=True,
            )
        await self.caller(
            "setChatMenuButton",
            lambda: bot.set_chat_menu_button(menu_button=MenuButtonCommands()),
            idempotent=True,
        )
        log.info("Telegram: command menus registered")

    # --- outbound --------------------------------------------------------------------------

    async def send(
        self, chat: ChatRef, message: Outgoing, *, reply_to: MessageRef | None = None
    ) -> MessageRef:
        try:
            return await self._deliver(chat, message, reply_to=reply_to)
        except _ChatMoved as moved:
            # A group upgraded to a supergroup gets a new id; its members are all there.
            log.warning(
                "Telegram group %s is now supergroup %s; sending there (update stored chats)",
                chat.id,
                moved.new_id,
            )
            return await self._deliver(replace(chat, id=moved.new_id), message)

    async def send_dm(self, user: UserRef, message: Outgoing) -> MessageRef:
        """A private message; :class:`core.Unreachable` when the user never started the bot
        or blocked it (permanent: don't retry)."""
        return await self._deliver(dm_chat(user.id), message)

    async def _deliver(
        self, chat: ChatRef, message: Outgoing, *, reply_to: MessageRef | None = None
    ) -> MessageRef:
        bot = self.application.bot
        chat_id = int(chat.id)
        common: dict[str, Any] = {
            "chat_id": chat_id,
            "message_thread_id": int(chat.thread) if chat.thread else None,
            "disable_notification": message.silent,
        }
        markup = keyboard(message.buttons)
        chunks = html_chunks(message.text, MAX_TEXT)
        if not chunks and markup is not None and not message.poll and not message.attachments:
            chunks = html_chunks("⬇️")
        if not chunks and not message.poll and not message.attachments:
            raise DeliveryError("nothing to send", permanent=True)
        reply = (
            ReplyParameters(int(reply_to.id), allow_sending_without_reply=True)
            if reply_to is not None and reply_to.chat.id == chat.id
            else None
        )
        sent: list[Message] = []
        buttons_on_text = not message.poll and not message.attachments
        for i, chunk in enumerate(chunks):
            last = i == len(chunks) - 1
            sent.append(
                await self._call(
                    chat,
                    lambda c=chunk, last=last: bot.send_message(  # type: ignore[misc]
                        text=c,
                        parse_mode=ParseMode.HTML,
                        reply_markup=markup if last and buttons_on_text else None,
                        reply_parameters=reply if not sent else None,
                        **common,
                    ),
                )
            )
        carrier: Message | None = sent[-1] if sent else None
        for i, attachment in enumerate(message.attachments):
            last = i == len(message.attachments) - 1 and not message.poll
            shown = await self._send_attachment(chat, attachment, markup if last else None, common)
            carrier = shown if last or carrier is None else carrier
        if message.poll is not None:
            carrier = await self._send_poll(chat, message, markup, common)
        assert carrier is not None
        poll_id = carrier.poll.id if carrier.poll is not None else None
        return MessageRef(chat, str(carrier.message_id), poll_id=poll_id)

    async def _send_attachment(
        self, chat: ChatRef, attachment: Attachment, markup: Any, common: dict[str, Any]
    ) -> Message:
        """A photo or a document; the caption is plain text (sent without parse mode)."""
        bot = self.application.bot
        caption = attachment.caption[:MAX_CAPTION] or None
        upload = InputFile(attachment.data, filename=attachment.filename)

        async def call() -> Message:
            shown: Message
            if attachment.kind is AttachmentKind.IMAGE:
                shown = await bot.send_photo(
                    photo=upload, caption=caption, reply_markup=markup, **common
                )
            else:
                shown = await bot.send_document(
                    document=upload, caption=caption, reply_markup=markup, **common
                )
            return shown

        return await self._call(chat, call)

    async def _send_poll(
        self,
        chat: ChatRef,
        message: Outgoing,
        markup: Any,
        common: dict[str, Any],
    ) -> Message:
        poll = message.poll
        assert poll is not None
        if not 2 <= len(poll.options) <= _MAX_POLL_OPTIONS:
            raise NotSupported(f"native poll with {len(poll.options)} options")
        bot = self.application.bot
        shown: Message = await self._call(
            chat,
            lambda: bot.send_poll(
                question=poll.question[:300],
                options=[o[:100] for o in poll.options],
                is_anonymous=poll.anonymous,
                allows_multiple_answers=poll.multiple,
                reply_markup=markup,
                **common,
            ),
        )
        if shown.poll is not None:
            # poll_answer updates name only the poll: remember where it was shown.
            where = {
                "chat": chat.id,
                "kind": chat.kind.value,
                "thread": chat.thread,
                "title": chat.title,
            }
            await set_value(_poll_key(shown.poll.id), json.dumps(where))
        return shown

    async def edit(self, ref: MessageRef, message: Outgoing) -> None:
        """Replace a message's text (or caption) and buttons. Text beyond one message is cut."""
        bot = self.application.bot
        markup = keyboard(message.buttons)
        chunks = html_chunks(message.text, MAX_TEXT)
        text = chunks[0] if chunks else ""
        if len(chunks) > 1:
            log.warning("edit of %s longer than one Telegram message was cut", ref.chat.key)
        ids = {"chat_id": int(ref.chat.id), "message_id": int(ref.id)}
        try:
            if text:
                await self._call(
                    ref.chat,
                    lambda: bot.edit_message_text(
                        text, parse_mode=ParseMode.HTML, reply_markup=markup, **ids
                    ),
                    idempotent=True,
                )
            else:
                await self._call(
                    ref.chat,
                    lambda: bot.edit_message_reply_markup(reply_markup=markup, **ids),
                    idempotent=True,
                )
        except DeliveryError as exc:
            reason = str(exc).lower()
            if "not modified" in reason:
                return
            if "no text in the message" not in reason:
                raise
            caption_chunks = html_chunks(message.text, MAX_CAPTION)
            caption = caption_chunks[0] if caption_chunks else ""
            await self._call(
                ref.chat,
                lambda: bot.edit_message_caption(
                    caption=caption, parse_mode=ParseMode.HTML, reply_markup=markup, **ids
                ),
                idempotent=True,
            )

    async def end_poll(self, ref: MessageRef) -> None:
        """Stop the native poll (``stopPoll``): Telegram takes no more votes on it."""
        bot = self.application.bot
        await self._call(
            ref.chat, lambda: bot.stop_poll(int(ref.chat.id), int(ref.id)), idempotent=True
        )

    async def delete(self, ref: MessageRef) -> None:
        bot = self.application.bot
        try:
            await self._call(
                ref.chat,
                lambda: bot.delete_message(int(ref.chat.id), int(ref.id)),
                idempotent=True,
            )
        except DeliveryError as exc:
            if "not found" not in str(exc).lower():
                raise NotSupported(f"delete_messages ({exc})") from exc

    async def _call(
        self, chat: ChatRef, call: Callable[[], Awaitable[T]], *, idempotent: bool = False
    ) -> T:
        """Run a call for ``chat`` and translate Telegram's errors into the core's. A
        non-idempotent call with an unknown outcome raises :class:`core.DeliveryUnknown`."""
        try:
            return await self.caller(f"chat:{chat.id}", call, idempotent=idempotent)
        except Forbidden as exc:
            if chat.is_dm:
                raise Unreachable(f"telegram:{chat.id}: {exc}") from exc
            raise DeliveryError(f"telegram:{chat.id}: {exc}", permanent=True) from exc
        except ChatMigrated as exc:
            raise _ChatMoved(chat.id, str(exc.new_chat_id)) from exc
        except BadRequest as exc:
            if chat.is_dm and "chat not found" in str(exc).lower():
                raise Unreachable(f"telegram:{chat.id}: {exc}") from exc
            raise DeliveryError(f"telegram:{chat.id}: {exc}", permanent=True) from exc
        except InvalidToken as exc:
            raise DeliveryError(f"telegram: {exc}", permanent=True) from exc
        except TelegramError as exc:
            raise DeliveryError(f"telegram:{chat.id}: {exc}") from exc

    # --- moderation ------------------------------------------------------------------------

    async def kick(self, chat: ChatRef, user: UserRef) -> None:
        """Remove a member who may come back (ban, then lift the ban at once)."""
        bot = self.application.bot
        await self._moderate("kick", chat, lambda: bot.ban_chat_member(int(chat.id), int(user.id)))
        await self._moderate(
            "kick",
            chat,
            lambda: bot.unban_chat_member(int(chat.id), int(user.id), only_if_banned=True),
        )

    async def ban(self, chat: ChatRef, user: UserRef) -> None:
        bot = self.application.bot
        await self._moderate("ban", chat, lambda: bot.ban_chat_member(int(chat.id), int(user.id)))

    async def mute(self, chat: ChatRef, user: UserRef, until: datetime | None) -> None:
        bot = self.application.bot
        await self._moderate(
            "mute",
            chat,
            lambda: bot.restrict_chat_member(
                int(chat.id), int(user.id), ChatPermissions.no_permissions(), until_date=until
            ),
        )

    async def unmute(self, chat: ChatRef, user: UserRef) -> None:
        """Give back the group's default permissions (not more than other members have)."""
        bot = self.application.bot
        full = await self._moderate("mute", chat, lambda: bot.get_chat(int(chat.id)))
        allowed = full.permissions or ChatPermissions.all_permissions()
        await self._moderate(
            "mute", chat, lambda: bot.restrict_chat_member(int(chat.id), int(user.id), allowed)
        )

    async def close_buttons(self, ref: MessageRef) -> None:
        """Remove a spent message's inline keyboard (Telegram can't grey buttons out)."""
        bot = self.application.bot
        try:
            await self._call(
                ref.chat,
                lambda: bot.edit_message_reply_markup(
                    chat_id=int(ref.chat.id), message_id=int(ref.id), reply_markup=None
                ),
                idempotent=True,
            )
        except DeliveryError as exc:
            if "not modified" not in str(exc).lower():
                raise

    async def is_chat_admin(self, chat: ChatRef, user: UserRef) -> bool:
        """Ask Telegram (``getChatMember``) whether ``user`` owns or administers ``chat``."""
        bot = self.application.bot
        found = await self._call(chat, lambda: bot.get_chat_member(int(chat.id), int(user.id)))
        return found.status in (ChatMember.OWNER, ChatMember.ADMINISTRATOR)

    async def _moderate(self, what: str, chat: ChatRef, call: Callable[[], Awaitable[T]]) -> T:
        try:
            # Banning, lifting a ban and setting permissions twice change nothing more.
            return await self._call(chat, call, idempotent=True)
        except DeliveryError as exc:
            if exc.permanent:
                # Telegram says "not enough rights" when the bot is no admin there.
                raise NotSupported(f"{what} ({exc})") from exc
            raise

    # --- what the platform offers ------------------------------------------------------------

    def dm_link(self, payload: str = "") -> str | None:
        """``https://t.me/<bot>?start=<payload>``: opens the bot's chat with /start payload."""
        if not self.me.username:
            return None
        clean = _START_PAYLOAD.sub("_", payload)[:64]
        base = f"https://t.me/{self.me.username}"
        return f"{base}?start={clean}" if clean else base

    def health(self) -> str | None:
        if not self.application.running:
            return "not connected to the Bot API"
        if self.mode == "webhook":
            shared = self._shared_webhook
            if shared is not None and self._app is not None and self._app.web.running:
                return None if shared.accepting else "webhook not accepting updates"
            if self.webhook is None:
                return "webhook server not listening"
        return None

    def rate_limits(self) -> RateLimits:
        """Telegram's published limits: ~30 messages/s overall, 1/s per chat, 20/min per
        group."""
        return RateLimits(
            overall_per_second=30.0,
            per_chat_per_second=1.0,
            per_group_per_minute=20.0,
            dm_per_second=30.0,
        )


class _ChatMoved(DeliveryError):
    """The group became a supergroup with another id (permanent for the old id)."""

    def __init__(self, old_id: str, new_id: str) -> None:
        super().__init__(f"telegram:{old_id} became supergroup {new_id}", permanent=True)
        self.new_id = new_id


def _note_own_status(change: ChatMemberUpdated) -> None:
    """Tell the operator when the bot is added, removed or given or denied admin rights:
    without admin rights Telegram sends no chat_member updates and moderation fails."""
    if change.chat.type == change.chat.PRIVATE:
        return  # a member blocking or unblocking the bot; send_dm finds out when it matters
    status = change.new_chat_member.status
    title = change.chat.title or change.chat.id
    if status == ChatMember.ADMINISTRATOR:
        log.info("Telegram: the bot is an admin in %s", title)
    elif status in (ChatMember.LEFT, ChatMember.BANNED):
        log.info("Telegram: the bot was removed from %s", title)
    else:
        log.warning(
            "Telegram: the bot is in %s without admin rights; joins are seen only from "
            "service messages and moderation is unavailable there",
            title,
        )


def _poll_key(poll_id: str) -> str:
    return f"telegram:poll:{poll_id}"


def _mask(secret: str) -> None:
    """Keep ``secret`` out of every log line, also lines that never reach the root handler's
    filter (logger-level filters run before propagation, for any handler)."""
    mask = secret_filter()
    mask.add(secret)
    for name in _TOKEN_LOGGERS:
        logger = logging.getLogger(name)
        if mask not in logger.filters:
            logger.addFilter(mask)
