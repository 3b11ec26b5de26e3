"""Identity: every platform user becomes an ``Account`` of a ``Member``; conversations and
button payloads are kept per member in the database."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core import _sql
from core._clock import Clock
from core._events import Sender, UserRef
from core._i18n import normalize_language
from core._supervise import periodically
from core.models import Account, ButtonKey, Conversation, FlowPrompt, Member

if TYPE_CHECKING:
    from core._cache import DispatchCache

__all__ = ["Activity", "Buttons", "Conversations", "Identity"]

log = logging.getLogger(__name__)

#: How often ``last_seen_at`` is written for a chatty user (writes on every message would
#: make group chatter cost a database write each).
_SEEN_EVERY = timedelta(minutes=5)


class Identity:
    """Finds or creates the account and member behind a platform user."""

    def __init__(self, clock: Clock, activity: Activity | None = None) -> None:
        self.clock = clock
        self.activity = activity
        self.cache: DispatchCache | None = None
        #: Lookups under way; a future once another update waits for one.
        self._flights: dict[UserRef, asyncio.Future[Account | None] | None] = {}

    async def resolve(self, sender: Sender) -> Account:
        """The account (with ``member`` loaded) for ``sender``, created on first sight;
        names and language are kept up to date, activity is marked (batched).

        Updates of one user handled side by side share one lookup (a newcomer's burst of
        messages creates one member, not one per message and an integrity error each)."""
        ref = sender.ref
        if ref in self._flights:
            flight = self._flights[ref]
            if flight is None:
                # The first to wait makes the future the lookup will answer.
                flight = self._flights[ref] = asyncio.get_running_loop().create_future()
            found = await asyncio.shield(flight)
            if found is not None:
                return _copied(found)
        self._flights[ref] = None
        found = None
        try:
            found = await self._resolve(sender)
            return found
        finally:
            flight = self._flights.pop(ref)
            if flight is not None:
                # For those waiting, a copy as it is now (the caller may change its own);
                # None: they look again. Nobody waiting (the common case): no future at all.
                flight.set_result(_copied(found) if found is not None else None)

    async def _resolve(self, sender: Sender) -> Account:
        ref = sender.ref
        name = sender.display_name[:128]
        now = self.clock.now()
        if self.cache is not None:
            account = await self.cache.account(ref)
        else:
            account = (
                await Account.filter(platform=ref.platform, platform_user_id=ref.id)
                .select_related("member")
                .first()
            )
        if account is None:
            return await self._create(sender, now)
        changes: dict[str, Any] = {}
        if name and account.display_name != name:
            changes["display_name"] = name
        if sender.username != account.username:
            changes["username"] = sender.username
        if sender.language and sender.language[:16] != account.language:
            changes["language"] = sender.language[:16]
        if changes:
            await Account.filter(id=account.id).update(**changes)
            for key, value in changes.items():
                setattr(account, key, value)
        member = account.member
        if name and member.display_name == str(ref):
            # Created before we knew a name (config admins, `guyub admins add`).
            await Member.filter(id=member.id).update(display_name=name)
            member.display_name = name
            if self.cache is not None:
                self.cache.member_changed(member.id)
        if self.activity is not None:
            self.activity.seen(ref, now)
        elif account.last_seen_at is None or now - account.last_seen_at > _SEEN_EVERY:
            await Account.filter(id=account.id).update(last_seen_at=now)
            await Member.filter(id=account.member_id).update(last_active_at=now)
        return account

    async def _create(self, sender: Sender, now: Any) -> Account:
        ref = sender.ref
        epoch = self.cache.epoch if self.cache is not None else 0
        try:
            # Together or not at all: a crash between the two would leave a member with no
            # account, whom nobody could ever /forgetme.
            async with in_transaction():
                member = await Member.create(
                    display_name=sender.display_name[:128],
                    language=normalize_language(sender.language),
                    last_active_at=now,
                )
                account = await Account.create(
                    platform=ref.platform,
                    platform_user_id=ref.id,
                    member=member,
                    username=sender.username,
                    display_name=sender.display_name[:128],
                    language=(sender.language or None) and sender.language[:16],
                    last_seen_at=now,
                    dm_open=False,
                )
        except IntegrityError:
            # Another worker created it between our read and write: use theirs.
            return await Account.get(
                platform=ref.platform, platform_user_id=ref.id
            ).prefetch_related("member")
        account.member = member
        if self.cache is not None:
            self.cache.adopt(account, epoch)
        return account

    async def account_for(self, ref: UserRef) -> Account | None:
        if len(ref.platform) > 16 or len(ref.id) > 64:
            return None  # typed, not a platform's: no account has it (nor would it fit)
        return await Account.get_or_none(platform=ref.platform, platform_user_id=ref.id)

    async def ensure(self, ref: UserRef, display_name: str = "") -> Account:
        """The account for a user who may never have written (config admins, the CLI)."""
        return await self.resolve(Sender(ref, display_name or str(ref)))

    async def find(self, text: str, platform: str | None = None) -> Member | None:
        """A member by ``@username``, ``platform:id`` or member number ``#12``."""
        text = text.strip()
        if text.startswith("#") and text[1:].isascii() and text[1:].isdigit():
            number = int(text[1:])
            # Out-of-range numbers would overflow the database's integer, not match.
            return await Member.get_or_none(id=number) if number < 2**31 else None
        if ":" in text and not text.startswith("@"):
            try:
                ref = UserRef.parse(text)
            except ValueError:
                return None
            account = await self.account_for(ref)
            return await Member.get_or_none(id=account.member_id) if account else None
        username = text.lstrip("@")
        if not username:
            return None
        query = Account.filter(username__iexact=username)
        if platform is not None:
            on_platform = await query.filter(platform=platform).first()
            if on_platform is not None:
                return await Member.get_or_none(id=on_platform.member_id)
        account = await query.first()
        if account is None:
            account = await Account.filter(display_name__iexact=username).first()
        return await Member.get_or_none(id=account.member_id) if account else None


def _copied(account: Account) -> Account:
    from core._cache import twin

    return twin(account, account.member)


class Conversations:
    """Persisted flow state: a restart mid-flow resumes at the same step."""

    def __init__(self) -> None:
        self.cache: DispatchCache | None = None

    async def get(self, member_id: int, chat_key: str) -> Conversation | None:
        if self.cache is not None and not await self.cache.chat_has_flow(chat_key):
            return None
        return await Conversation.get_or_none(member_id=member_id, chat_key=chat_key)

    def _changed(self, chat_key: str) -> None:
        # Other workers learn of it through the database; this one at once.
        if self.cache is not None:
            self.cache.chat_changed(chat_key)

    async def start(
        self, member_id: int, chat_key: str, flow: str, step: str, data: dict[str, Any]
    ) -> Conversation:
        conversation, created = await Conversation.get_or_create(
            member_id=member_id,
            chat_key=chat_key,
            defaults={"flow": flow, "step": step, "data": data},
        )
        if not created:
            conversation.flow, conversation.step, conversation.data = flow, step, data
            await conversation.save()
        self._changed(chat_key)
        return conversation

    async def advance(
        self, conversation: Conversation, step: str, data: dict[str, Any]
    ) -> Conversation:
        conversation.step = step
        conversation.data = {**(conversation.data or {}), **data}
        await conversation.save()
        return conversation

    async def in_chat(self, chat_key: str) -> bool:
        """Whether anyone is in a flow in this chat."""
        if self.cache is not None:
            return await self.cache.chat_has_flow(chat_key)
        return await Conversation.filter(chat_key=chat_key).exists()

    async def finish(
        self, member_id: int, chat_key: str, *, at: datetime | None = None
    ) -> list[str]:
        """End the member's flow in this chat. With ``at``, the flow's messages with buttons
        are spent from then on; returns their ids (to disable their buttons)."""
        await Conversation.filter(member_id=member_id, chat_key=chat_key).delete()
        self._changed(chat_key)
        if at is None:
            return []
        prompts = FlowPrompt.filter(member_id=member_id, chat_key=chat_key, spent_at=None)
        ids = [str(i) for i in await prompts.order_by("id").values_list("message_id", flat=True)]
        if ids:
            await FlowPrompt.filter(
                member_id=member_id, chat_key=chat_key, message_id__in=ids
            ).update(spent_at=at)
        return ids

    async def remember_prompt(self, member_id: int, chat_key: str, message_id: str) -> None:
        """Note a message with buttons as part of the member's flow in this chat."""
        if not message_id:
            return
        exists = await FlowPrompt.filter(chat_key=chat_key, message_id=message_id).exists()
        if not exists:
            await FlowPrompt.create(member_id=member_id, chat_key=chat_key, message_id=message_id)

    async def spent(self, chat_key: str, message_id: str) -> bool:
        """Whether this message's buttons belong to a flow that has ended."""
        return await FlowPrompt.filter(
            chat_key=chat_key, message_id=message_id, spent_at__not_isnull=True
        ).exists()

    async def active(self, member_id: int, flow: str) -> list[Conversation]:
        return await Conversation.filter(member_id=member_id, flow=flow)


class Buttons:
    """Button payloads behind short keys (callback data on Telegram is limited to 64 bytes).

    A button tied to one member (``only_for``) or with a large payload is stored server-side
    behind a random key that can't be guessed. Any other button is *static*: its action and
    data travel in the key itself, signed with this deployment's secret (HMAC-SHA256, 72 bits),
    so rendering it writes nothing and a forged or altered payload is refused like an unknown
    key. Either kind can be pressed again, as long as its message exists.
    """

    def __init__(self) -> None:
        self._secret: bytes | None = None

    async def open(self) -> None:
        """Load (or create, once for all workers) the signing secret."""
        from core.state.models import KeyValue

        row, _ = await KeyValue.get_or_create(
            key=_SECRET_KEY, defaults={"value": secrets.token_hex(32)}
        )
        self._secret = bytes.fromhex(row.value)

    async def store(self, action: str, data: dict[str, Any], only_for: int | None) -> str:
        if only_for is None:
            signed = self.sign(action, data)
            if signed is not None:
                return signed
        for _ in range(5):
            key = secrets.token_urlsafe(9)[:12]
            try:
                await ButtonKey.create(key=key, action=action, data=data, only_for=only_for)
            except IntegrityError:
                continue
            return key
        raise RuntimeError("could not allocate a button key")

    def sign(self, action: str, data: dict[str, Any]) -> str | None:
        """The static key of a button, or None when it can't be one (too long, no secret)."""
        if self._secret is None or "|" in action or not all(map(_plain, data.values())):
            return None
        try:
            body = action + "|" + json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        except (TypeError, ValueError):
            return None
        key = _STATIC + self._mac(body) + body
        return key if len(key.encode()) <= _MAX_KEY_BYTES else None

    def _mac(self, body: str) -> str:
        assert self._secret is not None
        digest = hmac.new(self._secret, body.encode(), hashlib.sha256).digest()[:9]
        return base64.urlsafe_b64encode(digest).decode()

    async def load(self, key: str) -> ButtonKey | None:
        if not key or len(key) > _MAX_KEY_BYTES:
            return None
        if key.startswith(_STATIC):
            return self._static(key)
        if len(key) > 16:
            return None
        return await ButtonKey.get_or_none(key=key)

    def _static(self, key: str) -> ButtonKey | None:
        mac, body = key[1:13], key[13:]
        if self._secret is None or not hmac.compare_digest(mac, self._mac(body)):
            return None
        action, _, raw = body.partition("|")
        try:
            data = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        return ButtonKey(key=key[:16], action=action, data=data, only_for=None)


def _plain(value: object) -> bool:
    """Values a static key may carry: ids, flags and short codes. Anything else (a name, a
    text) stays on the server: the platform sees a static key's data."""
    if value is None or isinstance(value, bool | int):
        return True
    return isinstance(value, str) and len(value) <= 32 and _CODE.fullmatch(value) is not None


_CODE = re.compile(r"[A-Za-z0-9_.:-]*")
#: Static keys start with a character random keys never contain.
_STATIC = "~"
#: Telegram's callback_data limit (Discord's custom_id allows 100 characters).
_MAX_KEY_BYTES = 64
_SECRET_KEY = "core.buttons.secret"


class Activity:
    """Who was active, written behind: an update marks its sender in memory and a flush
    writes everyone seen since the last one in two statements per few hundred users (one
    for accounts, one for members), whatever the number of members. A SIGKILL loses at most
    ``interval`` seconds of activity timestamps (approximate by nature: "active in the last
    30 days"); a normal stop or SIGTERM flushes them."""

    def __init__(self, interval: float = 30.0, dialect: str = "sqlite") -> None:
        self.interval = interval
        self.dialect = dialect
        self._pending: dict[tuple[str, str], datetime] = {}

    def seen(self, user: UserRef, at: datetime) -> None:
        self._pending[(user.platform, user.id)] = at

    def seen_id(self, platform: str, user_id: str, at: datetime) -> None:
        """:meth:`seen` for adapters' lean paths (no ``UserRef`` to build)."""
        self._pending[(platform, user_id)] = at

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def run_due(self, limit: int | None = None) -> int:
        """Write what was seen; returns how many users were written. When the database
        fails midway, what was not written is kept for the next round."""
        pending, self._pending = self._pending, {}
        if not pending:
            return 0
        try:
            items = list(pending.items())
            for start in range(0, len(items), _FLUSH_CHUNK):
                await _sql.mark_active(self.dialect, items[start : start + _FLUSH_CHUNK])
        except BaseException:
            # Keep what was not written for the next flush (newer sightings win).
            for user, at in pending.items():
                self._pending.setdefault(user, at)
            raise
        return len(pending)

    async def run_forever(self) -> None:
        """Write every ``interval`` seconds; a database error is logged, the marks are kept
        and the next try waits longer (backing off up to a minute)."""
        await periodically(
            "writing activity marks (kept for the next try)",
            self.run_due,
            self.interval,
            logger=log,
        )


#: Users written per statement (three parameters each; SQLite allows 32,766).
_FLUSH_CHUNK = 500
