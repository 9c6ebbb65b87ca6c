"""A hostile visitor against the public sandbox's tenancy: sessions only from the server, per-address
limits on logins and on requests that reach no tenant, and no eviction of active visitors.

Each server is the real command (``zstack-mock serve --sandbox``, the public profile) on a loopback
socket, with an admin token, trusting 127.0.0.1 as its proxy: each test speaks from addresses of its
own through ``X-Forwarded-For``, so the per-address limits of one test never meet another's.
"""

from __future__ import annotations

import itertools
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.helpers import (
    BACKUP_WITH_METADATA,
    BS_READY,
    CREATE_PATH,
    LOGIN_PATH,
    PASSWORDS,
    assert_zstack_error,
    auth,
    sha512,
)
from tests.rpc.support import API, LOG_IN, LOG_IN_REPLY, QUERY_IMAGE, VALIDATE, reply_of

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "hostile-tenancy-admin-token"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
#: The session UUID the README once showed: whoever pastes it must not share anyone's cloud.
README_SESSION = "0123456789abcdef0123456789abcdef"
RPC_CREATE = "org.zstack.header.storage.volume.backup.APICreateRootVolumeTemplateFromVolumeBackupMsg"
_addresses = itertools.count(1)


class Served:
    """``zstack-mock serve`` in a subprocess on a free loopback port."""

    def __init__(self, directory: Path, *flags: str) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.log = directory / "server.log"
        command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--database-url",
                   f"sqlite:///{directory / 'zstack-mock.db'}", "--log-level", "warning", *flags]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                            env={**os.environ, "ZSTACK_MOCK_ADMIN_TOKEN": TOKEN})
        self.http = httpx.Client(base_url=self.url, timeout=10)
        deadline = time.monotonic() + 30
        while True:
            try:
                if self.http.get("/_mock/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"the server did not start: {self.log.read_text()}")
            time.sleep(0.05)

    def tenants(self) -> int:
        count: int = self.http.get("/_mock/sandbox", headers=ADMIN).json()["tenants"]
        return count

    def evict_all(self) -> None:
        assert self.http.delete("/_mock/sandbox", headers=ADMIN).status_code == 200

    def stop(self) -> str:
        """Stop the server; its log."""
        self.http.close()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return self.log.read_text(errors="replace")


def _serve(factory: pytest.TempPathFactory, name: str, *flags: str) -> Iterator[Served]:
    server = Served(factory.mktemp(name), "--sandbox", *flags)
    try:
        yield server
    finally:
        log = server.stop()
    assert "Traceback" not in log, log


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The public profile's defaults, behind a proxy on 127.0.0.1."""
    yield from _serve(tmp_path_factory, "public", "--forwarded-allow-ips", "127.0.0.1")


@pytest.fixture(scope="module")
def small_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from _serve(tmp_path_factory, "small", "--forwarded-allow-ips", "127.0.0.1",
                      "--sandbox-max-tenants", "3", "--sandbox-evict-after", "2")


@pytest.fixture
def small(small_server: Served) -> Served:
    """Room for three tenants; one may make way for a login after 2 s without a request. Emptied first."""
    small_server.evict_all()
    return small_server


@pytest.fixture(scope="module")
def untrusted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A server whose only trusted proxy is an address the tests never connect from."""
    yield from _serve(tmp_path_factory, "untrusted", "--forwarded-allow-ips", "10.9.8.7")


def address() -> dict[str, str]:
    """A client address of its own, as the trusted proxy forwards it."""
    n = next(_addresses)
    return {"X-Forwarded-For": f"198.51.{n // 250}.{n % 250 + 1}"}


def login(server: Served, headers: dict[str, str], password: str = PASSWORDS["admin"]) -> httpx.Response:
    body = {"logInByAccount": {"accountName": "admin", "password": sha512(password)}}
    return server.http.put(LOGIN_PATH, json=body, headers=headers)


def session_of(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return str(response.json()["inventory"]["uuid"])


def visitor(server: Served) -> tuple[str, dict[str, str]]:
    """A visitor from an address of its own, logged in: its session, and its headers."""
    headers = address()
    session = session_of(login(server, headers))
    return session, {**headers, **auth(session)}


def create_image(server: Served, headers: dict[str, str], name: str, **extra: str) -> httpx.Response:
    body = {"params": {"backupStorageUuid": BS_READY, "name": name}}
    return server.http.post(CREATE_PATH.format(BACKUP_WITH_METADATA), json=body, headers={**headers, **extra})


def image_names(server: Served, headers: dict[str, str]) -> set[str]:
    response = server.http.get("/zstack/v1/images", headers=headers)
    assert response.status_code == 200, response.text
    return {image["name"] for image in response.json()["inventories"]}


def assert_refused(response: httpx.Response, status: int, *fragments: str) -> dict[str, Any]:
    """ZStack's ``{"error": ErrorCode}`` with ``status``, SYS.1006 and a ``Retry-After`` of whole seconds."""
    assert response.status_code == status, response.text
    assert int(response.headers["Retry-After"]) >= 1
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == "SYS.1006", error
    for fragment in fragments:
        assert fragment in error["details"], error
    return error


# -- sessions come only from the server ----------------------------------------------------------------


def test_a_visitor_cannot_claim_a_session_uuid_before_anyone_uses_it(public: Served) -> None:
    session, headers = visitor(public)
    claimed = secrets.token_hex(16)
    for who in ({"X-Mock-Session": session}, ADMIN):  # from its own tenant, and even the operator
        refused = public.http.post("/_mock/sessions", json={"account": "admin", "uuid": claimed}, headers=who)
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "ID.1002"
        assert "cannot be chosen" in refused.json()["error"]["details"]
    tenants = public.tenants()
    assert_zstack_error(public.http.get("/zstack/v1/images", headers={**address(), **auth(claimed)}), "ID.1001")
    assert public.tenants() == tenants
    # What the visitor may do: have the server issue another session of its own cloud.
    assert create_image(public, headers, "mine").status_code == 200
    minted = public.http.post("/_mock/sessions", json={"account": "admin"}, headers={"X-Mock-Session": session})
    assert minted.status_code == 201, minted.text
    assert "mine" in image_names(public, {**address(), **auth(minted.json()["inventory"]["uuid"])})


def _unknown_session_calls(session: str) -> list[tuple[str, str, dict[str, Any] | None, dict[str, str]]]:
    """(method, path, JSON body, headers) of the ways a request can name a session nobody was issued."""
    return [
        ("GET", "/zstack/v1/images", None, auth(session)),
        ("GET", f"/zstack/v1/accounts/sessions/{session}/valid", None, {}),
        ("DELETE", f"/zstack/v1/accounts/sessions/{session}", None, {}),
        ("POST", CREATE_PATH.format(BACKUP_WITH_METADATA), {"params": {"backupStorageUuid": BS_READY, "name": "x"}},
         auth(session)),
        ("POST", API, {QUERY_IMAGE: {"conditions": [], "session": {"uuid": session}}}, {}),
        ("POST", API, {VALIDATE: {"sessionUuid": session}}, {}),
    ]


def _comparable(response: httpx.Response) -> tuple[int, Any]:
    """What must be the same as outside the sandbox: the status, and the body without dates or ids."""
    if "json" not in response.headers.get("content-type", ""):
        return response.status_code, response.text
    body = response.json()
    if isinstance(body, dict) and isinstance(body.get("result"), str):  # an RPC envelope
        body = body["result"]
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        body = {"error": body["error"]["code"]}
    return response.status_code, body


def test_an_unknown_session_is_id_1001_as_outside_the_sandbox_and_makes_no_tenant(
    public: Served, tmp_path: Path,
) -> None:
    """However the session is named (OAuth, the validate and logout paths, an RPC message), a session
    the sandbox did not issue is answered as the plain server answers it, and no tenant is made."""
    tenants = public.tenants()
    with TestClient(create_app(Settings(database_url=f"sqlite:///{tmp_path / 'plain.db'}"))) as plain:
        for session in (secrets.token_hex(16), README_SESSION, secrets.token_hex(16).upper()):
            for method, path, body, headers in _unknown_session_calls(session):
                sandboxed = public.http.request(method, path, json=body, headers={**address(), **headers})
                expected = plain.request(method, path, json=body, headers=headers)
                assert _comparable(sandboxed) == _comparable(expected), (method, path)
                assert sandboxed.status_code < 500 or sandboxed.json()["error"]["code"] == "ID.1001"
    assert_zstack_error(public.http.get("/zstack/v1/images", headers={**address(), **auth(README_SESSION)}), "ID.1001")
    unknown = public.http.get("/_mock/faults", headers={**address(), "X-Mock-Session": secrets.token_hex(16)})
    assert unknown.status_code == 404
    assert public.tenants() == tenants


# -- active visitors are never pushed out ------------------------------------------------------------


def test_a_flood_of_random_session_validations_evicts_no_active_visitor(small: Served) -> None:
    """1,050 validations of random sessions, each from an address of its own (under every per-address
    limit), used to fill the sandbox with fresh tenants and push the least recently used out."""
    _, victim = visitor(small)
    assert create_image(small, victim, "victim's").status_code == 200
    others = [visitor(small)[1] for _ in range(2)]  # the sandbox is now full
    answers: dict[int, int] = {}
    for n in range(1050):
        session = secrets.token_hex(16)
        if n % 10:
            response = small.http.get(f"/zstack/v1/accounts/sessions/{session}/valid", headers=address())
        else:
            response = small.http.post(API, json={VALIDATE: {"sessionUuid": session}}, headers=address())
        answers[response.status_code] = answers.get(response.status_code, 0) + 1
    assert set(answers) <= {200, 503}, answers
    assert small.tenants() == 3
    assert "victim's" in image_names(small, victim)
    for headers in others:
        image_names(small, headers)


def test_a_full_sandbox_of_active_visitors_answers_a_login_503_and_evicts_only_the_idle(small: Served) -> None:
    visitors = [visitor(small)[1] for _ in range(3)]
    for n, headers in enumerate(visitors):
        assert create_image(small, headers, f"visitor-{n}").status_code == 200
    refused = login(small, address())
    error = assert_refused(refused, 503, "The sandbox is full", "log in again")
    assert error["description"]
    rpc = small.http.post(API, json={LOG_IN: {"accountName": "admin", "password": sha512(PASSWORDS["admin"])}},
                          headers=address())
    assert_refused(rpc, 503, "The sandbox is full")
    assert small.tenants() == 3
    for n, headers in enumerate(visitors):
        assert f"visitor-{n}" in image_names(small, headers)
    # The first visitor leaves for longer than --sandbox-evict-after; the others keep working.
    time.sleep(2.6)
    for headers in visitors[1:]:
        image_names(small, headers)
    newcomer = session_of(login(small, address()))
    assert "visitor-0" not in image_names(small, {**address(), **auth(newcomer)})
    assert_zstack_error(small.http.get("/zstack/v1/images", headers=visitors[0]), "ID.1001")
    for n, headers in enumerate(visitors[1:], start=1):
        assert f"visitor-{n}" in image_names(small, headers)
    assert small.tenants() == 3


# -- per-address limits --------------------------------------------------------------------------------


def test_a_login_flood_from_one_address_is_429_and_another_address_still_logs_in(public: Served) -> None:
    tenants = public.tenants()
    flooder = address()
    answers = [login(public, flooder) for _ in range(25)]
    admitted = [a for a in answers if a.status_code == 200]
    refused = [a for a in answers if a.status_code != 200]
    assert len(admitted) >= 10, [a.status_code for a in answers]  # a burst of 10
    assert refused, [a.status_code for a in answers]
    assert_refused(refused[0], 429, "logins per second from one client address")
    # Another protocol from the same address is the same login.
    rpc = public.http.post(API, json={LOG_IN: {"accountName": "admin", "password": sha512(PASSWORDS["admin"])}},
                           headers=flooder)
    assert_refused(rpc, 429, "logins per second")
    # Guessing passwords counts too, and a failed login keeps no tenant.
    guesser = address()
    guesses = [login(public, guesser, password=f"guess-{n}") for n in range(25)]
    assert {g.status_code for g in guesses} >= {429}, [g.status_code for g in guesses]
    # Rotating through the addresses of one IPv6 /64 is still one client.
    rotating = [login(public, {"X-Forwarded-For": f"2001:db8:0:7::{n:x}"}, password="guess") for n in range(1, 26)]
    assert 429 in {r.status_code for r in rotating}, [r.status_code for r in rotating]
    assert public.tenants() == tenants + len(admitted)
    # Someone else, behind the same proxy, is not held back.
    other = address()
    assert login(public, other).status_code == 200
    reply_of(public.http.post(API, json={LOG_IN: {"accountName": "admin", "password": sha512(PASSWORDS["admin"])}},
                              headers=other), LOG_IN_REPLY)


def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(untrusted: Served) -> None:
    """A visitor connecting directly cannot pose as many addresses: only --forwarded-allow-ips may."""
    answers = [login(untrusted, address()).status_code for _ in range(25)]
    assert answers.count(200) >= 10 and 429 in answers, answers
    anonymous = [untrusted.http.get("/zstack/v1/images", headers=address()).status_code for _ in range(100)]
    assert 429 in anonymous, anonymous


def test_an_anonymous_flood_is_429_and_spares_visitors_and_other_addresses(public: Served) -> None:
    """Requests that reach no tenant (no session, an unknown one, a poll of no job, the docs) share
    one limit per address; a visitor's own requests from that address reach its tenant and are not held."""
    flooder = address()
    _, mine = visitor(public)
    mine = {**mine, "X-Forwarded-For": flooder["X-Forwarded-For"]}
    calls = [
        ("/zstack/v1/images", {}),
        ("/zstack/v1/images", auth(secrets.token_hex(16))),
        (f"/zstack/v1/api-jobs/{secrets.token_hex(16)}", {}),
        (f"/zstack/v1/accounts/sessions/{secrets.token_hex(16)}/valid", {}),
        ("/openapi.json", {}),
    ]
    answers = [public.http.get(path, headers={**flooder, **headers}) for n in range(30) for path, headers in calls]
    refused = [a for a in answers if a.status_code == 429]
    assert len(refused) > 50, [a.status_code for a in answers]
    assert_refused(refused[0], 429, "without a session")
    assert image_names(public, mine)  # the visitor's tenant, from the flooding address
    assert public.http.get("/zstack/v1/images", headers=address()).status_code != 429


# -- job UUIDs (issue 15) ------------------------------------------------------------------------------


def test_a_job_uuid_of_another_visitor_cannot_be_taken(public: Served) -> None:
    _, first = visitor(public)
    _, second = visitor(public)
    chosen = secrets.token_hex(16)
    assert create_image(public, first, "first's", **{"X-Job-UUID": chosen}).status_code == 202
    for headers in (second, address(), {**address(), **auth(secrets.token_hex(16))}):
        taken = create_image(public, headers, "second's", **{"X-Job-UUID": chosen})
        assert taken.status_code == 400, taken.text
        assert taken.text == f"Duplicate job uuid[{chosen}]"
    rpc = public.http.post(API, json={RPC_CREATE: {
        "id": chosen, "backupUuid": BACKUP_WITH_METADATA, "backupStorageUuid": BS_READY, "name": "second's",
        "session": {"uuid": second["Authorization"].split()[1]},
    }}, headers=address())
    assert rpc.status_code == 500 and "already kept under the message" in rpc.text, rpc.text
    assert "second's" not in image_names(public, second)
    deadline = time.monotonic() + 10
    while (poll := public.http.get(f"/zstack/v1/api-jobs/{chosen}", headers=address())).status_code == 202:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert poll.status_code == 200, poll.text
    assert poll.json()["inventory"]["name"] == "first's"


def test_polling_another_visitors_job_spends_the_pollers_allowance_not_the_visitors(public: Served) -> None:
    """A poll names only the job: a stranger who knows (or chose for the docs) a job UUID and polls it
    in a loop is held back per its own address, and the job's owner keeps its whole rate."""
    _, owner = visitor(public)
    job = secrets.token_hex(16)
    assert create_image(public, owner, "polled", **{"X-Job-UUID": job}).status_code == 202
    stranger = address()
    polls = [public.http.get(path.format(job), headers=stranger).status_code
             for _ in range(40) for path in ("/zstack/v1/api-jobs/{}", "/zstack/api/result/{}")]
    assert 429 in polls, polls
    assert [public.http.get("/zstack/v1/images", headers=owner).status_code for _ in range(15)] == [200] * 15
