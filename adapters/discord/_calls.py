"""Which Discord REST failures leave a send's outcome unknown.

discord.py retries a 500/502/504/524 answer up to five times, whatever the request; for a
message create that can post the same message several times. A trace hook on its HTTP
session stops that for non-idempotent ``POST`` requests: a 5xx answer to one raises
:class:`AmbiguousAnswer` at once, and the adapter reports the send as
:class:`core.DeliveryUnknown`. A timeout or a connection dropped after the request was
written is unknown too; only a connection that could not be made is safely retried.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace

import aiohttp

__all__ = ["AmbiguousAnswer", "never_sent", "send_trace", "unknown_outcome"]

log = logging.getLogger("adapters.discord")

#: POST routes that are safe to repeat: opening a DM returns the same channel.
_REPEATABLE = ("/users/@me/channels",)


class AmbiguousAnswer(Exception):
    """Discord answered a non-idempotent request with a server error: it may have run."""

    def __init__(self, method: str, path: str, status: int) -> None:
        super().__init__(f"Discord answered {method} {path} with {status}")
        self.status = status


async def _on_request_end(
    _session: aiohttp.ClientSession,
    _context: SimpleNamespace,
    params: aiohttp.TraceRequestEndParams,
) -> None:
    status = params.response.status
    path = params.url.path
    if params.method != "POST" or status < 500 or path.endswith(_REPEATABLE):
        return
    params.response.release()
    log.warning("Discord answered POST %s with %d; not retried (outcome unknown)", path, status)
    raise AmbiguousAnswer(params.method, path, status)


def send_trace() -> aiohttp.TraceConfig:
    """The trace config to give discord.py's client (``http_trace``)."""
    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(_on_request_end)
    return trace


def never_sent(exc: BaseException) -> bool:
    """The connection could not be made: Discord never saw the request."""
    return isinstance(exc, aiohttp.ClientConnectorError)


def unknown_outcome(exc: BaseException) -> bool:
    """The request may have reached Discord (and been acted on) without an answer."""
    if never_sent(exc):
        return False
    return isinstance(
        exc,
        AmbiguousAnswer
        | TimeoutError
        | aiohttp.ServerDisconnectedError
        | aiohttp.ClientOSError
        | aiohttp.ClientPayloadError,
    )
