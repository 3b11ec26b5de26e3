"""The dispatch cache: what the core needs per update, kept in memory and coherent.

An update needs the sender's account and member, their roles and consent state, and whether a
flow runs in the chat. Reading those from the database on every update made plain group
chatter cost a round trip and ``/help`` five. This cache holds them per process and learns of
every change, whoever made it (this process, another worker, a plugin's queryset update, the
CLI): database triggers record the member id or chat key a write touched, and

* on a SQLite file, a second, read-only connection asks ``PRAGMA data_version`` before each
  update (a synchronous call of about a microsecond, no thread hand-off) and reads the change
  log only when something was committed since;
* on an in-memory SQLite database (tests) the change log is read with a query per update;
* on PostgreSQL the triggers ``NOTIFY guyub_cache`` and a listening connection invalidates as
  notifications arrive (a commit is seen by other workers within the notification delay,
  well under a millisecond on one network). If that connection drops, the cache empties and
  serves from the database until it is back.

The database stays the only copy: an entry is dropped, never patched, and reloaded on the next
miss. A load that raced with an invalidation is used once and not kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

from tortoise.models import Model

from core import _sql
from core._events import UserRef
from core._supervise import periodically
from core.models import Account, Member, RoleGrant
from core.privacy.models import ConsentRecord

__all__ = ["DispatchCache", "MemberState", "clone", "twin"]

M = TypeVar("M", bound=Model)

log = logging.getLogger(__name__)

#: The PostgreSQL notification channel the triggers write to.
CHANNEL = _sql.CACHE_CHANNEL
#: Change-log rows kept on SQLite (a worker further behind than this empties its cache).
_KEEP_CHANGES = 10_000
#: Seconds between prunings of the change log.
_PRUNE_EVERY = 600.0


@dataclass(slots=True)
class MemberState:
    """What dispatch needs of one member (never handed out: copies are)."""

    member: Member
    roles: frozenset[tuple[str, str]]
    consent: tuple[str, int] | None  # (status, version) of the latest consent record
    refs: set[tuple[str, str]] = field(default_factory=set)

    def has_role(self, role: str) -> bool:
        return any(r == role for r, _ in self.roles)

    def scopes(self, role: str) -> list[str]:
        return sorted(s for r, s in self.roles if r == role)


# --- the cache -----------------------------------------------------------------------


class DispatchCache:
    """Accounts, members (roles, consent) and chats with a running flow, per process."""

    def __init__(self, url: str, dialect: str, *, capacity: int = 100_000) -> None:
        self.url = url
        self.dialect = dialect
        self.capacity = capacity
        self._accounts: dict[tuple[str, str], Account] = {}
        self._members: dict[int, MemberState] = {}
        self._chats: dict[str, bool] = {}
        self._epoch = 0  # bumped by every invalidation: a load that saw it change is not kept
        self._seen_change = 0
        self._data_version = -1
        self._side: sqlite3.Connection | None = None
        self._listener: Any = None
        self._reconnect_at = 0.0
        self.enabled = True
        self.hits = 0
        self.misses = 0
        self.notifications = 0

    # --- lifecycle ---------------------------------------------------------------------

    async def open(self) -> None:
        """Install the triggers (idempotent) and start following changes."""
        if self.dialect == "sqlite":
            await _sql.install_triggers(self.dialect)
            self._seen_change = await _sql.last_change()
            path = _sqlite_path(self.url)
            if path is not None:
                self._side = sqlite3.connect(
                    f"file:{quote(path)}?mode=ro", uri=True, check_same_thread=False, timeout=5
                )
                self._data_version = self._side.execute("PRAGMA data_version").fetchone()[0]
        elif self.dialect == "postgres":
            await _sql.install_triggers(self.dialect)
            await self._listen()
        else:
            self.enabled = False

    async def _listen(self) -> None:
        import asyncpg  # only on PostgreSQL deployments

        parts = urlsplit(self.url)
        dsn = urlunsplit(("postgresql", parts.netloc, parts.path, "", ""))
        try:
            conn = await asyncpg.connect(dsn)
            await conn.add_listener(CHANNEL, self._notified)
            conn.add_termination_listener(self._lost)
        except Exception:
            log.warning("dispatch cache: cannot listen for changes; reading the database")
            self._lost(None)
            return
        self._listener = conn
        self.enabled = True

    async def close(self) -> None:
        if self._side is not None:
            self._side.close()
            self._side = None
        if self._listener is not None:
            listener, self._listener = self._listener, None
            with contextlib.suppress(Exception):
                await listener.close()
        self.clear()

    def _notified(self, conn: object, pid: int, channel: str, payload: str) -> None:
        self.notifications += 1
        self._invalidate((payload,))

    def _lost(self, conn: object) -> None:
        if self._listener is None and conn is not None:
            return  # closed by us
        self._listener = None
        self.enabled = False
        self.clear()
        self._reconnect_at = asyncio.get_running_loop().time() + 1.0

    # --- coherence ---------------------------------------------------------------------

    async def refresh(self) -> None:
        """Apply every change committed since the last call (cheap when there is none)."""
        if self._side is not None:
            self.refresh_now()
        elif self.dialect == "sqlite":
            self._apply(await _sql.changes_since(self._seen_change))
        elif self._listener is None and self.dialect == "postgres":
            loop = asyncio.get_running_loop()
            if loop.time() >= self._reconnect_at:
                self._reconnect_at = loop.time() + 1.0
                await self._listen()

    def refresh_now(self) -> bool:
        """:meth:`refresh` without awaiting: False when that needs a query (in-memory SQLite,
        PostgreSQL without its listening connection), so the caller takes the full path."""
        side = self._side
        if side is not None:
            # Not the WAL index mapped: opening and closing the -shm file would drop
            # this process's POSIX locks on it (SQLite's too), and another process could
            # then truncate it under SQLite's own mapping (SIGBUS in the kill loops).
            version = side.execute("PRAGMA data_version").fetchone()[0]
            if version != self._data_version:
                self._data_version = version
                self._apply(side.execute(_sql.CHANGES_SINCE, (self._seen_change,)).fetchall())
            return True
        return self._listener is not None

    def chat_known(self, chat_key: str) -> bool | None:
        """Whether a flow runs in this chat, if known (None: ask :meth:`chat_has_flow`)."""
        return self._chats.get(chat_key)

    def _apply(self, rows: list[tuple[int, str]]) -> None:
        if not rows:
            return
        if rows[0][0] != self._seen_change + 1 and self._seen_change:
            self.clear()  # pruned past us: we can't know what changed
        self._seen_change = rows[-1][0]
        self._invalidate(key for _, key in rows)

    def _invalidate(self, keys: Iterable[str]) -> None:
        self._epoch += 1
        for key in keys:
            kind, _, value = key.partition(":")
            if kind == "m":
                with contextlib.suppress(ValueError):
                    self.forget_member(int(value))
            elif kind == "c":
                self._chats.pop(value, None)
            elif kind == "*":
                self.clear()

    def forget_member(self, member_id: int) -> None:
        """Drop a member and the accounts that point at them."""
        state = self._members.pop(member_id, None)
        if state is not None:
            for ref in state.refs:
                self._accounts.pop(ref, None)

    def chat_changed(self, chat_key: str) -> None:
        self._epoch += 1
        self._chats.pop(chat_key, None)

    def member_changed(self, member_id: int) -> None:
        self._epoch += 1
        self.forget_member(member_id)

    def clear(self) -> None:
        self._epoch += 1
        self._accounts.clear()
        self._members.clear()
        self._chats.clear()

    async def scrub(self, keys: list[str]) -> None:
        """Replace change-log rows naming ``keys`` (a forgotten member's) by ``*``: every
        worker that has not read them yet empties its cache instead (forgetting is rare)."""
        if self.dialect == "sqlite" and keys:
            await _sql.scrub_changes(keys)

    async def prune(self) -> None:
        """Drop old change-log rows (SQLite; PostgreSQL keeps no log)."""
        if self.dialect == "sqlite":
            await _sql.prune_changes(_KEEP_CHANGES)

    async def run_due(self, limit: int | None = None) -> int:
        return 0  # nothing is ever due: the cache works on the dispatch path

    async def run_forever(self) -> None:
        """Prune the change log now and then."""
        await periodically(
            "dispatch cache: pruning the change log", self.prune, _PRUNE_EVERY, logger=log
        )

    # --- reads -------------------------------------------------------------------------

    async def account(self, ref: UserRef) -> Account | None:
        """A copy of the account behind ``ref`` with ``member`` set, or None if unknown."""
        key = (ref.platform, ref.id)
        cached = self._accounts.get(key)
        if cached is not None:
            state = self._members.get(cached.member_id)
            if state is not None:
                self.hits += 1
                return twin(cached, state.member)
        self.misses += 1
        epoch = self._epoch
        found = (
            await Account.filter(platform=ref.platform, platform_user_id=ref.id)
            .select_related("member")
            .first()
        )
        if found is None:
            return None
        state = await self._load_member(found.member)
        if self.enabled and epoch == self._epoch:
            self._keep_account(key, found, state)
        return found

    @property
    def epoch(self) -> int:
        return self._epoch

    def adopt(self, account: Account, epoch: int) -> None:
        """Keep an account this process has just created (no roles, no consent yet), unless
        something changed since ``epoch``."""
        if self.enabled and epoch == self._epoch:
            state = MemberState(member=clone(account.member), roles=frozenset(), consent=None)
            self._keep_account((account.platform, account.platform_user_id), account, state)

    def _keep_account(self, key: tuple[str, str], account: Account, state: MemberState) -> None:
        if len(self._accounts) >= self.capacity:
            self.clear()  # cheap and rare; a real LRU costs every hit
        self._members[account.member_id] = state
        stored = clone(account)
        stored.__dict__.pop("_member", None)
        state.refs.add(key)
        self._accounts[key] = stored
        account.__dict__["_member"] = clone(state.member)

    async def member(self, member_id: int) -> MemberState | None:
        """Roles and consent of a member (loaded on a miss)."""
        state = self._members.get(member_id)
        if state is not None:
            return state
        epoch = self._epoch
        member = await Member.get_or_none(id=member_id)
        if member is None:
            return None
        state = await self._load_member(member)
        if self.enabled and epoch == self._epoch:
            self._members[member_id] = state
        return state

    async def _load_member(self, member: Member) -> MemberState:
        grants = await RoleGrant.filter(member_id=member.id).values_list("role", "scope")
        consent = (
            await ConsentRecord.filter(member_id=member.id)
            .order_by("-id")
            .first()
            .values_list("status", "version")
        )
        return MemberState(
            member=clone(member),
            roles=frozenset((str(r), str(s)) for r, s in grants),
            consent=(str(consent[0]), int(consent[1])) if consent else None,
        )

    async def chat_has_flow(self, chat_key: str) -> bool:
        """Whether anyone is in a flow in this chat."""
        found = self._chats.get(chat_key)
        if found is not None:
            return found
        from core.models import Conversation

        epoch = self._epoch
        found = await Conversation.filter(chat_key=chat_key).exists()
        if self.enabled and epoch == self._epoch:
            if len(self._chats) >= self.capacity:
                self._chats.clear()
            self._chats[chat_key] = found
        return found


def _sqlite_path(url: str) -> str | None:
    path = url.removeprefix("sqlite://").split("?", 1)[0]
    if not path or path == ":memory:":
        return None
    return path


def clone(model: M) -> M:
    """A shallow copy of a loaded model, without ``copy.copy``'s trip through the model's
    ``__setattr__`` for every field (the cache hands a fresh copy to every update)."""
    twin = object.__new__(type(model))
    state = twin.__dict__
    state.update(model.__dict__)
    state["_await_when_save"] = {}
    return twin


def twin(account: Account, member: Member) -> Account:
    """A copy of ``account`` with a copy of ``member`` as its loaded ``member``."""
    copied = clone(account)
    copied.__dict__["_member"] = clone(member)
    return copied
