"""Identity: every platform user becomes an ``Account`` of a ``Member``; conversations and
button payloads are kept per member in the database."""

from __future__ import annotations

import asyncio
import secrets
from datetime import datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError

from core._clock import Clock
from core._events import Sender, UserRef
from core._i18n import normalize_language
from core.models import Account, ButtonKey, Conversation, Member

__all__ = ["Activity", "Buttons", "Conversations", "Identity"]

#: How often ``last_seen_at`` is written for a chatty user (writes on every message would
#: make group chatter cost a database write each).
_SEEN_EVERY = timedelta(minutes=5)


class Identity:
    """Finds or creates the account and member behind a platform user."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    async def resolve(self, sender: Sender) -> Account:
        """The account (with ``member`` loaded) for ``sender``, created on first sight;
        names and language are kept up to date."""
        ref = sender.ref
        name = sender.display_name[:128]
        now = self.clock.now()
        account = (
            await Account.filter(platform=ref.platform, platform_user_id=ref.id)
            .select_related("member")
            .first()
        )
        if account is None:
            account = await self._create(sender, now)
        else:
            changes: dict[str, Any] = {}
            if name and account.display_name != name:
                changes["display_name"] = name
            if sender.username != account.username:
                changes["username"] = sender.username
            if sender.language and sender.language != account.language:
                changes["language"] = sender.language[:16]
            member = account.member
            if name and member.display_name == str(ref):
                # Created before we knew a name (config admins, `guyub admins add`).
                await Member.filter(id=member.id).update(display_name=name)
                member.display_name = name
            if account.last_seen_at is None or now - account.last_seen_at > _SEEN_EVERY:
                changes["last_seen_at"] = now
            if changes:
                await Account.filter(id=account.id).update(**changes)
                for key, value in changes.items():
                    setattr(account, key, value)
                if "last_seen_at" in changes:
                    await Member.filter(id=account.member_id).update(last_active_at=now)
        return account

    async def _create(self, sender: Sender, now: Any) -> Account:
        ref = sender.ref
        member = await Member.create(
            display_name=sender.display_name[:128],
            language=normalize_language(sender.language),
            last_active_at=now,
        )
        try:
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
            await member.delete()
            return await Account.get(
                platform=ref.platform, platform_user_id=ref.id
            ).prefetch_related("member")
        account.member = member
        return account

    async def account_for(self, ref: UserRef) -> Account | None:
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


class Conversations:
    """Persisted flow state: a restart mid-flow resumes at the same step."""

    async def get(self, member_id: int, chat_key: str) -> Conversation | None:
        return await Conversation.get_or_none(member_id=member_id, chat_key=chat_key)

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
        return await Conversation.filter(chat_key=chat_key).exists()

    async def finish(self, member_id: int, chat_key: str) -> None:
        await Conversation.filter(member_id=member_id, chat_key=chat_key).delete()

    async def active(self, member_id: int, flow: str) -> list[Conversation]:
        return await Conversation.filter(member_id=member_id, flow=flow)


class Buttons:
    """Button payloads stored server-side behind short random keys (callback data on
    Telegram is limited to 64 bytes; a key can't be guessed to act for someone else)."""

    async def store(self, action: str, data: dict[str, Any], only_for: int | None) -> str:
        for _ in range(5):
            key = secrets.token_urlsafe(9)[:12]
            try:
                await ButtonKey.create(key=key, action=action, data=data, only_for=only_for)
            except IntegrityError:
                continue
            return key
        raise RuntimeError("could not allocate a button key")

    async def load(self, key: str) -> ButtonKey | None:
        if not key or len(key) > 16:
            return None
        return await ButtonKey.get_or_none(key=key)


class Activity:
    """Who was active, written in batches: group chatter marks senders active without a
    database round trip per message. At most ``interval`` seconds of activity timestamps can
    be lost in a crash (they are approximate by nature: "active in the last 30 days")."""

    def __init__(self, interval: float = 30.0) -> None:
        self.interval = interval
        self._pending: dict[UserRef, datetime] = {}

    def seen(self, user: UserRef, at: datetime) -> None:
        self._pending[user] = at

    async def run_due(self, limit: int | None = None) -> int:
        """Write what was seen; returns how many users were written."""
        pending, self._pending = self._pending, {}
        for user, at in pending.items():
            account = await Account.get_or_none(platform=user.platform, platform_user_id=user.id)
            if account is None:
                continue  # unknown users become accounts when they join or talk to the bot
            if account.last_seen_at is None or account.last_seen_at < at:
                await Account.filter(id=account.id).update(last_seen_at=at)
                await Member.filter(id=account.member_id).update(last_active_at=at)
        return len(pending)

    async def run_forever(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.run_due()
