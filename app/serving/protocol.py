"""uvicorn's httptools protocol with the bounds uvicorn lacks: the size of a request's head and the time to
send it, an answer in the API's shape when the server is full, and a quiet stop of what SIGTERM cuts short.

A request's head (request line and headers) is fed to the parser in pieces that never take it past
``max_header_bytes``: one byte more is answered 431 and the connection closed before anything reaches the
app (httptools would otherwise buffer a header of any size). The head must be complete within
``header_timeout`` of its first byte (or of the connection, for the first request): a client that has sent
part of one gets 408, one that has sent nothing is closed. A request's body may not pause longer than
``header_timeout`` either (unless the app is not reading it yet): the connection is then closed. A
connection is closed at once when twice ``max_connections`` are open, so that a flood cannot exhaust the
file descriptors.

Beyond ``max_connections`` a request is answered 503 in the API's error shape. uvicorn's own
``limit_concurrency`` would count every open connection, those still sending their first head too, so a
slowloris alone would turn every visitor away, and it answers in plain text; here a connection counts once it
has sent a complete head (a client, not a slow attempt at one), and requests in progress count too.
"""

from __future__ import annotations

import asyncio
from asyncio import TimerHandle
from typing import Any

import orjson
import uvicorn
from uvicorn.server import ServerState

from ..admin_token import is_control_path
from ..asgi import ASGIApp, Receive, Scope, Send
from ..faults.wire import WireFaultProtocol
from ..limits import BY_NAME
from ..security_headers import API_POLICY
from ..zstack.errors import INVALID_ARGUMENT, OPERATION_FAILED, ErrorCode, ZStackError

#: Where a server's connections that have sent a complete head are kept, on uvicorn's shared server state.
_ENGAGED = "zstack_mock_engaged"

_SECURITY_HEADERS = b"x-content-type-options: nosniff\r\ncontent-security-policy: " + API_POLICY.encode() + b"\r\n"


class BoundedConfig(uvicorn.Config):
    """uvicorn's configuration, plus the bounds ``BoundedHttpProtocol`` enforces."""

    def __init__(
        self, app: Any, *, max_header_bytes: int, header_timeout: float, max_connections: int, **kwargs: Any
    ) -> None:
        super().__init__(app, **kwargs)
        self.max_header_bytes = max_header_bytes
        self.header_timeout = header_timeout
        self.max_connections = max_connections


class BoundedHttpProtocol(WireFaultProtocol):
    def __init__(
        self,
        config: uvicorn.Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        # A plain uvicorn.Config gets the local profile's bounds.
        self.max_header_bytes = int(getattr(config, "max_header_bytes", BY_NAME["max_header_bytes"].local))
        self.header_timeout = float(getattr(config, "header_timeout", BY_NAME["header_timeout"].local))
        self.max_connections = int(getattr(config, "max_connections", BY_NAME["max_connections"].local))
        self.limit_concurrency = None  # replaced by the check in on_headers_complete
        engaged: set[BoundedHttpProtocol] | None = getattr(server_state, _ENGAGED, None)
        if engaged is None:
            engaged = set()
            setattr(server_state, _ENGAGED, engaged)
        self.engaged = engaged
        self.overloaded = False
        self.reading_head = True
        self.reading_body = False
        self.head_bytes = 0
        self.bytes_seen = False
        self.timer: TimerHandle | None = None
        self.stopping = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > 2 * self.max_connections:
            transport.abort()
            return
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self.engaged.discard(self)
        self._cancel_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        # Never more than max_header_bytes at once: a head that starts inside a piece (a pipelined
        # request) is counted from the next piece, so it is still bounded by twice the limit.
        while data and not self.transport.is_closing():
            if not self.reading_head:
                if self.reading_body:
                    self._cancel_timer()
                    self._arm_body_timer()
                piece, data = data[: self.max_header_bytes], data[self.max_header_bytes:]
                super().data_received(piece)
                continue
            self.bytes_seen = True
            self._arm_head_timer()
            room = self.max_header_bytes - self.head_bytes
            if room <= 0:
                self._refuse_head(431, "Request Header Fields Too Large",
                                  f"the request line and headers exceed {self.max_header_bytes} bytes")
                return
            piece, data = data[:room], data[room:]
            self.head_bytes += len(piece)
            super().data_received(piece)

    def on_headers_complete(self) -> None:
        self.reading_head = False
        self.reading_body = True
        self.head_bytes = 0
        self._cancel_timer()
        self.engaged.add(self)
        self.overloaded = len(self.engaged) > self.max_connections or len(self.tasks) >= self.max_connections
        super().on_headers_complete()
        self._arm_body_timer()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._cancel_timer()
        self.reading_head = True
        self.reading_body = False
        self.bytes_seen = False

    def send_400_response(self, msg: str) -> None:
        self._refuse_head(400, "Bad Request", msg)

    def shutdown(self) -> None:
        self.stopping = True
        self._cancel_timer()
        super().shutdown()

    def _start_asgi_task(self, cycle: Any, app: Any) -> None:
        if self.overloaded:
            app = _overloaded(self.max_connections)
        super()._start_asgi_task(cycle, self._quiet_when_stopped(cycle, app))  # type: ignore[arg-type]

    def _quiet_when_stopped(self, cycle: Any, app: ASGIApp) -> ASGIApp:
        """The app, but a request SIGTERM's grace period cuts short ends with its connection closed,
        not a traceback in the log and a 500."""

        async def run(scope: Scope, receive: Receive, send: Send) -> None:
            try:
                await app(scope, receive, send)
            except asyncio.CancelledError:
                if not self.stopping:
                    raise
                cycle.disconnected = True
                self.transport.close()

        return run

    def _arm_head_timer(self) -> None:
        if self.timer is None:
            self.timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _arm_body_timer(self) -> None:
        if self.timer is None and self.reading_body:
            self.timer = self.loop.call_later(self.header_timeout, self._body_stalled)

    def _body_stalled(self) -> None:
        self.timer = None
        if self.transport.is_closing() or not self.reading_body:
            return
        waiting_for_us = self.cycle is not None and self.cycle.waiting_for_100_continue
        if self.flow.read_paused or waiting_for_us:  # the app has not read what came: the client is not stalling
            self._arm_body_timer()
        else:
            self.transport.close()

    def _cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _head_timed_out(self) -> None:
        self.timer = None
        if self.transport.is_closing():
            return
        if self.bytes_seen:
            self._refuse_head(408, "Request Timeout",
                              f"the request line and headers were not complete within {self.header_timeout:g} s")
        else:
            self.transport.close()

    def _refuse_head(self, status: int, reason: str, message: str) -> None:
        """An answer written by the connection itself, then the connection closed: plain text, or the
        control API's ``{"error": ...}`` for a path under ``/_mock``. Written before the request reached
        the app, or when its body turns out malformed before the app answered (the app's answer then
        goes nowhere); while an earlier request's answer is still being sent, only the close."""
        self._cancel_timer()
        current = self.cycle
        unanswered = current is not None and not current.response_started and not self.pipeline
        if current is None or current.response_complete or unanswered:
            if unanswered and current is not None:
                current.disconnected = True
            content_type, body = self._refusal(message)
            self.transport.write(
                b"HTTP/1.1 %d %s\r\ncontent-type: %s\r\ncontent-length: %d\r\n"
                b"connection: close\r\n%s\r\n%s"
                % (status, reason.encode(), content_type, len(body), _SECURITY_HEADERS, body)
            )
        self.transport.close()

    def _refusal(self, message: str) -> tuple[bytes, bytes]:
        """(content type, body) of a refusal of the request whose URL has been read so far."""
        path = getattr(self, "url", b"").partition(b"?")[0].decode("latin-1")
        if is_control_path(path):
            error = ErrorCode(code=INVALID_ARGUMENT, details=message)
            return b"application/json; charset=utf-8", orjson.dumps({"error": error.to_json()})
        return b"text/plain; charset=utf-8", message.encode("latin-1", "replace")


def _overloaded(max_connections: int) -> ASGIApp:
    """What uvicorn answers beyond its concurrency limit, in the API's error shape."""
    error = ErrorCode(
        code=OPERATION_FAILED,
        details=f"Too many connections: this server serves at most {max_connections} at once; try again later",
    )
    headers = {"Retry-After": "1", "Connection": "close", "X-Content-Type-Options": "nosniff",
               "Content-Security-Policy": API_POLICY}
    return ZStackError(error, headers=headers).response()
