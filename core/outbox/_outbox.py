"""The outbox: durable, paced delivery of one message to many recipients.

A batch stores the rendered message once (buttons rendered once, so every recipient's
buttons share the same keys) and one :class:`Delivery` row per recipient, unique per batch
and chat. Workers claim rows in chunks (``SELECT ... FOR UPDATE SKIP LOCKED`` on
PostgreSQL, a conditional ``UPDATE`` elsewhere), pace them to the platform's limits and
record each outcome.

Delivery is **at most once**. Just before a send, its row is marked ``sending`` (durably);
after the platform answers it becomes ``sent``, ``unreachable``, ``failed`` or goes back to
``pending`` for a retry, but only when the platform guarantees the request had no effect (a
429, no connection made). A send whose outcome nobody can know (a timeout after the request
was written, a dropped connection, a 5xx answer: :class:`core.DeliveryUnknown`) becomes
``unknown`` and is never sent again. A process that dies mid-send leaves rows in ``sending``
(those in flight, and those sent but not yet recorded; one statement records a wave's
successes and marks the next wave, so never more than ``concurrency`` of them); when their
lease expires they are recorded as ``unknown`` ("interrupted"). Claimed rows not
yet marked ``sending`` were certainly not sent: another worker takes them over when the
claim's lease expires. So a crash never messages anyone twice, and every row ends in a
recorded state; ``unknown`` is reported apart from ``failed``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import contextvars
import heapq
import logging
import os
import secrets
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from tortoise.expressions import Case, F, Q, Subquery, When
from tortoise.functions import Coalesce, Count, Min
from tortoise.transactions import in_transaction

from core._adapter import (
    Adapter,
    Capability,
    DeliveryError,
    DeliveryUnknown,
    Outgoing,
    RateLimits,
    RetryAfter,
    Unreachable,
)
from core._clock import Clock
from core._events import ChatKind, ChatRef, MessageRef, UserRef
from core._markup import Markup
from core._messages import Attachment, AttachmentKind, Message, PollSpec, RenderedButton
from core._metrics import DeliveryResult, Metrics
from core._settings import OutboxSettings
from core._supervise import Backoff, Rounds
from core._trace import correlation_id, enter
from core.models import Account, Member
from core.outbox import _sql
from core.outbox._pace import Pace, RealTimer, Timer, timer_for
from core.outbox._rate import DatabaseClock, SharedRate
from core.outbox._sql import Claimed
from core.outbox.models import Delivery, OutboxBatch

__all__ = [
    "BatchReport",
    "BatchStatus",
    "DeliveryStatus",
    "Outbox",
    "ProgressCallback",
    "Recipient",
]

log = logging.getLogger(__name__)

_INSERT_COLUMNS = (
    "batch_id",
    "platform",
    "chat_kind",
    "target",
    "account_id",
    "region_code",
    "status",
    "attempts",
    "next_attempt_at",
    "last_error",
)

#: The smallest wait the drain loop schedules (seconds).
_TICK = 0.001

INTERRUPTED = "interrupted mid-send; not sent again so nobody gets it twice"

#: ``Delivery.chat_kind`` of a private chat addressed by its chat id (a deferred reply).
_DM_CHAT = "dmchat"

#: Batches of one deferred reply or DM (a 429, or a chat over its pace).
DEFERRED = "core:deferred"


class _Params:
    """Statement parameters, numbered for the dialect (``$n`` on PostgreSQL, ``?``)."""

    def __init__(self, dialect: str, first: Iterable[Any]) -> None:
        self.dialect = dialect
        self.values = list(first)

    def add(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}" if self.dialect == "postgres" else "?"


def _sql_name(platform: str) -> str:
    """A platform name safe to write into SQL (they come from adapters, never from users)."""
    if not platform.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"odd platform name {platform!r}")
    return platform


def pace_key(kind: str, target: str) -> str:
    """The pacing key of a chat: a private chat by user id and by chat id are one key."""
    return f"{ChatKind.DM.value if kind == _DM_CHAT else kind}:{target}"


class DeliveryStatus:
    """The states of a delivery row."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    #: Maybe delivered, maybe not (timeout, dropped connection, crash in flight): never
    #: sent again, reported apart.
    UNKNOWN = "unknown"
    UNREACHABLE = "unreachable"
    CANCELLED = "cancelled"
    OPEN = (PENDING, SENDING)


class BatchStatus:
    ACTIVE = "active"
    DONE = "done"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who gets a batch: a private chat (``target`` is the platform user id) or a group
    (``target`` is the chat id). ``reachable=False`` records the recipient as unreachable
    without trying (a Telegram user who never started the bot)."""

    platform: str
    target: str
    chat_kind: ChatKind = ChatKind.DM
    region_code: str | None = None
    account_id: int | None = None
    reachable: bool = True
    #: ``target`` is a private *chat* id (a deferred reply), not a user id.
    in_chat: bool = False

    @classmethod
    def chat(cls, chat: ChatRef) -> Recipient:
        """The chat itself (a group, or a private chat by its chat id)."""
        return cls(chat.platform, chat.id, chat.kind, in_chat=chat.is_dm)

    @property
    def stored_kind(self) -> str:
        return _DM_CHAT if self.in_chat and self.chat_kind is ChatKind.DM else self.chat_kind.value


@dataclass(frozen=True, slots=True)
class BatchReport:
    """Counts of a batch's deliveries by platform, region and status."""

    batch_id: int
    status: str
    counts: Mapping[tuple[str, str, str], int] = field(default_factory=dict)

    def count(
        self,
        *statuses: str,
        platform: str | None = None,
        region: str | None = None,
    ) -> int:
        return sum(
            n
            for (p, r, s), n in self.counts.items()
            if (not statuses or s in statuses)
            and (platform is None or p == platform)
            and (region is None or r == region)
        )

    @property
    def total(self) -> int:
        return self.count()

    @property
    def sent(self) -> int:
        return self.count(DeliveryStatus.SENT)

    @property
    def failed(self) -> int:
        return self.count(DeliveryStatus.FAILED)

    @property
    def unknown(self) -> int:
        return self.count(DeliveryStatus.UNKNOWN)

    @property
    def unreachable(self) -> int:
        return self.count(DeliveryStatus.UNREACHABLE)

    @property
    def cancelled(self) -> int:
        return self.count(DeliveryStatus.CANCELLED)

    @property
    def remaining(self) -> int:
        return self.count(*DeliveryStatus.OPEN)

    def platforms(self) -> list[str]:
        return sorted({p for p, _, _ in self.counts})

    def regions(self, platform: str | None = None) -> list[str]:
        return sorted({r for p, r, _ in self.counts if platform is None or p == platform})


#: ``callback(batch, report, finished)``: progress of batches of one kind.
ProgressCallback = Callable[[OutboxBatch, BatchReport, bool], Awaitable[None]]
Renderer = Callable[[Message], Awaitable[Outgoing]]


def dump_message(out: Outgoing) -> dict[str, Any]:
    """An outgoing message as JSON, stored once per batch."""
    return {
        "text": str(out.text),
        "buttons": [
            [{"label": b.label, "key": b.key, "url": b.url} for b in row] for row in out.buttons
        ],
        "poll": None
        if out.poll is None
        else {
            "question": out.poll.question,
            "options": list(out.poll.options),
            "multiple": out.poll.multiple,
            "anonymous": out.poll.anonymous,
        },
        "attachments": [
            {
                "kind": a.kind.value,
                "filename": a.filename,
                "caption": a.caption,
                "mime_type": a.mime_type,
                "data": base64.b64encode(a.data).decode("ascii"),
            }
            for a in out.attachments
        ],
        "silent": out.silent,
    }


def load_message(data: Mapping[str, Any]) -> Outgoing:
    poll = data.get("poll")
    return Outgoing(
        Markup(data.get("text", "")),
        tuple(
            tuple(RenderedButton(b["label"], key=b.get("key"), url=b.get("url")) for b in row)
            for row in data.get("buttons", [])
        ),
        None
        if not poll
        else PollSpec(
            poll["question"], tuple(poll["options"]), poll["multiple"], poll["anonymous"]
        ),
        tuple(
            Attachment(
                AttachmentKind(a["kind"]),
                a["filename"],
                base64.b64decode(a["data"]),
                a.get("caption", ""),
                a.get("mime_type", "application/octet-stream"),
            )
            for a in data.get("attachments", [])
        ),
        bool(data.get("silent", False)),
    )


@dataclass(order=True)
class _Queued:
    ready: float
    seq: int
    row: Claimed = field(compare=False)


class Outbox:
    """Enqueue batches, drain them at each platform's pace, report progress.

    ``run_due`` drains what is due now (tests, the console and ``app.run_pending`` call
    it); ``run_forever`` is the worker loop in the App's TaskGroup. Any number of
    processes may drain one database.
    """

    def __init__(
        self,
        clock: Clock,
        settings: OutboxSettings,
        adapters: Mapping[str, Adapter],
        render: Renderer,
        *,
        dialect: str = "sqlite",
        worker_id: str | None = None,
        timer: Timer | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.clock = clock
        self.metrics = metrics or Metrics()
        self.settings = settings
        self.adapters = adapters
        self.render = render
        self.dialect = dialect
        self.worker_id = (worker_id or f"{os.getpid()}-{secrets.token_hex(4)}")[:48]
        self.timer: Timer = timer or timer_for(clock)
        self._listeners: dict[str, ProgressCallback] = {}
        self._paces: dict[str, Pace] = {}
        #: Rates kept across worker processes through the database (PostgreSQL).
        self._shared: dict[str, SharedRate] = {}
        self._db_clock = DatabaseClock()
        self._shared_warned = 0.0
        self._messages: dict[int, Outgoing] = {}
        self._cids: dict[int, str | None] = {}
        #: A batch's forum topic and the message it answers (a deferred reply).
        self._where: dict[int, tuple[str | None, str | None]] = {}
        self._last_progress: dict[int, float] = {}
        self._claims = 0
        self._late_edits: dict[MessageRef, Outgoing] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()
        self._wakeup = asyncio.Event()

    # --- producing -------------------------------------------------------------------

    def on_progress(self, kind: str, callback: ProgressCallback) -> None:
        """Call ``callback(batch, report, finished)`` for batches of ``kind``: every
        ``outbox.progress_every_seconds`` while they drain, and once when they finish
        (exactly once across workers). Register it at start-up in every process."""
        self._listeners[kind] = callback

    async def enqueue(
        self,
        kind: str,
        message: Message | Outgoing,
        recipients: Iterable[Recipient],
        *,
        key: str | None = None,
        meta: Mapping[str, Any] | None = None,
        not_before: datetime | None = None,
        members: Any = None,
    ) -> OutboxBatch:
        """Store a batch and its deliveries (duplicates dropped). With ``key``, enqueueing
        again returns the existing batch instead of sending twice. ``not_before`` holds
        every delivery back until then.

        ``members`` (a tortoise query of member ids, e.g. ``Member.filter(...).values("id")``)
        adds a private message to each of those members, one account each (one open for DMs
        first), planned in the database by one ``INSERT ... SELECT`` however many members: a
        province's 440,000 never pass through Python. A member's chat already among
        ``recipients`` is not added twice."""
        if key is not None:
            existing = await OutboxBatch.get_or_none(key=key)
            if existing is not None:
                return existing
        out = message if isinstance(message, Outgoing) else await self.render(message)
        now = self.clock.now()
        meta = dict(meta or {})
        cid = correlation_id()
        if cid is not None:
            meta.setdefault("cid", cid)  # the deliveries' log lines carry the update's id
        seen: set[tuple[str, str, str]] = set()
        total = 0
        async with in_transaction():
            batch = await OutboxBatch.create(
                kind=kind, key=key, message=dump_message(out), meta=meta, created_at=now
            )
            chunk: list[tuple[Any, ...]] = []
            for r in recipients:
                ident = (r.platform, r.stored_kind, r.target)
                if ident in seen:
                    continue
                seen.add(ident)
                chunk.append(
                    (
                        batch.id,
                        r.platform,
                        r.stored_kind,
                        r.target,
                        r.account_id,
                        r.region_code,
                        DeliveryStatus.PENDING if r.reachable else DeliveryStatus.UNREACHABLE,
                        0,
                        not_before or now,
                        None if r.reachable else "cannot be messaged privately",
                    )
                )
                if len(chunk) >= 5000:
                    total += await self._insert(chunk)
            total += await self._insert(chunk)
            if members is not None:
                # Only a private chat listed too can collide with a member's.
                listed_dm = any(kind == ChatKind.DM.value for _, kind, _ in seen)
                await self._insert_members(
                    batch.id, members, not_before or now, skip_listed=listed_dm
                )
                total = await Delivery.filter(batch_id=batch.id).count()
            await OutboxBatch.filter(id=batch.id).update(total=total)
            batch.total = total
        log.info(
            "outbox batch %s (%s) enqueued for %d recipients",
            batch.id,
            kind,
            total,
            extra={"batch": batch.id, "count": total},
        )
        self._wakeup.set()
        return batch

    async def enqueue_members(
        self,
        kind: str,
        members: Any,
        compose: Callable[[str, str], Awaitable[tuple[str, Message | Outgoing]]],
        *,
        key: str,
        meta: Mapping[str, Any] | None = None,
    ) -> list[OutboxBatch]:
        """DM every member selected by ``members`` (a tortoise query of member ids, e.g.
        ``Rsvp.filter(...).values("member_id")``), one account each (one open for DMs
        first), planned in the database: one ``INSERT ... SELECT`` per text, however many
        members. ``compose(language, region_code)`` names the text a member of that
        language and region reads (``(group, message)``); members whose texts share a group
        share one batch, keyed ``<key>:<group>`` so enqueueing again adds nothing."""
        combos = (
            await Member.filter(id__in=Subquery(members))
            .distinct()
            .values_list("language", "region_code")
        )
        groups: dict[str, tuple[Message | Outgoing, list[tuple[str, str]]]] = {}
        for raw_language, raw_region in combos:
            language, region = str(raw_language or ""), str(raw_region or "")
            group, message = await compose(language, region)
            groups.setdefault(group, (message, []))[1].append((language, region))
        batches: list[OutboxBatch] = []
        for group, (message, members_of) in groups.items():
            batch_key = f"{key}:{group}"[:128]
            existing = await OutboxBatch.get_or_none(key=batch_key)
            if existing is not None:
                batches.append(existing)
                continue
            out = message if isinstance(message, Outgoing) else await self.render(message)
            now = self.clock.now()

            def texts(mark: Callable[[Any], str], of: list[tuple[str, str]] = members_of) -> str:
                return " OR ".join(
                    f"(COALESCE(m.language, '') = {mark(language)}"
                    f" AND COALESCE(m.region_code, '') = {mark(region)})"
                    for language, region in of
                )

            async with in_transaction():
                batch = await OutboxBatch.create(
                    kind=kind,
                    key=batch_key,
                    message=dump_message(out),
                    meta=dict(meta or {}),
                    created_at=now,
                )
                await self._insert_members(batch.id, members, now, where=texts)
                total = await Delivery.filter(batch_id=batch.id).count()
                await OutboxBatch.filter(id=batch.id).update(total=total)
                batch.total = total
            batches.append(batch)
        self._wakeup.set()
        return batches

    def _dm_platforms(self) -> tuple[list[str], list[str]]:
        """The platforms this process runs, and those of them that can open a private
        chat with someone who never wrote to the bot: what decides which of a member's
        accounts a DM goes to."""
        running = sorted(self.adapters)
        anyway = [p for p in running if self.adapters[p].supports(Capability.DM_WITHOUT_START)]
        return running, anyway

    def _ranked_accounts(
        self,
        members: Any,
        where: Callable[[Callable[[Any], str]], str] | None = None,
        lead: Sequence[Any] = (),
    ) -> tuple[str, list[Any], list[str]]:
        """``WITH chosen ... SELECT`` of one account per member selected by ``members`` (a
        tortoise query of member ids): one we can DM first, then one on a platform this
        process runs, then the oldest. Columns: ``id, platform, platform_user_id,
        region_code, reachable`` (1 or 0). ``where(mark)`` narrows the members (``m.``)
        with parameters it adds through ``mark``. ``lead`` are values a statement built
        around it uses between the ``WITH`` clause and the select (``?`` parameters are
        bound in the order they appear). Returns the SQL, every parameter and the marks of
        ``lead``."""
        members._make_query()
        sub_sql, sub_params = members.query.get_parameterized_sql()
        params = _Params(self.dialect, sub_params)
        lead_marks = [params.add(value) for value in lead]
        running, open_anyway = self._dm_platforms()
        here = ", ".join(f"'{_sql_name(p)}'" for p in running) or "''"
        free = ", ".join(f"'{_sql_name(p)}'" for p in open_anyway) or "''"
        reachable = (
            f"CASE WHEN a.platform IN ({here}) AND (a.dm_open OR a.platform IN ({free}))"
            " THEN 1 ELSE 0 END"
        )
        narrow = f" AND ({where(params.add)})" if where is not None else ""
        # Its text holds only names from this code (and validated platform names); every
        # value is a parameter.
        sql = (
            f"WITH chosen(member_id) AS ({sub_sql}) "
            "SELECT id, platform, platform_user_id, region_code, reachable FROM ("
            "SELECT a.id, a.platform, a.platform_user_id, m.region_code,"
            f" {reachable} AS reachable,"
            " ROW_NUMBER() OVER (PARTITION BY a.member_id ORDER BY"
            f" {reachable} DESC, CASE WHEN a.platform IN ({here}) THEN 0 ELSE 1 END,"
            " a.id) AS rn"
            " FROM core_account a JOIN core_member m ON m.id = a.member_id"
            f" WHERE a.member_id IN (SELECT member_id FROM chosen){narrow}) ranked"
            " WHERE rn = 1"
        )
        return sql, params.values, lead_marks

    async def _insert_members(
        self,
        batch_id: int,
        members: Any,
        at: datetime,
        *,
        where: Callable[[Callable[[Any], str]], str] | None = None,
        skip_listed: bool = False,
    ) -> None:
        """One private delivery per member (see :meth:`_ranked_accounts`) into a batch, in
        one ``INSERT ... SELECT``. ``skip_listed``: the batch may already hold some of those
        chats; they are left as they are (``ON CONFLICT DO NOTHING``, which costs every row
        a speculative insert: about a third more on PostgreSQL, so only when needed)."""
        sql, values = self._members_insert(
            batch_id, members, at, where=where, skip_listed=skip_listed
        )
        # Run once, on the transaction's connection (a client taken before the transaction
        # would wait for the transaction's own lock on SQLite).
        await Delivery._meta.db.execute_many(sql, [values])

    def _members_insert(
        self,
        batch_id: int,
        members: Any,
        at: datetime,
        *,
        where: Callable[[Callable[[Any], str]], str] | None = None,
        skip_listed: bool = False,
    ) -> tuple[str, list[Any]]:
        """The statement of :meth:`_insert_members` and its parameters."""
        select, values, (when,) = self._ranked_accounts(members, where, lead=[at])
        head, _, rest = select.partition(" SELECT id, platform, platform_user_id,")
        assert rest, "the ranked select starts after its WITH clause"
        sql = (
            f'{head} INSERT INTO "{Delivery._meta.db_table}" ({", ".join(_INSERT_COLUMNS)}) '
            f"SELECT {int(batch_id)}, platform, 'dm', platform_user_id, id, region_code,"
            " CASE WHEN reachable = 1 THEN 'pending' ELSE 'unreachable' END, 0,"
            f" {when}, CASE WHEN reachable = 1 THEN NULL"
            " ELSE 'cannot be messaged privately' END"
            f" FROM (SELECT id, platform, platform_user_id,{rest}) planned"
            + (" WHERE true ON CONFLICT DO NOTHING" if skip_listed else "")
        )
        return sql, values

    async def dm_audience(self, members: Any) -> dict[str, tuple[int, int]]:
        """Per platform, how many of ``members`` (a tortoise query of member ids) a batch
        with ``members=`` would DM, and how many of them can't be reached privately: the
        same choice of account (one we can DM, then one on a platform this process runs,
        then the oldest), counted in the database by one grouped query."""
        here, free = self._dm_platforms()
        if not here:
            reachable: Q | None = None
        elif free:
            reachable = Q(platform__in=here) & (Q(dm_open=True) | Q(platform__in=free))
        else:
            reachable = Q(platform__in=here) & Q(dm_open=True)
        firsts: list[Any] = []
        if reachable is not None:
            # (tortoise aggregates take a Case at run time; its annotations say otherwise)
            firsts.append(Min(Case(When(reachable, then=F("id")), default=None)))  # type: ignore[arg-type]
            firsts.append(Min(Case(When(Q(platform__in=here), then=F("id")), default=None)))  # type: ignore[arg-type]
        firsts.append(Min("id"))
        chosen = (
            Account.filter(member_id__in=Subquery(members))
            .annotate(chosen=Coalesce(*firsts) if len(firsts) > 1 else firsts[0])
            .group_by("member_id")
            .values("chosen")
        )
        counted = Account.filter(id__in=Subquery(chosen)).group_by("platform")
        if reachable is None:
            rows = await counted.annotate(n=Count("id")).values_list("platform", "n")
            return {str(platform): (int(n), int(n)) for platform, n in rows}
        rows = await counted.annotate(
            n=Count("id"),
            # COUNT skips the NULLs: the chosen accounts that can be messaged privately.
            reached=Count(Case(When(reachable, then=F("id")), default=None)),  # type: ignore[arg-type]
        ).values_list("platform", "n", "reached")
        return {
            str(platform): (int(n), int(n) - int(reached or 0)) for platform, n, reached in rows
        }

    # --- interactive sends ------------------------------------------------------------

    def blocked(self, chat: ChatRef) -> bool:
        """The platform asked us (a 429) to leave ``chat`` alone for now."""
        pace = self.pace(chat.platform)
        if pace is None:
            return False
        key = pace_key(chat.kind.value, chat.id)
        return pace.paused.get(key, 0.0) > self.timer.monotonic()

    async def send(
        self, chat: ChatRef, out: Outgoing, *, reply_to: MessageRef | None = None
    ) -> MessageRef:
        """Send one message to ``chat`` now, at the chat's pace (the same limits the outbox
        drains at, shared with it). When the chat must wait long (over its limit, or a
        429's ``retry_after``), the message is stored and the outbox delivers it after the
        wait, in the same forum topic (``chat.thread``) and answering the same message
        (``reply_to``): the ref returned then has an empty id (nothing to edit yet)."""
        adapter = self.adapters[chat.platform]
        return await self._now(
            chat,
            pace_key(chat.kind.value, chat.id),
            lambda: adapter.send(chat, out, reply_to=reply_to),
            None,  # the chat itself, made only if the message must wait
            out,
            reply_to,
            in_place=adapter.answers_in_place(chat),
        )

    async def send_dm(
        self, user: UserRef, out: Outgoing, *, account_id: int | None = None
    ) -> MessageRef:
        """A private message now, paced like :meth:`send`; deferred the same way."""
        adapter = self.adapters[user.platform]
        return await self._now(
            ChatRef(user.platform, user.id, ChatKind.DM),
            pace_key(ChatKind.DM.value, user.id),
            lambda: adapter.send_dm(user, out),
            Recipient(user.platform, user.id, ChatKind.DM, account_id=account_id),
            out,
        )

    async def edit(self, ref: MessageRef, out: Outgoing) -> None:
        """Edit a message at its chat's pace. An edit that must wait long is made later, in
        memory (only a message's latest text matters; the next change edits it again)."""
        if not ref.id:
            return  # a deferred message: not sent yet, it goes out with its first text
        chat = ref.chat
        adapter = self.adapters[chat.platform]
        pace = self.pace(chat.platform)
        key = pace_key(chat.kind.value, chat.id)
        if pace is not None:
            wait = self._reserve(pace, key, not chat.is_dm)
            if wait > self.settings.inline_wait_seconds:
                self._edit_later(ref, out, wait)
                return
            if wait > 0:
                await self.timer.sleep(wait)
            await self._shared_slot(chat.platform, pace, key, not chat.is_dm)
        try:
            await adapter.edit(ref, out)
        except RetryAfter as exc:
            if pace is not None:
                pace.pause(key, exc.seconds, self.timer.monotonic())
            self._edit_later(ref, out, exc.seconds)

    async def close_buttons(self, ref: MessageRef) -> None:
        """Disable a message's buttons (a spent flow question). Not paced like a send: it
        takes no slot from the replies that follow (Discord's client waits on its own
        route limits), but a chat the platform asked us to leave alone (a 429) is left
        alone. Nothing is lost when it can't be done: a press on a spent button is
        answered as already done."""
        if not ref.id:
            return
        chat = ref.chat
        adapter = self.adapters[chat.platform]
        pace = self.pace(chat.platform)
        key = pace_key(chat.kind.value, chat.id)
        if self.blocked(chat):
            return
        try:
            await adapter.close_buttons(ref)
        except RetryAfter as exc:
            if pace is not None:
                pace.pause(key, exc.seconds, self.timer.monotonic())
        except DeliveryError as exc:  # NotSupported included: the platform can't edit
            log.info("spent buttons in %s left as they are: %s", chat.platform, exc)

    def _reserve(self, pace: Pace, key: str, is_group: bool, *, in_place: bool = False) -> float:
        """Seconds to wait before sending to ``key``; the slot is taken at once (when the
        wait is short) so concurrent replies queue behind each other. An answer ``in_place``
        (see ``Adapter.answers_in_place``) counts against none of the platform's message
        limits; it still waits out a pause the platform asked for in the chat (a 429)."""
        now = self.timer.monotonic()
        if in_place:
            return max(pace.paused.get(key, 0.0) - now, 0.0)
        wait = pace.reply_wait(key, is_group, now)
        if wait <= self.settings.inline_wait_seconds:
            pace.take(key, is_group, now)
        return wait

    async def _now(
        self,
        chat: ChatRef,
        key: str,
        send: Callable[[], Awaitable[MessageRef]],
        recipient: Recipient | None,
        out: Outgoing,
        reply_to: MessageRef | None = None,
        *,
        in_place: bool = False,
    ) -> MessageRef:
        pace = self.pace(chat.platform)
        if pace is None:
            return await self._counted(chat.platform, send)
        wait = self._reserve(pace, key, not chat.is_dm, in_place=in_place)
        if wait > self.settings.inline_wait_seconds:
            return await self._defer(chat, recipient, out, wait, reply_to)
        if wait > 0:
            await self.timer.sleep(wait)
        if not in_place:  # an answer in place counts against no shared rate
            await self._shared_slot(chat.platform, pace, key, not chat.is_dm)
        try:
            return await self._counted(chat.platform, send)
        except RetryAfter as exc:
            # Refused before anything was done: hold this chat (replies, broadcasts, all of
            # it) and deliver the message after the wait.
            pace.pause(key, exc.seconds, self.timer.monotonic())
            return await self._defer(chat, recipient, out, exc.seconds, reply_to)

    async def _counted(
        self, platform: str, send: Callable[[], Awaitable[MessageRef]]
    ) -> MessageRef:
        """An interactive send, counted in ``guyub_deliveries_total`` like the outbox's."""
        try:
            ref = await send()
        except RetryAfter:
            self.metrics.rate_limit(platform)
            self.metrics.delivery(platform, DeliveryResult.DEFERRED)
            raise
        except DeliveryUnknown:
            self.metrics.delivery(platform, DeliveryResult.UNKNOWN)
            raise
        except Unreachable:
            self.metrics.delivery(platform, DeliveryResult.UNREACHABLE)
            raise
        except DeliveryError:
            self.metrics.delivery(platform, DeliveryResult.FAILED)
            raise
        self.metrics.delivery(platform, DeliveryResult.DELIVERED)
        return ref

    async def _defer(
        self,
        chat: ChatRef,
        recipient: Recipient | None,
        out: Outgoing,
        seconds: float,
        reply_to: MessageRef | None = None,
    ) -> MessageRef:
        """Store ``out`` for ``recipient`` (None: ``chat`` itself) to go after ``seconds``."""
        if recipient is None:
            recipient = Recipient.chat(chat)
        when = self.clock.now() + timedelta(seconds=seconds)
        # Where the message goes inside the chat, kept for the send after the wait.
        where: dict[str, str] = {}
        if chat.thread:
            where["thread"] = chat.thread
        if reply_to is not None and reply_to.id and reply_to.chat.id == chat.id:
            where["reply_to"] = reply_to.id
        batch = await self.enqueue(DEFERRED, out, [recipient], not_before=when, meta=where)
        log.info("%s must wait %.0fs; message stored as batch %s", chat.key, seconds, batch.id)
        return MessageRef(chat, "")

    def _edit_later(self, ref: MessageRef, out: Outgoing, seconds: float) -> None:
        first = ref not in self._late_edits
        self._late_edits[ref] = out
        if first:
            task = asyncio.get_running_loop().create_task(self._late_edit(ref, seconds))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _late_edit(self, ref: MessageRef, seconds: float) -> None:
        await asyncio.sleep(seconds)
        out = self._late_edits.pop(ref, None)
        if out is None:
            return
        try:
            await self.edit(ref, out)
        except Exception:
            log.warning("a late edit of %s failed", ref.chat.key, exc_info=True)

    async def close(self) -> None:
        """Drop edits still waiting (shutdown)."""
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        self._late_edits.clear()

    async def _insert(self, rows: list[tuple[Any, ...]]) -> int:
        """Insert delivery rows with one prepared statement (a province is 440,000 rows:
        building a model object per row would cost more than the insert itself)."""
        if not rows:
            return 0
        columns = _INSERT_COLUMNS
        if self.dialect == "postgres":
            marks = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
        else:
            marks = ", ".join("?" for _ in columns)
        sql = f'INSERT INTO "{Delivery._meta.db_table}" ({", ".join(columns)}) VALUES ({marks})'
        count = len(rows)
        await Delivery._meta.db.execute_many(sql, [list(row) for row in rows])
        rows.clear()
        return count

    async def cancel(self, batch_id: int) -> int:
        """Stop a batch: deliveries not yet being sent are cancelled. Returns how many."""
        await OutboxBatch.filter(id=batch_id, status=BatchStatus.ACTIVE).update(
            status=BatchStatus.CANCELLED, finished_at=self.clock.now()
        )
        return await Delivery.filter(batch_id=batch_id, status=DeliveryStatus.PENDING).update(
            status=DeliveryStatus.CANCELLED, locked_by=None, locked_until=None
        )

    async def batch(self, batch_id: int) -> OutboxBatch | None:
        return await OutboxBatch.get_or_none(id=batch_id)

    async def report(self, batch_id: int) -> BatchReport:
        batch = await OutboxBatch.get(id=batch_id)
        rows = (
            await Delivery.filter(batch_id=batch_id)
            .annotate(n=Count("id"))
            .group_by("platform", "region_code", "status")
            .values("platform", "region_code", "status", "n")
        )
        counts = {
            (str(r["platform"]), str(r["region_code"] or ""), str(r["status"])): int(r["n"])
            for r in rows
        }
        return BatchReport(batch_id, batch.status, counts)

    # --- draining --------------------------------------------------------------------

    async def run_forever(self) -> None:
        """The worker loop, run in the App's TaskGroup."""
        backoff = Backoff(first=self.settings.poll_interval)
        rounds = Rounds()
        while True:
            self._wakeup.clear()
            wait = self.settings.poll_interval
            try:
                await rounds.run(self.run_due)
                backoff.reset()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # A database outage: wait longer each time, keep the loop alive.
                self.metrics.note_error(exc, "outbox")
                wait = backoff.next()
                log.exception("outbox loop failed; retrying in %.1fs", wait)
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for returns normally when
            # the wait ends (a wake-up) just as the task is cancelled, swallowing the
            # cancellation, and this loop then never ends (the App's stop hung on it).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wakeup.wait()

    async def run_due(self, limit: int | None = None) -> int:
        """Send every delivery due now (waiting out short pauses); returns how many rows
        reached an outcome."""
        done = 0
        async with self._lock:
            await self._recover()
            idle = 0
            while limit is None or done < limit:
                size = self.settings.chunk_size
                if limit is not None:
                    size = min(size, limit - done)
                rows = await self._claim(size)
                if rows:
                    idle = 0
                    done += await self._drain(rows)
                    await self._progress({r.batch_id for r in rows})
                    # A small batch finished alongside a big one is reported now, not
                    # when the big one is done hours later.
                    await self._finish_batches()
                    continue
                wait = await self._soon()
                idle += 1
                if wait is None or idle > 3:
                    break
                await self.timer.sleep(wait)
            await self._finish_batches()
        return done

    async def _recover(self) -> None:
        """Rows left ``sending`` by a dead process: maybe sent, so never sent again."""
        stale = await Delivery.filter(
            status=DeliveryStatus.SENDING, locked_until__lt=self.clock.now()
        ).update(status=DeliveryStatus.UNKNOWN, last_error=INTERRUPTED, locked_until=None)
        if stale:
            log.warning("outbox: %d deliveries were interrupted mid-send; not retried", stale)

    async def _claim(self, size: int) -> list[Claimed]:
        """Lease up to ``size`` due rows: one statement per active batch, each taking a
        share, so a reminder to ten people isn't stuck behind a province-wide broadcast
        that takes hours at the platform's pace."""
        now = self.clock.now()
        self._claims += 1
        token = f"{self.worker_id}:{self._claims}"
        until = now + timedelta(seconds=self.settings.lease_seconds)
        batches = await _sql.active_batches()
        share = max(1, -(-size // max(1, len(batches))))
        rows: list[Claimed] = []
        for batch_id in batches:
            rows += await _sql.claim(self.dialect, batch_id, token, until, now, share)
        rows.sort(key=lambda row: row.id)
        return rows

    async def _soon(self) -> float | None:
        """Seconds until the next unclaimed row falls due, if that is soon (a short 429)."""
        now = self.clock.now()
        horizon = now + timedelta(seconds=self.settings.inline_wait_seconds)
        row = (
            await Delivery.filter(
                Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=horizon)
                & (Q(locked_until__isnull=True) | Q(locked_until__lt=now))
            )
            .order_by("next_attempt_at")
            .first()
        )
        if row is None:
            return None
        return max(0.0, (row.next_attempt_at - now).total_seconds())

    def pace(self, platform: str) -> Pace | None:
        adapter = self.adapters.get(platform)
        if adapter is None:
            return None
        pace = self._paces.get(platform)
        if pace is None:
            limits: RateLimits = adapter.rate_limits()
            override = self.settings.rate_limits.get(platform)
            if override:
                limits = replace(limits, **override)
            pace = self._paces[platform] = Pace(limits)
        return pace

    def _shared_rates(
        self, platform: str, pace: Pace, chat: str, is_group: bool
    ) -> list[SharedRate]:
        """The rates this send must keep across worker processes: its group's, then the
        platform's overall one. None on SQLite (one process) or in simulated time."""
        if (
            self.dialect != "postgres"
            or not self.settings.shared_rate
            or not isinstance(self.timer, RealTimer)
        ):
            return []
        rates = []
        if is_group and pace.limits.per_group_per_minute < 1e6:
            key = f"{platform}:{chat}"
            rate = self._shared.get(key)
            if rate is None:
                if len(self._shared) > 10_000:
                    self._shared = {k: v for k, v in self._shared.items() if ":" not in k}
                rate = self._shared[key] = SharedRate(
                    key,
                    pace.limits.per_group_per_minute,
                    self.timer,
                    unit=60.0,
                    clock=self._db_clock,
                )
            rates.append(rate)
        if pace.limits.overall_per_second < 1e6:
            rate = self._shared.get(platform)
            if rate is None:
                rate = self._shared[platform] = SharedRate(
                    platform, pace.limits.overall_per_second, self.timer, clock=self._db_clock
                )
            rates.append(rate)
        return rates

    async def _shared_slot(self, platform: str, pace: Pace, chat: str, is_group: bool) -> None:
        """Wait for this send's slots on the shared schedules: its group's, then the
        overall one; if the group's slot passed meanwhile, both are taken again. If the
        database cannot answer, the process's own pace still holds."""
        rates = self._shared_rates(platform, pace, chat, is_group)
        try:
            while rates:
                held = [(rate, await rate.wait()) for rate in rates]
                now = self.timer.monotonic()
                if all(rate.usable(at, now) for rate, at in held):
                    return
                for rate, at in held:
                    rate.late += not rate.usable(at, now)
        except asyncio.CancelledError:
            raise
        except Exception:
            now = self.timer.monotonic()
            if now - self._shared_warned > 60:
                self._shared_warned = now
                log.warning(
                    "shared rate of %s unavailable; pacing this process alone",
                    platform,
                    exc_info=True,
                )

    async def _message(self, batch_id: int) -> Outgoing | None:
        out = self._messages.get(batch_id)
        if out is None:
            batch = await OutboxBatch.get_or_none(id=batch_id)
            if batch is None:
                return None
            if len(self._messages) > 64:
                self._messages.clear()
                self._cids.clear()
                self._where.clear()
            out = self._messages[batch_id] = load_message(batch.message)
            self._cids[batch_id] = str(batch.meta.get("cid") or "") or None
            thread, reply_to = batch.meta.get("thread"), batch.meta.get("reply_to")
            self._where[batch_id] = (
                str(thread) if thread else None,
                str(reply_to) if reply_to else None,
            )
        return out

    def _context(self, row: Claimed) -> contextvars.Context:
        """A send's context: its own scope, under the id of the update that enqueued it."""
        context = contextvars.copy_context()
        context.run(enter, "delivery", row.platform, self._cids.get(row.batch_id))
        return context

    async def _drain(self, rows: list[Claimed]) -> int:
        """Send claimed rows at the platform's pace, up to ``concurrency`` at a time.

        Rows go out in waves: one statement records the sends answered since the last wave
        as ``sent`` and marks the next wave ``sending`` (durably, before any of it is
        sent). So the rows in ``sending`` are never more than ``concurrency``, whatever
        moment the process dies, and a wave costs one database round trip."""
        queue = [_Queued(0.0, i, row) for i, row in enumerate(rows)]  # sorted: a heap
        seq = len(queue)
        tasks: set[asyncio.Task[int]] = set()
        finished: list[asyncio.Task[int]] = []
        settled = asyncio.Event()
        sent: list[int] = []
        done = 0
        limit = max(1, self.settings.concurrency)

        def requeue(row: Claimed, ready: float) -> None:
            nonlocal seq
            heapq.heappush(queue, _Queued(ready, seq, row))
            seq += 1

        def on_done(task: asyncio.Task[int]) -> None:
            finished.append(task)
            settled.set()

        async def settle() -> None:
            nonlocal done
            if not finished:
                settled.clear()
                await settled.wait()
            results = list(finished)
            finished.clear()
            for task in results:
                tasks.discard(task)
            for task in results:
                done += task.result()

        try:
            while queue or tasks:
                if finished:
                    await settle()
                now = self.timer.monotonic()
                free = limit - len(tasks)
                wave: list[tuple[Claimed, Pace, Outgoing, str, bool]] = []
                chats: set[str] = set()
                while queue and queue[0].ready <= now and len(wave) < free:
                    row = heapq.heappop(queue).row
                    pace = self.pace(row.platform)
                    out = await self._message(row.batch_id)
                    if pace is None or out is None:
                        why = f"no adapter for platform {row.platform!r}" if out else "no batch"
                        done += await self._retry_later(row, why)
                        continue
                    chat = pace_key(row.chat_kind, row.target)
                    is_group = row.chat_kind == ChatKind.GROUP.value
                    wait = pace.chat_wait(chat, is_group, now)
                    if chat in chats:
                        requeue(row, now + max(wait, pace.chat.interval, _TICK))
                    elif wait > self.settings.inline_wait_seconds:
                        await self._release(row, wait)
                    elif wait > 0:
                        # At least a tick: a wait below float precision would spin.
                        requeue(row, now + max(wait, _TICK))
                    else:
                        chats.add(chat)
                        wave.append((row, pace, out, chat, is_group))
                if wave:
                    for row, pace, out, chat, is_group in await self._mark(wave, sent):
                        now = self.timer.monotonic()
                        shared = pace.shared_wait(is_group, now)
                        if shared > 0:
                            await self.timer.sleep(shared)
                        pace.take(chat, is_group, self.timer.monotonic())
                        task = asyncio.create_task(
                            self._deliver(row, out, pace, chat, requeue, sent),
                            context=self._context(row),
                        )
                        tasks.add(task)
                        task.add_done_callback(on_done)
                elif tasks:
                    await settle()
                elif queue:
                    await self._record_sent(sent)
                    await self.timer.sleep(max(queue[0].ready - now, 0.0))
        finally:
            if tasks:
                # Cancelled mid-drain (shutdown): let in-flight sends record their outcome.
                results = await asyncio.gather(*tasks, return_exceptions=True)
                done += sum(r for r in results if isinstance(r, int))
            await self._record_sent(sent)
        return done

    async def _mark(
        self, wave: list[tuple[Claimed, Pace, Outgoing, str, bool]], sent: list[int]
    ) -> list[tuple[Claimed, Pace, Outgoing, str, bool]]:
        """Record ``sent`` and mark ``wave`` ``sending``, in one statement; rows cancelled
        or taken over since the claim are left out."""
        token = wave[0][0].locked_by
        answered = list(sent)
        sent.clear()
        now = self.clock.now()
        until = now + timedelta(seconds=self.settings.send_timeout)
        ids = [item[0].id for item in wave]
        marked = await _sql.mark_wave(self.dialect, token, ids, answered, now, until)
        if len(marked) != len(ids):
            # Pending rows of ours left out belong to a batch cancelled since the claim
            # (a row back from a 429 or a retry, say).
            await Delivery.filter(
                id__in=[i for i in ids if i not in marked],
                locked_by=token,
                status=DeliveryStatus.PENDING,
            ).update(status=DeliveryStatus.CANCELLED, locked_by=None, locked_until=None)
        kept = []
        for item in wave:
            if item[0].id in marked:
                item[0].attempts += 1
                kept.append(item)
        return kept

    async def _record_sent(self, sent: list[int]) -> None:
        if sent:
            ids = list(sent)
            sent.clear()
            await _sql.record_sent(self.dialect, ids, self.clock.now())

    async def _deliver(
        self,
        row: Claimed,
        out: Outgoing,
        pace: Pace,
        chat: str,
        requeue: Callable[[Claimed, float], None],
        sent: list[int],
    ) -> int:
        adapter = self.adapters[row.platform]
        # The slots shared with other workers are waited for here, in the send's own
        # task, so nothing comes between the slot and the request.
        await self._shared_slot(row.platform, pace, chat, row.chat_kind == ChatKind.GROUP.value)
        try:
            if row.chat_kind == ChatKind.DM.value:
                send = adapter.send_dm(UserRef(row.platform, row.target), out)
            else:
                thread, reply_to = self._where.get(row.batch_id, (None, None))
                kind = ChatKind.GROUP if row.chat_kind == ChatKind.GROUP.value else ChatKind.DM
                where = ChatRef(row.platform, row.target, kind, thread=thread)
                send = adapter.send(
                    where,
                    out,
                    reply_to=MessageRef(where, reply_to) if reply_to else None,
                )
            async with asyncio.timeout(self.settings.send_timeout):  # no extra task
                await send
        except RetryAfter as exc:
            self.metrics.rate_limit(row.platform)
            self._outcome(row, DeliveryResult.DEFERRED)
            pace.pause(chat, exc.seconds, self.timer.monotonic())
            # Not sent: the platform refused before delivering. Only this chat waits. (A
            # row of a batch cancelled meanwhile is cancelled when its next wave is marked.)
            await Delivery.filter(id=row.id, status=DeliveryStatus.SENDING).update(
                status=DeliveryStatus.PENDING,
                attempts=F("attempts") - 1,
                last_error=str(exc)[:500],
            )
            row.attempts -= 1
            if exc.seconds <= self.settings.inline_wait_seconds:
                requeue(row, self.timer.monotonic() + exc.seconds)
                return 0
            await self._release(row, exc.seconds)
            return 0
        except DeliveryUnknown as exc:
            self._outcome(row, DeliveryResult.UNKNOWN)
            await self._close(row, DeliveryStatus.UNKNOWN, str(exc))
            return 1
        except Unreachable as exc:
            self._outcome(row, DeliveryResult.UNREACHABLE)
            await self._close(row, DeliveryStatus.UNREACHABLE, str(exc))
            if row.account_id is not None:
                await Account.filter(id=row.account_id).update(dm_open=False)
            return 1
        except DeliveryError as exc:
            if exc.permanent:
                self._outcome(row, DeliveryResult.FAILED)
                await self._close(row, DeliveryStatus.FAILED, str(exc))
                return 1
            return await self._transient(row, exc)
        except TimeoutError:
            self._outcome(row, DeliveryResult.UNKNOWN)
            await self._close(row, DeliveryStatus.UNKNOWN, "timed out; " + INTERRUPTED)
            return 1
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("outbox: sending delivery %s failed", row.id)
            return await self._transient(row, exc)
        self._outcome(row, DeliveryResult.DELIVERED)
        sent.append(row.id)
        return 1

    def _outcome(self, row: Claimed, result: str) -> None:
        """Count a send's result and log it (under the enqueuing update's correlation id)."""
        self.metrics.delivery(row.platform, result)
        log.debug(
            "delivery %s of batch %s: %s",
            row.id,
            row.batch_id,
            result,
            extra={"result": result, "batch": row.batch_id},
        )

    async def _close(self, row: Claimed, status: str, error: str) -> None:
        await Delivery.filter(id=row.id, status=DeliveryStatus.SENDING).update(
            status=status, last_error=error[:500], locked_until=None
        )

    async def _transient(self, row: Claimed, exc: BaseException) -> int:
        error = f"{type(exc).__name__}: {exc}"[:500]
        if row.attempts >= self.settings.max_attempts:
            self._outcome(row, DeliveryResult.FAILED)
            await self._close(row, DeliveryStatus.FAILED, error)
            return 1
        self._outcome(row, DeliveryResult.RETRY)
        delay = min(
            self.settings.retry_base_seconds * 2 ** (row.attempts - 1),
            self.settings.retry_max_seconds,
        )
        await Delivery.filter(id=row.id, status=DeliveryStatus.SENDING).update(
            status=DeliveryStatus.PENDING,
            next_attempt_at=self.clock.now() + timedelta(seconds=delay),
            last_error=error,
            locked_by=None,
            locked_until=None,
        )
        await self._cancel_if_stopped(row)
        return 0

    async def _cancel_if_stopped(self, row: Claimed) -> None:
        """A row put back for later whose batch was cancelled meanwhile is cancelled too
        (claims only look at active batches, so it would wait forever)."""
        if await OutboxBatch.filter(id=row.batch_id, status=BatchStatus.CANCELLED).exists():
            await Delivery.filter(id=row.id, status=DeliveryStatus.PENDING).update(
                status=DeliveryStatus.CANCELLED, locked_by=None, locked_until=None
            )

    async def _retry_later(self, row: Claimed, error: str) -> int:
        await Delivery.filter(id=row.id, locked_by=row.locked_by).update(
            next_attempt_at=self.clock.now() + timedelta(seconds=self.settings.retry_base_seconds),
            last_error=error,
            locked_by=None,
            locked_until=None,
        )
        return 0

    async def _release(self, row: Claimed, seconds: float) -> None:
        """Give a claimed, unsent row back for later (a long pause on its chat)."""
        await Delivery.filter(
            id=row.id, locked_by=row.locked_by, status=DeliveryStatus.PENDING
        ).update(
            next_attempt_at=self.clock.now() + timedelta(seconds=seconds),
            locked_by=None,
            locked_until=None,
        )
        await self._cancel_if_stopped(row)

    # --- progress --------------------------------------------------------------------

    async def _progress(self, batch_ids: set[int]) -> None:
        now = self.timer.monotonic()
        for batch_id in batch_ids:
            last = self._last_progress.get(batch_id)
            if last is not None and now - last < self.settings.progress_every_seconds:
                continue
            self._last_progress[batch_id] = now
            batch = await OutboxBatch.get_or_none(id=batch_id)
            if batch is None or batch.status != BatchStatus.ACTIVE:
                continue
            callback = self._listeners.get(batch.kind)
            if callback is not None:
                await self._notify(callback, batch, await self.report(batch_id), False)

    async def _finish_batches(self) -> None:
        """Close batches with nothing left to send and tell their owner, once."""
        for batch_id in await _sql.finished_batches():
            closed = await OutboxBatch.filter(id=batch_id, status=BatchStatus.ACTIVE).update(
                status=BatchStatus.DONE, finished_at=self.clock.now()
            )
            self._last_progress.pop(batch_id, None)
            if not closed:
                continue  # another worker closed it and tells the owner
            batch = await OutboxBatch.get(id=batch_id)
            callback = self._listeners.get(batch.kind)
            if callback is not None:
                await self._notify(callback, batch, await self.report(batch_id), True)

    async def _notify(
        self, callback: ProgressCallback, batch: OutboxBatch, report: BatchReport, done: bool
    ) -> None:
        try:
            await callback(batch, report, done)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("outbox progress callback for batch %s (%s) failed", batch.id, batch.kind)
