"""A hostile visitor against the transport: oversized heads, slow and idle connections, a connection flood,
a stop with a request held open, journal entries of oversized requests, and every answer's security
headers. Over real sockets on loopback (issue 16, items 3, 8 and 9)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.journal.exchange import HEADERS_CUT_KEY
from app.security_headers import API_POLICY, DOCS_POLICY
from app.serving.config import raise_open_file_limit
from tests.conftest import LiveServer
from tests.helpers import BACKUP_WITH_METADATA, CREATE_PATH, auth, login, served_url

HEAD_LIMIT = 16384
IMAGES = "/zstack/v1/images"
CREATE = CREATE_PATH.format(BACKUP_WITH_METADATA)


def request_head(path: str = "/_mock/health", *extra: str, close: bool = True) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", *extra, *(["Connection: close"] if close else [])]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def connect(server: LiveServer) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.settimeout(10)
    return sock


def read_until_closed(sock: socket.socket, timeout: float = 10) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and how long that took."""
    started = time.monotonic()
    sock.settimeout(timeout)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return received, time.monotonic() - started


def status_of(answer: bytes) -> int:
    match = re.match(rb"HTTP/1\.1 (\d{3}) ", answer)
    assert match, answer[:200]
    return int(match.group(1))


def header_of(answer: bytes, name: str) -> str | None:
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    for line in head.split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return None


def journal(server: LiveServer) -> list[dict[str, Any]]:
    requests: list[dict[str, Any]] = httpx.get(f"{server.url}/_mock/requests").json()["requests"]
    return requests


# --- item 8: the size of a request's head -------------------------------------------------------------


def test_an_oversized_header_is_431_and_never_journaled(live_server: Callable[..., LiveServer]) -> None:
    server = live_server()
    with connect(server) as sock:
        sock.sendall(request_head(IMAGES, "X-Big: " + "a" * 20_000))
        answer, _ = read_until_closed(sock)
    assert status_of(answer) == 431
    assert answer.endswith(b"the request line and headers exceed 16384 bytes")
    assert header_of(answer, "connection") == "close"
    assert journal(server) == []


def test_a_16_mib_header_is_cut_off_after_the_limit(live_server: Callable[..., LiveServer]) -> None:
    """The server stops reading at the limit and closes: the client cannot even hand the kernel all of it."""
    server = live_server()
    sent = 0
    with connect(server) as sock:
        sock.sendall(b"GET /zstack/v1/images HTTP/1.1\r\nHost: x\r\nX-Big: ")
        chunk = b"a" * (1 << 20)
        with pytest.raises(OSError):  # a broken pipe or a reset
            for _ in range(16):
                sock.sendall(chunk)
                sent += len(chunk)
            read_until_closed(sock)
            raise ConnectionResetError("the server read all of it")
    assert sent < 16 << 20
    assert httpx.get(f"{server.url}/_mock/health").status_code == 200
    assert journal(server) == []


@pytest.mark.parametrize(
    "head",
    [
        pytest.param(request_head(IMAGES, *(f"X-H{i}: {'v' * 20}" for i in range(1000))), id="many-small-headers"),
        pytest.param(request_head(IMAGES + "?q=" + "x" * 20_000), id="long-request-line"),
        pytest.param(b"\r\n" * 10_000 + request_head(IMAGES), id="leading-empty-lines"),
    ],
)
def test_every_way_of_making_the_head_long_is_431(live_server: Callable[..., LiveServer], head: bytes) -> None:
    server = live_server()
    with connect(server) as sock:
        sock.sendall(head)
        answer, _ = read_until_closed(sock)
    assert status_of(answer) == 431


def test_a_head_dribbled_in_small_pieces_is_counted_whole(live_server: Callable[..., LiveServer]) -> None:
    server = live_server()
    with connect(server) as sock:
        sock.sendall(b"GET /_mock/health HTTP/1.1\r\nHost: x\r\n")
        refused = False
        for i in range(40):
            try:
                sock.sendall(f"X-H{i}: {'v' * 500}\r\n".encode())
            except OSError:
                refused = True
                break
            time.sleep(0.005)
        answer, _ = read_until_closed(sock)
    assert refused or status_of(answer) == 431


def test_a_head_just_under_the_limit_is_served(live_server: Callable[..., LiveServer]) -> None:
    server = live_server()
    head = request_head("/_mock/health", "X-Pad: ")
    padded = head.replace(b"X-Pad: ", b"X-Pad: " + b"p" * (HEAD_LIMIT - len(head)))
    assert len(padded) == HEAD_LIMIT
    with connect(server) as sock:
        sock.sendall(padded)
        answer, _ = read_until_closed(sock)
    assert status_of(answer) == 200


def test_an_oversized_second_request_on_a_kept_alive_connection_is_431(
    live_server: Callable[..., LiveServer],
) -> None:
    server = live_server()
    with connect(server) as sock:
        sock.sendall(request_head("/_mock/health", close=False))
        first = sock.recv(65536)
        assert status_of(first) == 200
        sock.sendall(request_head(IMAGES, "X-Big: " + "b" * 40_000))
        answer, _ = read_until_closed(sock)
    assert status_of(answer) == 431


def test_a_larger_limit_lets_a_larger_head_in(live_server: Callable[..., LiveServer]) -> None:
    server = live_server(max_header_bytes=65536)
    with connect(server) as sock:
        sock.sendall(request_head("/_mock/health", "X-Big: " + "a" * 40_000))
        answer, _ = read_until_closed(sock)
    assert status_of(answer) == 200


# --- item 9: connections held open --------------------------------------------------------------------


def test_a_slowloris_connection_gets_408_within_the_header_timeout(live_server: Callable[..., LiveServer]) -> None:
    server = live_server(header_timeout=0.5)
    with connect(server) as sock:
        sock.sendall(b"GET /_mock/health HTTP/1.1\r\n")
        started = time.monotonic()
        closed = False
        for i in range(40):  # one header line every 0.2 s: never finished
            try:
                sock.sendall(f"X-Slow-{i}: 1\r\n".encode())
            except OSError:
                closed = True
                break
            time.sleep(0.2)
            sock.settimeout(0.01)
            try:
                if sock.recv(65536, socket.MSG_PEEK):
                    break
            except TimeoutError:
                pass
        answer, _ = read_until_closed(sock)
        took = time.monotonic() - started
    assert closed or status_of(answer) == 408
    assert took < 4, took


def test_a_connection_that_sends_nothing_is_closed_within_the_header_timeout(
    live_server: Callable[..., LiveServer],
) -> None:
    server = live_server(header_timeout=0.5)
    with connect(server) as sock:
        answer, took = read_until_closed(sock)
    assert answer == b""
    assert 0.2 < took < 4, took


def test_empty_lines_do_not_keep_a_connection_open(live_server: Callable[..., LiveServer]) -> None:
    server = live_server(header_timeout=0.5)
    with connect(server) as sock:
        started = time.monotonic()
        with pytest.raises(OSError):
            for _ in range(40):
                sock.sendall(b"\r\n")
                time.sleep(0.2)
                sock.settimeout(0.01)
                try:
                    if sock.recv(65536) == b"":
                        raise ConnectionAbortedError("closed")
                except TimeoutError:
                    pass
    assert time.monotonic() - started < 4


def test_a_slow_second_request_is_timed_like_the_first(live_server: Callable[..., LiveServer]) -> None:
    server = live_server(header_timeout=0.5, keep_alive_timeout=30)
    with connect(server) as sock:
        sock.sendall(request_head("/_mock/health", close=False))
        assert status_of(sock.recv(65536)) == 200
        sock.sendall(b"GET /_mock/health HTTP/1.1\r\nHost: x\r\n")  # and never the end of the head
        answer, took = read_until_closed(sock)
    assert status_of(answer) == 408
    assert took < 4, took


def test_a_body_that_stops_coming_closes_the_connection(live_server: Callable[..., LiveServer]) -> None:
    server = live_server(header_timeout=0.5)
    with connect(server) as sock:
        sock.sendall(f"POST {CREATE} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     "Content-Length: 100000\r\n\r\n{\"params\": ".encode())
        answer, took = read_until_closed(sock)
    assert answer == b""
    assert took < 4, took
    entry = journal(server)[0]  # the request ended then too
    assert (entry["path"], entry["bodySize"]) == (CREATE, 11)
    assert entry["durationMs"] < 4000


def test_a_body_dribbled_within_the_timeout_is_served(live_server: Callable[..., LiveServer]) -> None:
    server = live_server(header_timeout=1)
    body = b'{"logInByAccount": {"accountName": "admin", "password": "x"}}'
    with connect(server) as sock:
        sock.sendall(b"PUT /zstack/v1/accounts/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body))
        for offset in range(0, len(body), 16):  # 1.2 s in all, no pause as long as the timeout
            sock.sendall(body[offset:offset + 16])
            time.sleep(0.3)
        answer, _ = read_until_closed(sock)
    assert status_of(answer) in (200, 503)  # answered: ZStack's error for a wrong password is a 503


def test_an_idle_keep_alive_connection_is_closed(live_server: Callable[..., LiveServer]) -> None:
    server = live_server(keep_alive_timeout=0.5)
    with connect(server) as sock:
        sock.sendall(request_head("/_mock/health", close=False))
        first = sock.recv(65536)
        assert status_of(first) == 200
        assert header_of(first, "connection") is None
        rest, took = read_until_closed(sock)
    assert rest == b""
    assert took < 4, took


def test_slow_connections_do_not_stop_others_being_served(live_server: Callable[..., LiveServer]) -> None:
    server = live_server(header_timeout=2)
    slow = [connect(server) for _ in range(50)]
    try:
        for sock in slow:
            sock.sendall(b"GET /_mock/health HTTP/1.1\r\nHost: x\r\n")
        for _ in range(5):
            assert httpx.get(f"{server.url}/_mock/health", timeout=5).status_code == 200
    finally:
        for sock in slow:
            sock.close()


def _kept_alive(server: LiveServer) -> socket.socket:
    sock = connect(server)
    sock.sendall(request_head("/_mock/health", close=False))
    assert status_of(sock.recv(65536)) == 200
    return sock


def test_connections_beyond_max_connections_get_503_and_others_are_served_after(
    live_server: Callable[..., LiveServer],
) -> None:
    server = live_server(max_connections=3)
    held = [_kept_alive(server) for _ in range(3)]  # exactly the cap: all three were served
    try:
        refused = httpx.get(f"{server.url}{IMAGES}", timeout=5)
        assert refused.status_code == 503
        assert refused.json()["error"]["code"] == "SYS.1006"
        assert "at most 3 at once" in refused.json()["error"]["details"]
        assert refused.headers["retry-after"] == "1"
        assert refused.headers["x-content-type-options"] == "nosniff"
        control = httpx.get(f"{server.url}/_mock/health", timeout=5)
        assert control.status_code == 503
    finally:
        for sock in held:
            sock.close()
    deadline = time.monotonic() + 5
    while (answer := httpx.get(f"{server.url}/_mock/health", timeout=5)).status_code == 503:
        assert time.monotonic() < deadline, "the server stayed full after the connections closed"
        time.sleep(0.1)
    assert answer.status_code == 200


def test_requests_in_progress_beyond_max_connections_get_503(live_server: Callable[..., LiveServer]) -> None:
    server = live_server(max_connections=2)
    rule = {"match": {"path": IMAGES}, "latency": {"fixed": 3}}
    assert httpx.post(f"{server.url}/_mock/faults", json=rule).status_code in (200, 201)
    slow = [connect(server) for _ in range(2)]
    for sock in slow:
        sock.sendall(request_head(IMAGES))
    # Knock until the server, busy with both (a loaded machine may take a while to start them), turns us away.
    # Connections are accepted in the order they were made, so a knock never takes a slow request's place.
    statuses: list[int] = []
    deadline = time.monotonic() + 2.5
    while time.monotonic() < deadline and 503 not in statuses:
        with connect(server) as sock:
            sock.sendall(request_head("/_mock/health"))
            answer, _ = read_until_closed(sock)
        statuses.append(status_of(answer))
        time.sleep(0.05)
    assert 503 in statuses, statuses
    answers = [status_of(read_until_closed(sock)[0]) for sock in slow]
    for sock in slow:
        sock.close()
    assert 503 not in answers, answers


def test_slow_heads_beyond_max_connections_turn_no_visitor_away(live_server: Callable[..., LiveServer]) -> None:
    """uvicorn's own limit would count them, and answer every visitor 503 while a slowloris lasts."""
    server = live_server(max_connections=3)
    with httpx.Client(base_url=server.url, timeout=5) as visitor:
        assert visitor.get("/_mock/health").status_code == 200
        slow = [connect(server) for _ in range(4)]
        try:
            for sock in slow:
                sock.sendall(b"GET /_mock/health HTTP/1.1\r\nHost: x\r\n")
            time.sleep(0.3)
            assert [visitor.get("/_mock/health").status_code for _ in range(3)] == [200] * 3
            assert httpx.get(f"{server.url}/_mock/health", timeout=5).status_code == 200
        finally:
            for sock in slow:
                sock.close()


def test_beyond_twice_max_connections_a_connection_is_closed_at_once(
    live_server: Callable[..., LiveServer],
) -> None:
    server = live_server(max_connections=2)
    idle = [connect(server) for _ in range(4)]
    try:
        time.sleep(0.3)  # let the server accept them
        with connect(server) as extra:
            answer, took = read_until_closed(extra, timeout=5)
        assert answer == b""
        assert took < 2, took
    finally:
        for sock in idle:
            sock.close()


def test_the_server_raises_its_open_file_limit(tmp_path: Path) -> None:
    code = (
        "import resource\n"
        "from app.serving.config import raise_open_file_limit\n"
        "soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (min(256, hard), hard))\n"
        "print(raise_open_file_limit(100), hard)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True)
    now, hard = run.stdout.split()
    assert now == hard
    assert raise_open_file_limit(1) >= 256


@contextmanager
def serving(tmp_path: Path, *args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``zstack-mock serve`` in a process of its own; yields it and its base URL."""
    env = {**os.environ, "ZSTACK_MOCK_DATABASE_URL": f"sqlite:///{tmp_path / 'served.db'}"}
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", "0", *args], stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        url = served_url(process)
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()


def test_sigterm_stops_the_server_while_a_request_sleeps_an_hour(tmp_path: Path) -> None:
    with serving(tmp_path, "--shutdown-timeout", "1") as (process, url):
        rule = {"match": {"path": IMAGES}, "latency": {"fixed": 3600, "max": 3600}}
        assert httpx.post(f"{url}/_mock/faults", json=rule).status_code in (200, 201)
        outcome: list[object] = []

        def call() -> None:
            try:
                outcome.append(httpx.get(f"{url}{IMAGES}", timeout=30).status_code)
            except httpx.HTTPError as exc:
                outcome.append(exc)

        caller = threading.Thread(target=call)
        caller.start()
        time.sleep(0.5)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
        took = time.monotonic() - started
        caller.join(timeout=10)
        assert process.stderr is not None
        log = process.stderr.read()
    assert took < 1 + 4, took
    assert process.returncode in (0, -signal.SIGTERM)  # uvicorn raises the signal again once it has stopped
    assert "Traceback" not in log and "Exception in ASGI application" not in log, log
    assert len(outcome) == 1 and not isinstance(outcome[0], int), outcome  # closed, not answered


# --- the journal keeps a bounded entry ----------------------------------------------------------------


def test_a_journal_entry_keeps_at_most_its_bound_of_headers_and_body(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app(max_journal_entry_bytes=2048)) as client:
        session = login(client)
        headers = {**auth(session), **{f"x-pad-{i}": "v" * 200 for i in range(20)}}
        client.post(IMAGES + "/nothing", content=b"b" * 5000, headers=headers)
        entry = client.get("/_mock/requests").json()["requests"][0]
    kept = entry["headers"]
    assert kept["authorization"] == "OAuth *****"
    assert kept[HEADERS_CUT_KEY].endswith("bytes) not kept")
    kept_bytes = sum(len(k) + len(v) for k, v in kept.items() if k != HEADERS_CUT_KEY)
    assert kept_bytes + len(entry["body"]) <= 2048
    assert entry["body"] == "b" * 1024
    assert (entry["bodySize"], entry["bodyTruncated"]) == (5000, True)


def test_a_small_request_is_journaled_whole(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app(max_journal_entry_bytes=2048)) as client:
        client.get(IMAGES, headers={"X-Small": "kept"})
        entry = client.get("/_mock/requests").json()["requests"][0]
    assert entry["headers"]["x-small"] == "kept"
    assert HEADERS_CUT_KEY not in entry["headers"]


def test_the_public_profile_keeps_8_kib_of_a_16_kib_head(live_server: Callable[..., LiveServer]) -> None:
    server = live_server(public_profile=True)
    with connect(server) as sock:
        sock.sendall(request_head(IMAGES, *(f"X-Pad-{i}: {'p' * 1000}" for i in range(15))))
        assert status_of(read_until_closed(sock)[0]) in (400, 401, 503)
    entry = journal(server)[0]
    assert HEADERS_CUT_KEY in entry["headers"]
    assert sum(len(k) + len(v) for k, v in entry["headers"].items()) < 8192 + 100


# --- item 3: every answer's security headers ----------------------------------------------------------


def assert_api_policy(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers.get_list("content-security-policy") == [API_POLICY]


def test_api_control_and_error_answers_carry_nosniff_and_the_api_policy(
    live_server: Callable[..., LiveServer],
) -> None:
    server = live_server()
    with httpx.Client(base_url=server.url) as client:
        session = login(client)
        answers = [
            client.get(IMAGES, headers=auth(session)),  # an API answer
            client.get(IMAGES, headers=auth("0" * 32)),  # a ZStack error
            client.get("/zstack/v1/nowhere"),  # the REST layer's plain text
            client.get("/_mock/health"),  # the control API
            client.get("/_mock/jobs/nothing"),  # a control error
            client.get("/openapi.json"),
            client.get("/console-assets/console.js"),
            client.options("/_mock/faults", headers={
                "Origin": "https://docs.example.com", "Access-Control-Request-Method": "POST",
            }),
        ]
    for response in answers:
        assert_api_policy(response)


def test_a_fault_rule_cannot_serve_a_page_that_runs(live_server: Callable[..., LiveServer]) -> None:
    server = live_server()
    rule = {
        "match": {"path": "/zstack/v1/api-jobs/*"},
        "http": {"status": 200, "contentType": "text/html", "body": "<script>alert(1)</script>",
                 "headers": {"Content-Security-Policy": "script-src 'unsafe-inline'",
                             "X-Content-Type-Options": "sniff"}},
    }
    created = httpx.post(f"{server.url}/_mock/faults", json=rule)
    assert created.status_code in (200, 201), created.text
    served = httpx.get(f"{server.url}/zstack/v1/api-jobs/{'a' * 32}")
    assert_api_policy(served)


def test_the_protocols_own_answers_carry_the_api_policy(live_server: Callable[..., LiveServer]) -> None:
    server = live_server(header_timeout=0.5)
    with connect(server) as sock:
        sock.sendall(request_head(IMAGES, "X-Big: " + "a" * 20_000))
        too_large, _ = read_until_closed(sock)
    with connect(server) as sock:
        sock.sendall(b"NOT HTTP AT ALL\x00\r\n\r\n")
        malformed, _ = read_until_closed(sock)
    with connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\n")
        timed_out, _ = read_until_closed(sock)
    for answer, status in ((too_large, 431), (malformed, 400), (timed_out, 408)):
        assert status_of(answer) == status
        assert header_of(answer, "x-content-type-options") == "nosniff"
        assert header_of(answer, "content-security-policy") == API_POLICY


def test_the_console_and_the_docs_pages_get_a_policy_that_runs_their_own_scripts(
    live_server: Callable[..., LiveServer],
) -> None:
    server = live_server()
    console = httpx.get(f"{server.url}/")
    assert "default-src 'self'" in console.headers["content-security-policy"]
    assert console.headers["x-content-type-options"] == "nosniff"
    for page in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        answer = httpx.get(f"{server.url}{page}")
        assert answer.headers.get_list("content-security-policy") == [DOCS_POLICY], page
        assert answer.headers["x-content-type-options"] == "nosniff"
    assert "'unsafe-inline'" not in console.headers["content-security-policy"]
