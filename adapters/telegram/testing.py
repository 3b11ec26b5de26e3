"""A loopback fake Bot API server, for tests and benchmarks.

It listens on 127.0.0.1 on a random port and answers the methods the adapter uses, as the
real server would, so python-telegram-bot's real HTTP stack is exercised end to end. Every
call is recorded; failures (a 500, a 429 with ``retry_after``) and slow answers (the call
takes effect at once, its answer comes late: past the client's read timeout) can be
scripted; updates are queued for ``getUpdates`` or posted to a webhook.

    async with FakeBotApi() as api:
        adapter = TelegramAdapter(settings_with(api.root), ...)
        api.push_update({...})
        call = await api.wait_for("sendMessage")
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

__all__ = ["BOT_ID", "BOT_USERNAME", "TOKEN", "ApiCall", "FakeBotApi"]

TOKEN = "123456:TEST-token-abcdefghijklmnop"
BOT_ID = 123456
BOT_USERNAME = "GuyubTestBot"

_SENDS = {"sendMessage", "sendPhoto", "sendDocument", "sendPoll"}


@dataclass
class ApiCall:
    """One request the bot made: the method, its decoded parameters, when (loop time)."""

    method: str
    params: dict[str, Any]
    at: float
    status: int = 200
    result: Any = None


@dataclass
class _Failure:
    method: str
    status: int
    description: str
    retry_after: int | None
    times: int
    parameters: dict[str, Any] | None
    match: Callable[[dict[str, Any]], bool] | None


@dataclass
class _Slow:
    method: str
    seconds: float
    times: int


@dataclass
class FakeBotApi:
    """The fake server. Use as ``async with FakeBotApi() as api``."""

    token: str = TOKEN
    calls: list[ApiCall] = field(default_factory=list)
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _failures: list[_Failure] = field(default_factory=list)
    _slow: list[_Slow] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    _update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _polls: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _changed: asyncio.Condition | None = None
    _background: set[asyncio.Task[None]] = field(default_factory=set)
    _runner: web.AppRunner | None = None
    port: int = 0
    #: Group owners per chat id, as getChatMember reports them; everyone else is a member.
    chat_admins: dict[int, set[int]] = field(default_factory=dict)

    @property
    def root(self) -> str:
        """What goes in ``telegram.api_base_url``."""
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> FakeBotApi:
        self._changed = asyncio.Condition()
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        address = self._runner.addresses[0]
        self.port = int(address[1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # --- scripting -----------------------------------------------------------------------

    def push_update(self, update: Mapping[str, Any]) -> int:
        """Queue an update for getUpdates; returns its update_id (assigned if missing)."""
        data = dict(update)
        data.setdefault("update_id", next(self._update_ids))
        self._updates.append(data)
        self._notify()
        return int(data["update_id"])

    def fail(
        self,
        method: str,
        *,
        status: int = 500,
        description: str = "Internal Server Error",
        retry_after: int | None = None,
        times: int = 1,
        match: Callable[[dict[str, Any]], bool] | None = None,
        parameters: dict[str, Any] | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (matching ``match``) fail, with
        ``retry_after`` or other response ``parameters`` (``migrate_to_chat_id``)."""
        self._failures.append(
            _Failure(method, status, description, retry_after, times, parameters, match)
        )

    def slow(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Make the next ``times`` calls of ``method`` succeed at once (they are recorded as
        done, a message is "delivered") but answer only after ``seconds``."""
        self._slow.append(_Slow(method, seconds, times))

    def called(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method and c.status == 200]

    async def wait_for(
        self,
        method: str,
        match: Callable[[dict[str, Any]], bool] | None = None,
        *,
        count: int = 1,
        within: float = 10.0,
    ) -> ApiCall:
        """Wait until ``count`` successful calls of ``method`` (matching) were made; the last."""
        assert self._changed is not None

        def found() -> list[ApiCall]:
            return [c for c in self.called(method) if match is None or match(c.params)]

        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(lambda: len(found()) >= count)
        return found()[count - 1]

    # --- the server ------------------------------------------------------------------------

    def _notify(self) -> None:
        async def notify() -> None:
            assert self._changed is not None
            async with self._changed:
                self._changed.notify_all()

        task = asyncio.get_running_loop().create_task(notify())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await _params(request)
        call = ApiCall(method, params, asyncio.get_running_loop().time())
        self.calls.append(call)
        failure = self._failure_for(method, params)
        if failure is not None:
            call.status = failure.status
            self._notify()
            extra = dict(failure.parameters or {})
            if failure.retry_after:
                extra["retry_after"] = failure.retry_after
            return _error(failure.status, failure.description, extra or None)
        if method == "getUpdates":
            result: Any = await self._get_updates(params)
        else:
            result = self._result(method, params)
        call.result = result
        self._notify()
        delay = self._delay_for(method)
        if delay:
            await asyncio.sleep(delay)
        return web.json_response({"ok": True, "result": result})

    def _delay_for(self, method: str) -> float:
        for slow in self._slow:
            if slow.method == method and slow.times > 0:
                slow.times -= 1
                return slow.seconds
        return 0.0

    def _failure_for(self, method: str, params: dict[str, Any]) -> _Failure | None:
        for failure in self._failures:
            if failure.method != method or failure.times <= 0:
                continue
            if failure.match is None or failure.match(params):
                failure.times -= 1
                return failure
        return None

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        assert self._changed is not None
        offset = int(params.get("offset") or 0)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        timeout = float(params.get("timeout") or 0)
        if not self._updates and timeout > 0:
            async with self._changed:
                try:
                    async with asyncio.timeout(min(timeout, 1.0)):
                        await self._changed.wait_for(lambda: bool(self._updates))
                except TimeoutError:
                    pass
        return list(self._updates)

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "Guyub",
                "username": BOT_USERNAME,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        if method in _SENDS:
            return self._message(method, params)
        if method in ("editMessageText", "editMessageCaption", "editMessageReplyMarkup"):
            message = self._message(method, params)
            message["message_id"] = int(params.get("message_id", 0))
            return message
        if method == "getChat":
            chat_id = int(params["chat_id"])
            return {
                "id": chat_id,
                "type": "supergroup" if chat_id < 0 else "private",
                "title": "Group",
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "permissions": {"can_send_messages": True, "can_send_polls": True},
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        if method == "getChatMember":
            chat_id, user_id = int(params["chat_id"]), int(params["user_id"])
            status = "creator" if user_id in self.chat_admins.get(chat_id, set()) else "member"
            member: dict[str, Any] = {
                "status": status,
                "user": {"id": user_id, "is_bot": False, "first_name": "User"},
            }
            if status == "creator":
                member["is_anonymous"] = False
            return member
        if method == "getMyCommands":
            return []
        if method == "stopPoll":
            return {
                "id": "stopped",
                "question": "",
                "options": [],
                "total_voter_count": 0,
                "is_closed": True,
                "is_anonymous": False,
                "type": "regular",
                "allows_multiple_answers": False,
                "allows_revoting": True,
                "members_only": False,
            }
        return True

    def _message(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params.get("chat_id", 0))
        chat: dict[str, Any] = (
            {"id": chat_id, "type": "supergroup", "title": "Group"}
            if chat_id < 0
            else {"id": chat_id, "type": "private", "first_name": "User"}
        )
        message: dict[str, Any] = {
            "message_id": next(self._ids),
            "date": 1_795_000_000,
            "chat": chat,
        }
        if "message_thread_id" in params:
            message["message_thread_id"] = int(params["message_thread_id"])
            message["is_topic_message"] = True
        if "text" in params:
            message["text"] = str(params["text"])
        if "caption" in params:
            message["caption"] = str(params["caption"])
        if method == "sendPoll":
            options = params.get("options") or []
            message["poll"] = {
                "id": f"5{next(self._polls):018d}",
                "question": params.get("question", ""),
                "options": [
                    {
                        "text": o if isinstance(o, str) else o.get("text", ""),
                        "voter_count": 0,
                        "persistent_id": str(i),
                    }
                    for i, o in enumerate(options)
                ],
                "total_voter_count": 0,
                "is_closed": False,
                "is_anonymous": bool(params.get("is_anonymous", True)),
                "type": "regular",
                "allows_multiple_answers": bool(params.get("allows_multiple_answers", False)),
                "allows_revoting": True,
                "members_only": False,
            }
        if method == "sendPhoto":
            message["photo"] = [{"file_id": "p1", "file_unique_id": "u1", "width": 1, "height": 1}]
        if method == "sendDocument":
            message["document"] = {"file_id": "d1", "file_unique_id": "u2"}
        return message


def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


async def _params(request: web.Request) -> dict[str, Any]:
    """Decode what PTB sends: form fields whose values are JSON, or multipart with files."""
    out: dict[str, Any] = {}
    if request.content_type == "application/json":
        data = await request.json()
        return dict(data) if isinstance(data, dict) else {}
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        async for part in reader:
            name = getattr(part, "name", None)
            if not name:
                continue
            if getattr(part, "filename", None):
                out[name] = {"filename": part.filename, "size": len(await part.read())}  # type: ignore[union-attr]
            else:
                out[name] = _value(await part.text())  # type: ignore[union-attr]
        return out
    form = await request.post()
    for key, value in form.items():
        out[key] = _value(value if isinstance(value, str) else str(value))
    return out


def _value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw
