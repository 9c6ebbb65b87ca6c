"""The request journal's ASGI layer: copies every ``/zstack/`` request and its answer into the journal.

It is the outermost layer for the ZStack API, outside the fault layer, so it records what a client
really got: an injected error, a delay, a cut connection. It reads the request body before the
app does (and hands it on unchanged), so a body is recorded even when a fault answers before the
app reads it; it watches ``send`` for the status and the first few KB of the answer. The entry is
handed to the journal just before the last byte of the answer goes out, so a client that has its
answer can always find it in ``GET /_mock/requests``.

What fired is read from ``scope["state"]["zstack_mock"]["fault"]`` (``rule:<id>`` or
``scenario:<name>``), which the fault layer sets; without that layer it is simply absent.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..asgi import ASGIApp, Message, Receive, Scope, Send, fault_fired
from .exchange import RESPONSE_LIMIT, Exchange
from .recorder import Journal

#: Read ahead of the app at most this much; a longer body streams through, and only its start is kept.
READ_AHEAD = 64 * 1024


class JournalMiddleware:
    def __init__(self, app: ASGIApp, journal_for: Callable[[Scope], Journal]) -> None:
        self.app = app
        #: The request's journal: its sandbox tenant's, or the server's own.
        self.journal_for = journal_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/zstack/"):
            await self.app(scope, receive, send)
            return
        journal = self.journal_for(scope)
        started = time.perf_counter()
        create_date = journal.now()
        body, first, body_size = await _read_ahead(receive, scope)
        exchange = Exchange(
            create_date=create_date,
            method=scope["method"],
            path=scope["path"],
            query=scope.get("query_string", b""),
            headers=scope["headers"],
            body=body[:READ_AHEAD],
            body_size=body_size,
        )
        recorded = False

        def record() -> None:
            nonlocal recorded
            recorded = True
            exchange.duration_ms = (time.perf_counter() - started) * 1000
            exchange.fault = fault_fired(scope)
            journal.record(exchange)

        async def replay() -> Message:
            nonlocal first
            if first is not None:
                message, first = first, None
                return message
            return await receive()

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.status = message["status"]
                for name, value in message.get("headers", ()):
                    if name.lower() == b"content-type":
                        exchange.content_type = value
            elif message["type"] == "http.response.body":
                chunk = message.get("body", b"")
                if len(exchange.response) < RESPONSE_LIMIT:
                    exchange.response += chunk[: RESPONSE_LIMIT - len(exchange.response)]
                exchange.response_size += len(chunk)
                if not message.get("more_body", False) and not recorded:
                    exchange.complete = True
                    record()
            await send(message)

        try:
            await self.app(scope, replay, watch)
        finally:
            if not recorded:
                record()


async def _read_ahead(receive: Receive, scope: Scope) -> tuple[bytes, Message | None, int]:
    """(the body read, the message to hand the app first, the body's size).

    The app gets the body read ahead as one ``http.request`` message (``more_body`` set if the rest
    is still to come), then the real channel.
    """
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), message if not chunks else _joined(chunks, more=False), size
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        more = bool(message.get("more_body", False))
        if not more:
            if len(chunks) == 1:
                return chunk, message, size  # nearly every request: one message, handed on as it came
            body = b"".join(chunks)
            return body, {"type": "http.request", "body": body, "more_body": False}, size
        if size > READ_AHEAD:
            declared = _content_length(scope)
            return b"".join(chunks), _joined(chunks, more=True), max(size, declared)


def _joined(chunks: list[bytes], *, more: bool) -> Message:
    return {"type": "http.request", "body": b"".join(chunks), "more_body": more}


def _content_length(scope: Scope) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit():
            return int(value)
    return 0
