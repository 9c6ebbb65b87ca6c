"""A webhook receiver on loopback and a poller that behaves like the Java and Go SDKs."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import httpx

JOBS_MARKER = "/zstack/v1/api-jobs"


@dataclass
class Delivery:
    headers: dict[str, str]
    body: Any


class WebhookReceiver:
    """Records every POST; answers with ``statuses`` in turn (then 200)."""

    def __init__(self, port: int = 0, statuses: list[int] | None = None) -> None:
        self.deliveries: list[Delivery] = []
        self._statuses = list(statuses or [])
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length))
                with receiver._lock:
                    receiver.deliveries.append(Delivery({k.lower(): v for k, v in self.headers.items()}, body))
                    status = receiver._statuses.pop(0) if receiver._statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/webhook"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.deliveries) >= count:
                    return list(self.deliveries)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} webhook deliveries, got {len(self.deliveries)}")

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sdk_poll_url(location: str, host: str, port: int) -> str:
    """ZSClient / the Go SDK: a location that does not name our host:port is rebuilt from the marker."""
    if f"{host}:{port}" in location:
        return location
    if JOBS_MARKER not in location:
        raise AssertionError(f"the location {location} lacks {JOBS_MARKER}: the SDKs cannot poll it")
    return f"http://{host}:{port}{JOBS_MARKER}{location.split(JOBS_MARKER, 1)[1]}"


def poll_until_done(
    client: httpx.Client,
    url: str,
    headers: dict[str, str] | None = None,
    *,
    interval: float = 0.05,
    timeout: float = 10.0,
    on_running: Callable[[httpx.Response], None] | None = None,
) -> httpx.Response:
    """Poll as the SDKs do: 202 means keep polling; anything else is the answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(url, headers=headers)
        if response.status_code != 202:
            return response
        if on_running is not None:
            on_running(response)
        time.sleep(interval)
    raise AssertionError(f"job at {url} still running after {timeout} s")


def host_and_port(base_url: str) -> tuple[str, int]:
    parts = urlsplit(base_url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port
