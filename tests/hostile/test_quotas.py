"""A hostile visitor against the sandbox's quotas (issue 16, item 11), over real sockets.

What one visitor may keep is bounded: text by its column, records of each kind by ``--max-records``,
snapshots by ``--max-snapshots``, the journal by ``--journal-size`` and ``--max-records``; and one
visitor's snapshots and restores run off the event loop, so they do not stall anyone else.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer
from tests.helpers import BACKUP_NO_METADATA, BS_READY, CREATE_PATH, auth, create, login, sha512
from tests.jobs.support import poll_until_done

StartLive = Callable[..., LiveServer]
MEGABYTE = "x" * 1_000_000


class Visitor:
    """One visitor of the sandbox: an HTTP client and the session of its own tenant."""

    def __init__(self, server: LiveServer) -> None:
        self.http = httpx.Client(base_url=server.url, timeout=30)
        self.session = login(self.http)

    def control(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, path, headers={"X-Mock-Session": self.session}, **kwargs)

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def visitor(live_server: StartLive) -> Iterator[Callable[..., Visitor]]:
    visitors: list[Visitor] = []

    def start(server: LiveServer) -> Visitor:
        visitor = Visitor(server)
        visitors.append(visitor)
        return visitor

    yield start
    for one in visitors:
        one.close()


def _refused(response: httpx.Response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text[:500]
    details = response.json()["error"]["details"]
    for word in words:
        assert word in details, details
    assert len(response.content) < 4096  # the answer does not echo the megabyte back


# -- field lengths -------------------------------------------------------------------------------------


def test_a_megabyte_description_is_refused(live_server: StartLive, visitor: Callable[..., Visitor]) -> None:
    me = visitor(live_server(sandbox=True))
    _refused(me.control("POST", "/_mock/accounts", json={"name": "big", "password": "pw", "description": MEGABYTE}),
             400, "description", "2048")
    _refused(me.control("POST", "/_mock/volume-backups",
                        json={"name": "big", "backupStorageUuids": [BS_READY], "description": MEGABYTE}),
             400, "description", "2048")
    create_big = create(me.http, me.session, BACKUP_NO_METADATA, description=MEGABYTE)
    assert create_big.status_code == 503
    assert create_big.json()["error"]["code"] == "SYS.1007"
    # Nothing of it was kept: the name is still free.
    assert me.control("POST", "/_mock/accounts", json={"name": "big", "password": "pw"}).status_code == 201


def test_every_other_text_a_visitor_stores_is_bounded(live_server: StartLive, visitor: Callable[..., Visitor]) -> None:
    me = visitor(live_server(sandbox=True))
    backup = {"name": "b", "backupStorageUuids": [BS_READY]}
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("/_mock/accounts", {"name": "n" * 256, "password": "pw"}, "name"),
        ("/_mock/accounts", {"name": "ok", "password": "pw", "uuid": "a" * 33}, "uuid"),
        ("/_mock/volume-backups", {**backup, "name": "n" * 256}, "name"),
        ("/_mock/volume-backups", {**backup, "owner": "o" * 100_000}, "owner"),
        ("/_mock/volume-backups", {**backup, "hypervisorType": "h" * 1000}, "hypervisorType"),
        ("/_mock/volume-backups", {**backup, "metadata": {"notes": MEGABYTE}}, "metadata"),
        ("/_mock/volume-backups", {**backup, "metadata": {"guestOsType": "g" * 256}}, "guestOsType"),
        ("/_mock/volume-backups", {**backup, "metadata": {"platform": ["Linux"] * 1000}}, "platform"),
        ("/_mock/volume-backups",
         {"name": "b", "backupStorageRefs": [{"backupStorageUuid": BS_READY, "installPath": "zstore://a/" + "p" * 3000}]},
         "installPath"),
    ]
    for path, body, field in cases:
        _refused(me.control("POST", path, json=body), 400, field)
    # The create API's guestOsType has no @APIParam length, but the image's column holds 255 characters.
    refused = create(me.http, me.session, BACKUP_NO_METADATA, guestOsType="g" * 256)
    assert refused.json()["error"]["code"] == "SYS.1007", refused.text
    assert "guestOsType" in refused.json()["error"]["details"]


# -- records -------------------------------------------------------------------------------------------


def test_records_over_the_quota_are_refused(live_server: StartLive, visitor: Callable[..., Visitor]) -> None:
    server = live_server(sandbox=True, max_records=3, job_duration="0", sandbox_rate_limit=0)
    me, other = visitor(server), visitor(server)
    for n in range(3):
        assert me.control("POST", "/_mock/accounts", json={"name": f"a{n}", "password": "pw"}).status_code == 201
        assert me.control("POST", "/_mock/volume-backups", json={"name": f"b{n}", "backupStorageUuids": [BS_READY]}
                          ).status_code == 201
        assert create(me.http, me.session, BACKUP_NO_METADATA, name=f"i{n}").status_code == 200
    _refused(me.control("POST", "/_mock/accounts", json={"name": "a3", "password": "pw"}), 409, "--max-records")
    _refused(me.control("POST", "/_mock/volume-backups", json={"name": "b3", "backupStorageUuids": [BS_READY]}),
             409, "--max-records")
    image = create(me.http, me.session, BACKUP_NO_METADATA, name="i3")
    assert image.status_code == 503
    assert image.json()["error"]["code"] == "ID.1003", image.text
    assert "image.num" in image.json()["error"]["details"]
    # The asynchronous form: the job fails with the same quota error, and no image is added.
    accepted = me.http.post(CREATE_PATH.format(BACKUP_NO_METADATA), json={"params": {
        "backupStorageUuid": BS_READY, "name": "i4"}}, headers={**auth(me.session), "Prefer": "respond-async"})
    assert accepted.status_code == 202, accepted.text
    failed = poll_until_done(me.http, accepted.json()["location"])
    assert failed.json()["error"]["code"] == "ID.1003", failed.text
    images = me.http.get("/zstack/v1/images", params={"q": "name=i4"}, headers=auth(me.session)).json()
    assert images["inventories"] == []
    # Jobs make room by forgetting the oldest finished ones: asynchronous calls go on being accepted.
    for n in range(4):
        again = me.http.post(CREATE_PATH.format(BACKUP_NO_METADATA), json={"params": {
            "backupStorageUuid": BS_READY, "name": f"j{n}"}}, headers={**auth(me.session), "Prefer": "respond-async"})
        assert again.status_code == 202, again.text
        poll_until_done(me.http, again.json()["location"])
    # Sessions minted by the control API count too (the login's is one of them).
    minted = [me.control("POST", "/_mock/sessions", json={"account": "admin"}) for _ in range(3)]
    assert [m.status_code for m in minted][:2] == [201, 201]
    _refused(minted[-1], 409, "--max-records")
    # The quota is the tenant's own: another visitor still has all of it.
    assert create(other.http, other.session, BACKUP_NO_METADATA, name="theirs").status_code == 200
    assert other.control("POST", "/_mock/accounts", json={"name": "a0", "password": "pw"}).status_code == 201
    # A reset gives the room back.
    assert me.control("POST", "/_mock/reset").status_code == 200
    me.session = login(me.http)
    assert create(me.http, me.session, BACKUP_NO_METADATA, name="again").status_code == 200


def test_logins_beyond_the_quota_answer_too_many_sessions(live_server: StartLive) -> None:
    server = live_server(public_profile=True, max_records=3, max_sessions_per_account=0)
    with httpx.Client(base_url=server.url) as http:
        for _ in range(3):
            login(http)
        refused = http.put("/zstack/v1/accounts/login", json={"logInByAccount": {
            "accountName": "admin", "password": sha512("password")}})
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "ID.1006"
    assert "--max-records" in refused.json()["error"]["details"]


def test_the_local_profile_is_generous(live_server: StartLive) -> None:
    server = live_server()
    with httpx.Client(base_url=server.url) as http:
        session = login(http)
        for n in range(30):
            assert create(http, session, BACKUP_NO_METADATA, name=f"i{n}").status_code == 200
            assert http.post("/_mock/accounts", json={"name": f"a{n}", "password": "pw"}).status_code == 201
        for n in range(12):
            assert http.post("/_mock/snapshots", json={"name": f"s{n}"}).status_code == 201
        assert http.post("/_mock/accounts", json={"name": "d", "password": "pw", "description": "d" * 2048}
                         ).status_code == 201


# -- snapshots -----------------------------------------------------------------------------------------


def test_a_snapshot_over_the_quota_is_refused(live_server: StartLive, visitor: Callable[..., Visitor]) -> None:
    server = live_server(sandbox=True, max_snapshots=2)
    me, other = visitor(server), visitor(server)
    assert me.control("POST", "/_mock/snapshots", json={"name": "a"}).status_code == 201
    assert me.control("POST", "/_mock/snapshots", json={"name": "b"}).status_code == 201
    _refused(me.control("POST", "/_mock/snapshots", json={"name": "c"}), 409, "--max-snapshots")
    # Replacing one needs no room, and a deleted one frees its place.
    assert me.control("POST", "/_mock/snapshots", json={"name": "a", "replace": True}).status_code == 200
    _refused(me.control("POST", "/_mock/snapshots", json={"name": "c", "replace": True}), 409, "--max-snapshots")
    assert me.control("DELETE", "/_mock/snapshots/b").status_code == 200
    assert me.control("POST", "/_mock/snapshots", json={"name": "c"}).status_code == 201
    assert [s["name"] for s in me.control("GET", "/_mock/snapshots").json()["snapshots"]] == ["a", "c"]
    # Another visitor's snapshots are counted apart.
    assert other.control("POST", "/_mock/snapshots", json={"name": "a"}).status_code == 201


# -- the journal ---------------------------------------------------------------------------------------


def test_the_journal_stays_bounded_under_a_flood(live_server: StartLive, visitor: Callable[..., Visitor]) -> None:
    server = live_server(sandbox=True, max_records=20, sandbox_rate_limit=0, anonymous_rate_limit=0)
    me = visitor(server)
    padding = "p" * 200_000
    for _ in range(60):
        me.http.post("/zstack/v1/accounts/login", content=padding, headers=auth(me.session))
        me.http.get("/zstack/v1/images", headers=auth(me.session))
    listed = me.control("GET", "/_mock/requests", params={"limit": 10000}).json()["requests"]
    assert len(listed) == 20
    assert listed[0]["path"] == "/zstack/v1/images"  # the newest are kept
    assert me.control("POST", "/_mock/requests/count", json={}).json() == {"count": 20}
    assert sum(entry["bodySize"] for entry in listed) <= 20 * len(padding)
    assert all(len(entry["body"]) <= 64 * 1024 for entry in listed)
    # Requests without a session are journaled by the server's own instance: bounded the same way.
    with httpx.Client(base_url=server.url) as anonymous:
        for _ in range(40):
            anonymous.get("/zstack/v1/images")
        own = anonymous.get("/_mock/requests", params={"limit": 10000}).json()["requests"]
    assert len(own) <= 20


# -- heavy operations ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def large_cloud(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An operator's large demo cloud: every tenant starts as a copy of 4,000 images and 4,000 backups."""
    path = tmp_path_factory.mktemp("large-cloud") / "fixtures.json"
    subprocess.run([sys.executable, "-m", "app.cli", "generate", "--images", "4000", "--backups", "4000",
                    "--include-defaults", "--output", str(path)], check=True, capture_output=True, timeout=120)
    return path


def test_a_snapshot_loop_does_not_stall_another_visitor(
    live_server: StartLive, visitor: Callable[..., Visitor], large_cloud: Path
) -> None:
    server = live_server(sandbox=True, fixtures=large_cloud, sandbox_rate_limit=0)
    quiet = visitor(server)
    # Two tenants, two loops each: every snapshot, restore and reset moves about 8,000 rows and 6 MB of JSON.
    attackers = [visitor(server) for _ in range(2)]
    for attacker in attackers:
        assert attacker.control("POST", "/_mock/snapshots", json={"name": "full"}).status_code == 201
    stop = threading.Event()
    rounds = 0

    def snapshot_loop(session: str) -> None:
        nonlocal rounds
        with httpx.Client(base_url=server.url, timeout=60, headers={"X-Mock-Session": session}) as http:
            while not stop.is_set():
                http.post("/_mock/snapshots", json={"name": "loop", "replace": True})
                http.post("/_mock/snapshots/full/restore")
                http.post("/_mock/reset")
                http.get("/_mock/snapshots")
                rounds += 1

    loops = [threading.Thread(target=snapshot_loop, args=(a.session,)) for a in attackers for _ in range(2)]
    for loop in loops:
        loop.start()
    try:
        time.sleep(0.5)
        latencies = []
        for _ in range(50):
            started = time.perf_counter()
            answer = quiet.http.get(f"/zstack/v1/accounts/sessions/{quiet.session}/valid")
            latencies.append(time.perf_counter() - started)
            assert answer.status_code == 200
            time.sleep(0.01)
    finally:
        stop.set()
        for loop in loops:
            loop.join(timeout=60)
    assert rounds >= 2, "the attack did not run"
    latencies.sort()
    # Served on the event loop, the heavy operations (each moving megabytes, back to back) would hold most of the
    # quiet visitor's requests for hundreds of milliseconds; p90, not p99, so that the one or two requests a busy
    # CI machine deschedules (Chromium runs beside this test) do not decide it.
    p90 = latencies[int(len(latencies) * 0.9) - 1]
    assert p90 < 0.25, (f"p90 {p90 * 1000:.0f} ms while other tenants loop snapshots ({rounds} rounds): "
                        f"{[round(x * 1000) for x in latencies]}")
