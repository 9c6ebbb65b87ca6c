"""A hostile visitor and the webhooks of the public sandbox, on real sockets (issue 16, items 1 and 2).

Webhooks go only where ``--webhook-allow`` says, checked on the URL when the job is accepted and
on every resolved address when the server connects; redirects are not followed; a visitor sees
that a delivery failed, not the network's answer; each tenant has its own queue, concurrency and
per-POST deadline, so a tarpit holds back only its owner's webhooks.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from app.settings import Settings
from tests.conftest import LiveServer
from tests.helpers import BACKUP_WITH_METADATA, BS_READY, CREATE_PATH, auth, login
from tests.jobs.support import WebhookReceiver, free_port

StartServer = Callable[..., LiveServer]
BODY = {"params": {"backupStorageUuid": BS_READY, "name": "hooked"}}
PUBLIC = {"sandbox": True, "job_duration": "0.1", "sandbox_rate_limit": 0, "webhook_interval": 0.1}
REFUSED_LOOPBACK = (
    "127.0.0.1", "localhost", "[::1]", "0x7f000001", "2130706433", "127.1", "0177.0.0.1", "0x7f.1",
    "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[::127.0.0.1]", "[64:ff9b::7f00:1]", "[2002:7f00:1::]", "0.0.0.0",
    "[::]", "localhost.", "LOCALHOST", "LocalHost.", "127.0.0.1.", "127.255.255.254",
)
REFUSED_PRIVATE = (
    "10.0.0.1", "172.16.0.1", "192.168.1.1", "100.64.0.1", "169.254.169.254", "[fd00:ec2::254]",
    "100.100.100.200", "[fe80::1]", "[fc00::1]", "224.0.0.1", "[ff02::1]", "255.255.255.255",
    "metadata.google.internal", "hooks.example.com.evil.test",
)


def submit(client: httpx.Client, session: str | None, webhook: str) -> httpx.Response:
    headers = {"Content-Type": "application/json", "X-Web-Hook": webhook}
    if session is not None:
        headers.update(auth(session))
    return client.post(CREATE_PATH.format(BACKUP_WITH_METADATA), json=BODY, headers=headers)


def job_uuid(accepted: httpx.Response) -> str:
    assert accepted.status_code == 202, accepted.text
    return str(accepted.json()["location"].rsplit("/", 1)[1])


def control_job(client: httpx.Client, session: str | None, uuid: str) -> dict[str, Any]:
    headers = {} if session is None else {"X-Mock-Session": session}
    response = client.get(f"/_mock/jobs/{uuid}", headers=headers)
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    return job


def wait_for_webhook(
    client: httpx.Client, session: str | None, uuid: str, status: str, timeout: float = 10
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        webhook: dict[str, Any] | None = control_job(client, session, uuid)["webhook"]
        if webhook is not None and webhook["status"] == status:
            return webhook
        time.sleep(0.05)
    raise AssertionError(f"the webhook of job {uuid} never became {status}: {control_job(client, session, uuid)}")


def assert_refused(answer: httpx.Response, *reasons: str) -> None:
    assert answer.status_code == 503, answer.text
    error = answer.json()["error"]
    assert error["code"] == "SYS.1007", error
    assert error["details"].startswith("Invalid header[X-Web-Hook]: "), error
    assert any(reason in error["details"] for reason in reasons), error


class Redirector:
    """Answers every POST with a redirect to ``location`` and counts them."""

    def __init__(self, location: str, status: int) -> None:
        self.posts = 0
        redirector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                redirector.posts += 1
                self.send_response(status)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class Tarpit:
    """Accepts connections and reads what comes, but never answers (or, ``drip``, answers a byte at a time)."""

    def __init__(self, drip: float | None = None) -> None:
        self.accepted = 0
        self.open = 0
        self.most_open = 0
        self._drip = drip
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._sock = socket.create_server(("127.0.0.1", 0), backlog=1024)
        self._sock.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}/hook"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.accepted += 1
                self.open += 1
                self.most_open = max(self.most_open, self.open)
            threading.Thread(target=self._hold, args=(conn,), daemon=True).start()

    def _hold(self, conn: socket.socket) -> None:
        conn.settimeout(0.1)
        answer = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
        sent = 0
        try:
            while not self._closing.is_set():
                try:
                    if not conn.recv(65536):
                        break
                except TimeoutError:
                    pass
                if self._drip is not None and sent < len(answer):
                    conn.sendall(answer[sent:sent + 1])
                    sent += 1
                    time.sleep(self._drip)
        except OSError:
            pass
        finally:
            conn.close()
            with self._lock:
                self.open -= 1

    def close(self) -> None:
        self._closing.set()
        self._sock.close()


def test_loopback_private_and_unlisted_targets_are_refused_when_the_job_is_accepted(
    live_server: StartServer,
) -> None:
    server = live_server(**PUBLIC, webhook_allow="hooks.example.com,203.0.113.0/24")
    port = free_port()
    with httpx.Client(base_url=server.url) as client:
        session = login(client)
        for host in (*REFUSED_LOOPBACK, *REFUSED_PRIVATE):
            for scheme in ("http", "https"):
                answer = submit(client, session, f"{scheme}://{host}:{port}/hook")
                assert_refused(answer, "not on this server's webhook allow-list", "cannot be parsed")
        assert_refused(submit(client, session, "http://127.0.0.1/"), "[127.0.0.1] is not on")
        jobs = client.get("/_mock/jobs", headers={"X-Mock-Session": session}).json()
    assert jobs["jobs"] == [], "a refused webhook must make no job"


def test_webhooks_are_off_in_the_public_profile_until_the_operator_allows_a_target(
    live_server: StartServer, receivers: Callable[..., WebhookReceiver]
) -> None:
    receiver = receivers()
    server = live_server(**PUBLIC)
    with httpx.Client(base_url=server.url) as client:
        assert_refused(submit(client, login(client), receiver.url), "allow-list")
    time.sleep(0.3)
    assert receiver.deliveries == []


def test_credentials_in_the_url_are_refused_even_for_an_allowed_host(
    live_server: StartServer, receivers: Callable[..., WebhookReceiver]
) -> None:
    receiver = receivers()
    server = live_server(**PUBLIC, webhook_allow="127.0.0.1,hooks.example.com")
    plain = receiver.url.removeprefix("http://")
    with httpx.Client(base_url=server.url) as client:
        session = login(client)
        for url in (f"http://user:pw@{plain}", f"http://user@{plain}", f"http://hooks.example.com:80@{plain}",
                    f"http://:pw@{plain}"):
            assert_refused(submit(client, session, url), "credentials")
    time.sleep(0.3)
    assert receiver.deliveries == []


def test_a_listed_address_in_any_spelling_receives_its_webhook(
    live_server: StartServer, receivers: Callable[..., WebhookReceiver]
) -> None:
    receiver = receivers()
    port = receiver.url.rsplit(":", 1)[1].split("/")[0]
    server = live_server(**PUBLIC, webhook_allow="127.0.0.1")
    with httpx.Client(base_url=server.url) as client:
        session = login(client)
        plain = job_uuid(submit(client, session, receiver.url))
        hexed = job_uuid(submit(client, session, f"http://0x7f000001:{port}/webhook"))
        receiver.wait_for(2)
        assert wait_for_webhook(client, session, plain, "Delivered")["attempts"] == 1
        assert wait_for_webhook(client, session, hexed, "Delivered")["attempts"] == 1
    assert {d.headers["x-job-uuid"] for d in receiver.deliveries} == {plain, hexed}
    assert {d.headers["host"] for d in receiver.deliveries} == {f"127.0.0.1:{port}", f"0x7f000001:{port}"}


def test_an_allowed_name_that_resolves_to_loopback_is_refused_when_connecting(
    live_server: StartServer, receivers: Callable[..., WebhookReceiver]
) -> None:
    """The name passes the accept-time check; the address it resolves to (as after DNS rebinding)
    does not pass the connect-time one, so nothing reaches the loopback listener, and no retry."""
    receiver = receivers()
    port = receiver.url.rsplit(":", 1)[1].split("/")[0]
    server = live_server(**PUBLIC, webhook_allow="localhost,127.0.0.2", webhook_attempts=5)
    with httpx.Client(base_url=server.url) as client:
        session = login(client)
        uuid = job_uuid(submit(client, session, f"http://localhost:{port}/webhook"))
        webhook = wait_for_webhook(client, session, uuid, "Failed")
    assert webhook["attempts"] == 1
    assert webhook["lastError"] == "webhook delivery failed: the host resolves to an address that is not allowed"
    assert receiver.deliveries == []


@pytest.mark.parametrize("status", [302, 307, 308])
def test_a_redirect_from_an_allowed_target_is_not_followed(
    live_server: StartServer, receivers: Callable[..., WebhookReceiver], status: int
) -> None:
    refused = receivers()  # on 127.0.0.1, reachable only through the redirect
    redirector = Redirector(refused.url.replace("127.0.0.1", "localhost"), status)
    try:
        server = live_server(**PUBLIC, webhook_allow="127.0.0.1/32", webhook_attempts=2)
        with httpx.Client(base_url=server.url) as client:
            session = login(client)
            uuid = job_uuid(submit(client, session, redirector.url))
            webhook = wait_for_webhook(client, session, uuid, "Failed")
    finally:
        redirector.close()
    assert webhook["attempts"] == 2
    assert webhook["lastError"] == f"webhook delivery failed: the webhook answered HTTP {status}"
    assert redirector.posts == 2
    assert refused.deliveries == []


@pytest.mark.parametrize("authorization", [None, "OAuth x"])
def test_a_call_without_a_tenant_sends_no_webhook(
    live_server: StartServer, receivers: Callable[..., WebhookReceiver], authorization: str | None
) -> None:
    """Anyone can make such a call: its job (the server's own, which fails) must not fire the webhook."""
    receiver = receivers()
    server = live_server(**PUBLIC, webhook_allow="127.0.0.1")
    headers = {"Content-Type": "application/json", "X-Web-Hook": receiver.url}
    if authorization is not None:
        headers["Authorization"] = authorization
    with httpx.Client(base_url=server.url) as client:
        answer = client.post(CREATE_PATH.format(BACKUP_WITH_METADATA), json=BODY, headers=headers)
        if answer.status_code == 202:
            webhook = wait_for_webhook(client, None, job_uuid(answer), "Failed")
            assert webhook["attempts"] == 0
            assert webhook["lastError"].startswith("webhook not sent")
    time.sleep(0.5)
    assert receiver.deliveries == []


def test_a_visitor_sees_that_a_delivery_failed_not_the_network_details(
    live_server: StartServer, receivers: Callable[..., WebhookReceiver]
) -> None:
    answering = receivers(statuses=[500])
    closed = f"http://127.0.0.1:{free_port()}/hook"
    tls_to_plain = answering.url.replace("http://", "https://")
    server = live_server(**PUBLIC, webhook_allow="127.0.0.1", webhook_attempts=1)
    with httpx.Client(base_url=server.url) as client:
        session = login(client)
        jobs = {url: job_uuid(submit(client, session, url)) for url in (closed, tls_to_plain, answering.url)}
        errors = {url: wait_for_webhook(client, session, uuid, "Failed")["lastError"] for url, uuid in jobs.items()}
    assert errors == {
        closed: "webhook delivery failed",
        tls_to_plain: "webhook delivery failed",
        answering.url: "webhook delivery failed: the webhook answered HTTP 500",
    }


def test_the_local_profile_keeps_detailed_errors_and_loopback_webhooks(
    live_server: StartServer, receivers: Callable[..., WebhookReceiver]
) -> None:
    receiver = receivers()
    closed = f"http://user:pw@127.0.0.1:{free_port()}/hook"
    server = live_server(job_duration="0.1", webhook_attempts=1)
    with httpx.Client(base_url=server.url) as client:
        session = login(client)
        failing = job_uuid(submit(client, session, closed))
        delivered = job_uuid(submit(client, session, f"http://localhost:{receiver.url.rsplit(':', 1)[1]}"))
        error = wait_for_webhook(client, None, failing, "Failed")["lastError"]
        wait_for_webhook(client, None, delivered, "Delivered")
    assert error.startswith("ConnectError"), error


def test_one_attempt_has_a_total_deadline_even_if_the_target_answers_a_byte_at_a_time(
    live_server: StartServer,
) -> None:
    dripping = Tarpit(drip=0.3)
    try:
        server = live_server(**PUBLIC, webhook_allow="127.0.0.1", webhook_timeout=1, webhook_attempts=1)
        with httpx.Client(base_url=server.url) as client:
            session = login(client)
            started = time.monotonic()
            webhook = wait_for_webhook(client, session, job_uuid(submit(client, session, dripping.url)), "Failed")
            took = time.monotonic() - started
    finally:
        dripping.close()
    assert webhook["lastError"] == "webhook delivery failed"
    assert took < 6, f"a 1 s deadline took {took:.1f} s"  # the 40-byte answer would take 12 s


def test_a_tarpit_holds_back_only_its_owners_webhooks(
    live_server: StartServer, receivers: Callable[..., WebhookReceiver]
) -> None:
    tarpit = Tarpit()
    receiver = receivers()
    try:
        # A deadline longer than the test, so that the tarpit's connections stay open and are counted once.
        server = live_server(**PUBLIC, webhook_allow="127.0.0.1", webhook_attempts=2, webhook_timeout=30)
        with httpx.Client(base_url=server.url) as attacker, httpx.Client(base_url=server.url) as visitor:
            attacking = login(attacker)
            for _ in range(300):
                job_uuid(submit(attacker, attacking, tarpit.url))
            time.sleep(0.5)  # the attacker's jobs finish and its webhooks wait or go to the tarpit
            quiet = login(visitor)
            started = time.monotonic()
            uuid = job_uuid(submit(visitor, quiet, receiver.url))
            receiver.wait_for(1, timeout=10)
            took = time.monotonic() - started
            wait_for_webhook(visitor, quiet, uuid, "Delivered")
            listed = attacker.get("/_mock/jobs", params={"limit": 1000}, headers={"X-Mock-Session": attacking})
    finally:
        tarpit.close()
    assert took < 3, f"the quiet visitor's webhook took {took:.1f} s"
    webhooks = [job["webhook"] for job in listed.json()["jobs"]]
    dropped = [w for w in webhooks if w["status"] == "Failed" and w["lastError"].startswith("webhook dropped")]
    assert len(webhooks) == 300
    assert len(dropped) >= 150, "beyond the tenant's queue of 100, webhooks are dropped"
    assert tarpit.most_open <= 4, "the tenant's concurrency is 4"


@pytest.mark.parametrize("entry", ["http://hooks.example.com", "hooks example", "10.0.0.0/33", "*.example.com"])
def test_an_allow_list_entry_that_is_no_host_address_or_network_stops_the_start(entry: str) -> None:
    with pytest.raises(ValidationError, match="webhook_allow"):
        Settings(webhook_allow=f"hooks.example.com,{entry}")
