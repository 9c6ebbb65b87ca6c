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
#: The key of ``scope["state"]`` where the fault layer says what it named and fired:
#: ``{"operation": ..., "fault": "rule:<id>" | "scenario:<name>" | None}``.
STATE_KEY = "zstack_mock"


def fault_layer_note(scope: Scope) -> dict[str, Any] | None:
    """What the fault layer wrote in ``scope["state"]`` about this request; None if it did not see it."""
    state = scope.get("state")
    note = state.get(STATE_KEY) if isinstance(state, dict) else None
    return note if isinstance(note, dict) else None


def fault_fired(scope: Scope) -> str | None:
    """What the fault layer fired on this request (``rule:<id>``, ``scenario:<name>``); None if nothing,
    or if there is no fault layer."""
    fault = (fault_layer_note(scope) or {}).get("fault")
    return fault if isinstance(fault, str) else None


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
