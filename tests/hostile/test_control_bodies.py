"""Every /_mock call answers a body it cannot use, and a request that is not HTTP, with the control API's
`{"error": ...}` JSON (never text/plain, never a traceback), over a real socket with raw bytes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.conftest import LiveServer
from tests.hostile.test_transport import connect, header_of, read_until_closed, status_of

OPENAPI = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
EXAMPLE_VALUES = {"{name}": "nope", "{uuid}": "0" * 32, "{rule_id}": "1"}


def _control_calls_with_a_body() -> list[tuple[str, str]]:
    document = json.loads(OPENAPI.read_text(encoding="utf-8"))
    calls = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if path.startswith("/_mock") and "413" in operation.get("responses", {}):
                for placeholder, value in EXAMPLE_VALUES.items():
                    path = path.replace(placeholder, value)
                calls.append((method.upper(), path))
    return calls


CALLS = _control_calls_with_a_body()


def exchange(server: LiveServer, raw: bytes) -> tuple[int, dict[str, Any], bytes]:
    """Send ``raw`` on a new connection; the answer's status, its ``{"error"}`` object and the whole answer."""
    with connect(server) as sock:
        sock.sendall(raw)
        answer, _ = read_until_closed(sock)
    assert (header_of(answer, "content-type") or "").startswith("application/json"), answer[:300]
    error: dict[str, Any] = orjson.loads(answer.split(b"\r\n\r\n", 1)[1])["error"]
    assert error["description"] and error["details"], error
    return status_of(answer), error, answer


def request(method: str, path: str, body: bytes, *headers: str) -> bytes:
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close", *headers]
    if not any(h.lower().startswith(("content-length", "transfer-encoding")) for h in headers):
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def test_the_openapi_document_lists_the_control_calls_that_read_a_body() -> None:
    assert ("POST", "/_mock/faults") in CALLS and ("PUT", "/_mock/clock") in CALLS
    assert len(CALLS) >= 10


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe\x00\x01", b"[1, 2]", b"name=x&y=z"],
                         ids=["broken", "not-utf8", "array", "form"])
def test_every_control_call_answers_a_body_that_is_not_a_json_object_in_json(
    live_server: Callable[..., LiveServer], body: bytes
) -> None:
    server = live_server()
    for method, path in CALLS:
        status, error, _ = exchange(server, request(method, path, body, "Content-Type: application/x-www-form-urlencoded"))
        assert status == 400, (method, path, error)
        assert error["code"] == "SYS.1007", (method, path, error)


def test_a_body_over_the_limit_is_a_json_413(live_server: Callable[..., LiveServer]) -> None:
    server = live_server(max_body_bytes=1024)
    status, error, _ = exchange(server, request("POST", "/_mock/faults", b"[" + b" " * 2048 + b"]"))
    assert status == 413
    assert "exceeds the limit of 1024 bytes" in error["details"]


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        (("Content-Length: many",), b"{}"),
        (("Transfer-Encoding: chunked",), b"zz\r\n{not\r\n0\r\n\r\n"),
    ],
    ids=["bad-content-length", "bad-chunk"],
)
def test_a_body_that_is_not_http_is_a_json_400(
    live_server: Callable[..., LiveServer], headers: tuple[str, ...], body: bytes
) -> None:
    server = live_server()
    status, error, answer = exchange(server, request("POST", "/_mock/faults", body, *headers))
    assert status == 400 and error["code"] == "SYS.1007"
    assert header_of(answer, "connection") == "close"


def test_an_unknown_control_path_or_method_is_json_too(live_server: Callable[..., LiveServer]) -> None:
    server = live_server()
    status, error, _ = exchange(server, request("POST", "/_mock/nothing-here", b"{}"))
    assert (status, error["code"]) == (404, "SYS.1003")
    status, error, answer = exchange(server, request("PUT", "/_mock/reset", b"{}"))
    assert (status, error["code"]) == (405, "SYS.1007")
    assert header_of(answer, "allow") == "POST"


def test_the_zstack_api_keeps_its_plain_text_rest_errors(live_server: Callable[..., LiveServer]) -> None:
    server = live_server()
    with connect(server) as sock:
        sock.sendall(request("POST", "/zstack/v1/nothing-here", b"{}"))
        answer, _ = read_until_closed(sock)
    assert status_of(answer) == 404
    assert (header_of(answer, "content-type") or "").startswith("text/plain")
