"""The observing layer: times every HTTP request, counts it in the server's metrics and logs its line.

It is the outermost layer, so what it sees is what the client got: a sandbox's 429, an injected
fault, a cut connection (no status). What fired comes from the fault layer (``app.asgi.fault_fired``).
The operation is the ZStack API's name for a ``/zstack/`` call, as the journal and the fault rules
name it (an RPC call's name is in its body: the layer keeps a copy of the first bytes the app reads,
never reading ahead of it), else the template of the route that answered (``/_mock/jobs/{uuid}``, ``/docs-assets/{path}``).
"""

from __future__ import annotations

import logging
import time

from ..asgi import ASGIApp, Message, Receive, Scope, Send, fault_fired, fault_layer_note
from ..catalogue import BY_NAME
from ..catalogue.calls import ZStackCall
from .metrics import NO_OPERATION, NO_STATUS, UNKNOWN_API, ServerMetrics, fault_label, method_label
from .request_log import log_request, request_logger

#: An RPC call's name is read from its body (as JSON, so a longer body has none): the journal's read-ahead.
RPC_BODY_KEPT = 64 * 1024
_RPC_PREFIX = "/zstack/api"


class ObserveMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: ServerMetrics | None, log: bool) -> None:
        self.app = app
        self.metrics = metrics
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: int | None = None
        body = bytearray()
        if scope["path"].startswith(_RPC_PREFIX):
            inner_receive = receive

            async def receive() -> Message:
                message = await inner_receive()
                if message["type"] == "http.request" and len(body) < RPC_BODY_KEPT:
                    body.extend(message.get("body", b"")[: RPC_BODY_KEPT - len(body)])
                return message

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            if status is None:
                status = 500  # what the server's last resort answers
            raise
        finally:
            self._done(scope, status, time.perf_counter() - started, bytes(body))

    def _done(self, scope: Scope, status: int | None, seconds: float, body: bytes) -> None:
        operation = operation_of(scope, body)
        fault = fault_fired(scope)
        if self.metrics is not None:
            self.metrics.observe(
                method_label(scope["method"]), operation_label(scope, operation),
                NO_STATUS if status is None else str(status), fault_label(fault), seconds,
            )
        if self.log and request_logger.isEnabledFor(logging.INFO):
            client = scope.get("client")
            raw_path = scope.get("raw_path")
            log_request(
                client=f"{client[0]}:{client[1]}" if client else None,
                method=scope["method"],
                path=raw_path.decode("ascii", "backslashreplace") if raw_path else _quoted(scope["path"]),
                operation=operation, status=status, duration_ms=seconds * 1000, fault=fault,
            )


def operation_of(scope: Scope, body: bytes) -> str | None:
    """The API's name for a ``/zstack/`` call, else the route's template; None when nothing matched."""
    path: str = scope["path"]
    if path.startswith("/zstack/"):
        note = fault_layer_note(scope)
        if note is not None and "operation" in note:
            operation: str | None = note["operation"]
            return operation
        return ZStackCall(method=scope["method"], path=path, headers={}, body=body).operation
    template = getattr(scope.get("route"), "path", None)
    if isinstance(template, str):
        return template
    if "app_root_path" in scope:  # a mount (the docs' static files): its prefix is the root path
        return f"{scope.get('root_path', '')}/{{path}}"
    return None


def operation_label(scope: Scope, operation: str | None) -> str:
    """The metrics' label, from a bounded set: a catalogue API's name, a route's template, or
    ``UNKNOWN_API`` for an RPC body naming a message no API serves (its name is the client's text)."""
    if operation is None:
        return NO_OPERATION
    if scope["path"].startswith("/zstack/") and operation not in BY_NAME:
        return UNKNOWN_API
    return operation


def _quoted(path: str) -> str:
    """A decoded path (no ``raw_path`` in the scope) with its control characters escaped."""
    return path.encode("unicode_escape").decode("ascii")
