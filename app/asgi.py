"""ASGI types, the tenant's scope key, and the one body-buffering helper the pure-ASGI layers share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Where the sandbox layer puts the request's tenant (an ``app.instance.Instance``) in the ASGI scope.
TENANT_SCOPE_KEY = "zstack_mock.instance"


async def buffer_body(receive: Receive, limit: int) -> tuple[bytes, Receive]:
    """The request body (its first ``limit`` bytes and a little more if longer: the app answers those
    413), and a ``receive`` that hands the app what was read as one message, then the rest."""
    chunks: list[bytes] = []
    size = 0
    more = False
    last: Message | None = None
    while True:
        message = await receive()
        if message["type"] != "http.request":
            last = message
            break
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        more = bool(message.get("more_body", False))
        if not more or size > limit:
            break
    body = b"".join(chunks)
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": more}]
    if last is not None:
        pending = [last]

    async def replay() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return body, replay
