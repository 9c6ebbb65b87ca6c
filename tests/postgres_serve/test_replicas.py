"""``zstack-mock serve --database-url postgresql://...`` on real sockets: one server, then two replicas
(separate ``serve`` processes, as on two machines) over one PostgreSQL database, sharing one fake cloud."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from tests.faults.support import RPC_CREATE
from tests.helpers import BACKUP_WITH_METADATA, BS_READY, CREATE_PATH, auth, create, login
from tests.jobs.support import WebhookReceiver
from tests.postgres import Cluster
from tests.postgres_serve.support import two_replicas
from tests.workers.support import Workers, wait_until

QUERY_BY_NAME = "/zstack/v1/images?q=name={}"


def names(client: httpx.Client, session: str, name: str) -> list[str]:
    answer = client.get(QUERY_BY_NAME.format(name), headers=auth(session))
    assert answer.status_code == 200, answer.text
    return [image["name"] for image in answer.json()["inventories"]]


@pytest.fixture(scope="module")
def replicas(postgres_cluster: Cluster) -> Iterator[tuple[Workers, Workers]]:
    """Replica A (one process) and replica B (``--workers 2``) over one new database."""
    with two_replicas(postgres_cluster.database()) as both:
        yield both


@pytest.fixture
def clients(replicas: tuple[Workers, Workers]) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    first, second = replicas
    with first.client() as a, second.client() as b:
        assert a.post("/_mock/reset").status_code == 200
        yield a, b


def test_one_server_over_postgresql_logs_in_creates_queries_and_restores(
    clients: tuple[httpx.Client, httpx.Client],
) -> None:
    client, _ = clients
    session = login(client)
    made = create(client, session, name="before-snapshot")
    assert made.status_code == 200, made.text
    assert names(client, session, "before-snapshot") == ["before-snapshot"]
    assert client.post("/_mock/snapshots", json={"name": "base"}).status_code == 201

    assert create(client, session, name="after-snapshot").status_code == 200
    restored = client.post("/_mock/snapshots/base/restore")
    assert restored.status_code == 200, restored.text
    assert names(client, session, "after-snapshot") == []
    assert names(client, session, "before-snapshot") == ["before-snapshot"]  # the session came back too

    rule = client.post("/_mock/faults", json={"match": {"operation": "QueryImage"}, "times": 1,
                                              "error": {"code": "SYS.1012", "details": "node down"}})
    assert rule.status_code == 201, rule.text
    assert client.get("/zstack/v1/images", headers=auth(session)).status_code == 503
    assert client.get("/zstack/v1/images", headers=auth(session)).status_code == 200

    reset = client.post("/_mock/reset")
    assert reset.status_code == 200, reset.text
    assert reset.json()["cleared"]["faultRules"] == 1
    assert client.get("/zstack/v1/images", headers=auth(session)).status_code == 503  # the session is gone
    assert names(client, login(client), "before-snapshot") == []
    assert client.delete("/_mock/snapshots/base").status_code == 200


def test_a_session_made_on_one_replica_works_on_the_other(clients: tuple[httpx.Client, httpx.Client]) -> None:
    a, b = clients
    session = login(a)
    assert b.get("/zstack/v1/images", headers=auth(session)).status_code == 200
    assert b.delete(f"/zstack/v1/accounts/sessions/{session}").status_code == 200
    assert a.get("/zstack/v1/images", headers=auth(session)).status_code == 503


def test_a_create_on_one_replica_is_seen_by_a_query_on_the_other_at_once(
    clients: tuple[httpx.Client, httpx.Client],
) -> None:
    a, b = clients
    session = login(b)
    assert names(b, session, "shared-*") == []  # B's query is now kept by B
    for round_ in range(5):
        assert create(a, session, name=f"shared-{round_}").status_code == 200
        assert names(b, session, f"shared-{round_}") == [f"shared-{round_}"]


def test_a_rule_set_on_one_replica_fires_once_for_requests_to_both(clients: tuple[httpx.Client, httpx.Client]) -> None:
    a, b = clients
    session = login(a)
    rule = b.post("/_mock/faults", json={"match": {"operation": "QueryImage"}, "times": 1,
                                         "error": {"code": "SYS.1012", "details": "node down"}})
    assert rule.status_code == 201, rule.text
    statuses = Counter(
        client.get("/zstack/v1/images", headers=auth(session)).status_code for _ in range(10) for client in (a, b)
    )
    assert statuses == {503: 1, 200: 19}
    counters = a.get(f"/_mock/faults/{rule.json()['id']}").json()
    assert (counters["matched"], counters["fired"], counters["spent"]) == (1, 1, True)



def test_a_rest_job_accepted_by_one_replica_is_polled_on_the_other_and_finished_once(
    clients: tuple[httpx.Client, httpx.Client],
) -> None:
    a, b = clients
    session = login(a)
    receiver = WebhookReceiver()
    try:
        accepted = a.post(CREATE_PATH.format(BACKUP_WITH_METADATA),
                          json={"params": {"backupStorageUuid": BS_READY, "name": "async-rest"}},
                          headers={**auth(session), "Prefer": "respond-async", "X-Web-Hook": receiver.url})
        assert accepted.status_code == 202, accepted.text
        poll = f"/zstack/v1/api-jobs/{accepted.json()['location'].rsplit('/', 1)[1]}"
        wait_until(lambda: _polled(b, poll, 202).status_code == 200, timeout=60)

        assert len({a.get(poll).text, b.get(poll).text, b.get(poll).text}) == 1  # one result, on both
        assert names(a, session, "async-rest") == ["async-rest"]
        assert receiver.wait_for(1, timeout=30)[0].headers["x-job-success"] == "true"
        time.sleep(1)  # room for a second delivery, from the other replica's job runner, to show up
        assert len(receiver.deliveries) == 1
    finally:
        receiver.close()


def test_an_rpc_job_accepted_by_one_replica_is_polled_on_the_other_and_finished_once(
    clients: tuple[httpx.Client, httpx.Client],
) -> None:
    a, b = clients
    session = login(a)
    accepted = a.post("/zstack/api", json={RPC_CREATE: {"backupUuid": BACKUP_WITH_METADATA, "backupStorageUuid": BS_READY,
                                                        "name": "async-rpc", "session": {"uuid": session}}})
    assert accepted.status_code == 200, accepted.text
    poll = f"/zstack/api/result/{accepted.json()['uuid']}"
    wait_until(lambda: _polled(b, poll, 200).json()["state"] == "Done", timeout=60)

    assert len({a.get(poll).text, b.get(poll).text, b.get(poll).text}) == 1
    assert "inventory" in b.get(poll).json()["result"]
    assert names(b, session, "async-rpc") == ["async-rpc"]


def _polled(client: httpx.Client, path: str, running_status: int) -> httpx.Response:
    answer = client.get(path)
    assert answer.status_code in (running_status, 200), answer.text
    return answer
