"""Faults on the connection itself: resets, silent closes, cut or malformed bodies, dribbles, hangs.

ASGI gives an app no handle on its socket, so ``serve`` runs uvicorn with ``WireFaultProtocol``,
which hands each request's transport to the app in ``scope["extensions"]``. Without it (an
in-process client, another server) a fault that needs the socket raises ``ConnectionResetError``
or ``ConnectionAbortedError`` into the caller's transport instead: the nearest thing to a cut
connection a client without a socket can see.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .spec import WireSpec

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

TRANSPORT_EXTENSION = "zstack_mock.transport"


class WireFaultProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, plus the request's transport in ``scope["extensions"]``."""

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.scope["extensions"] = {TRANSPORT_EXTENSION: self.transport}  # type: ignore[dict-item]


async def strike(
    spec: WireSpec, app: ASGIApp, scope: Scope, receive: Receive, send: Send, *, max_seconds: float
) -> None:
    """``max_seconds`` bounds a hang, and a dribble (the rest of the body goes at once)."""
    if spec.kind in ("reset", "close", "hang"):
        if spec.after_handling:
            await _capture(app, scope, receive)
        if spec.kind == "hang":
            await _until_disconnect(receive, min(spec.seconds, max_seconds))
        await _cut(scope, receive, reset=spec.kind == "reset")
        return
    start, body = await _capture(app, scope, receive)
    if spec.kind == "malformed":
        cut = body[: max(1, len(body) * 2 // 3)] if body else b"{"
        await send(_with_length(start, len(cut)))
        await send({"type": "http.response.body", "body": cut, "more_body": False})
    elif spec.kind == "truncate":
        await send(start)
        await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
        await _cut(scope, receive, reset=False)
    else:  # dribble
        await send(start)
        deadline = asyncio.get_running_loop().time() + max_seconds
        offset = 0
        while offset < len(body):
            if offset:
                await asyncio.sleep(spec.interval_seconds)
            size = spec.chunk_bytes if asyncio.get_running_loop().time() < deadline else len(body)
            await send({"type": "http.response.body", "body": body[offset: offset + size], "more_body": True})
            offset += size
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _capture(app: ASGIApp, scope: Scope, receive: Receive) -> tuple[Message, bytes]:
    """Run the app to the end and keep its answer instead of sending it."""
    start: Message = {"type": "http.response.start", "status": 500, "headers": []}
    chunks: list[bytes] = []

    async def keep(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, keep)
    return start, b"".join(chunks)


def _with_length(start: Message, length: int) -> Message:
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
    return {**start, "headers": [*headers, (b"content-length", str(length).encode())]}


async def _until_disconnect(receive: Receive, seconds: float) -> None:
    async def wait() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(wait(), seconds)


async def _cut(scope: Scope, receive: Receive, *, reset: bool) -> None:
    transport = scope.get("extensions", {}).get(TRANSPORT_EXTENSION)
    if transport is None:
        raise (ConnectionResetError if reset else ConnectionAbortedError)(
            "zstack-mock wire fault: the connection was " + ("reset" if reset else "closed without an answer")
        )
    if reset:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # Linger 0: closing sends RST instead of FIN.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()
    # Wait for uvicorn to see the connection go, so it does not answer the unanswered request with a 500.
    await _until_disconnect(receive, 1.0)
