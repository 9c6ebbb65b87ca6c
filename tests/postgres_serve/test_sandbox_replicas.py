"""A sandbox served by two replicas over one PostgreSQL database: a visitor keeps its private fake cloud
whichever replica its next request lands on, and no visitor sees another's."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from tests.helpers import (
    BACKUP_WITH_METADATA,
    BS_READY,
    CREATE_PATH,
    assert_zstack_error,
    auth,
    create,
    login,
)
from tests.postgres import Cluster
from tests.postgres_serve.support import two_replicas
from tests.workers.support import Workers

SANDBOX = ("--sandbox", "--no-public-profile", "--sandbox-rate-limit", "0")


def image_names(client: httpx.Client, session: str) -> set[str]:
    answer = client.get("/zstack/v1/images", headers=auth(session))
    assert answer.status_code == 200, answer.text
    return {image["name"] for image in answer.json()["inventories"]}


@pytest.fixture(scope="module")
def database(postgres_cluster: Cluster) -> str:
    return postgres_cluster.database()


@pytest.fixture(scope="module")
def replicas(database: str) -> Iterator[tuple[Workers, Workers]]:
    """Replica A (one process) and replica B (``--workers 2``), both ``--sandbox``, over one database."""
    with two_replicas(database, *SANDBOX) as both:
        yield both


@pytest.fixture
def clients(replicas: tuple[Workers, Workers]) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    first, second = replicas
    with first.client() as a, second.client() as b:
        assert a.delete("/_mock/sandbox").status_code == 200
        yield a, b


def test_a_visitor_keeps_its_cloud_on_either_replica_and_sees_no_one_else_s(
    clients: tuple[httpx.Client, httpx.Client],
) -> None:
    a, b = clients
    visitor, other = login(a), login(b)
    assert create(a, visitor, name="made-on-a").status_code == 200
    assert create(b, other, name="made-on-b").status_code == 200
    for client in (a, b, a, b):
        mine, theirs = image_names(client, visitor), image_names(client, other)
        assert "made-on-a" in mine and "made-on-b" not in mine
        assert "made-on-b" in theirs and "made-on-a" not in theirs
    assert a.get("/_mock/sandbox").json()["tenants"] == b.get("/_mock/sandbox").json()["tenants"] == 2


def test_a_visitor_s_job_accepted_by_one_replica_is_polled_on_the_other(
    clients: tuple[httpx.Client, httpx.Client],
) -> None:
    a, b = clients
    visitor = login(a)
    accepted = a.post(
        CREATE_PATH.format(BACKUP_WITH_METADATA),
        json={"params": {"backupStorageUuid": BS_READY, "name": "async-on-a"}},
        headers={**auth(visitor), "Prefer": "respond-async"},
    )
    assert accepted.status_code == 202, accepted.text
    location = httpx.URL(accepted.json()["location"]).path
    deadline = time.monotonic() + 10
    while (polled := b.get(location)).status_code == 202 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert polled.status_code == 200, polled.text
    assert polled.json()["inventory"]["name"] == "async-on-a"
    assert sorted(n for n in image_names(b, visitor) if n == "async-on-a") == ["async-on-a"]
    assert "async-on-a" not in image_names(b, login(b))


def test_a_visitor_s_fault_rule_set_on_one_replica_fires_on_the_other_for_it_alone(
    clients: tuple[httpx.Client, httpx.Client],
) -> None:
    a, b = clients
    visitor, other = login(a), login(a)
    rule = b.post("/_mock/faults", headers={"X-Mock-Session": visitor},
                  json={"match": {"operation": "QueryImage"}, "times": 1, "error": {"code": "SYS.1012"}})
    assert rule.status_code == 201, rule.text
    assert a.get("/zstack/v1/images", headers=auth(other)).status_code == 200
    assert_zstack_error(a.get("/zstack/v1/images", headers=auth(visitor)), "SYS.1012")
    assert b.get("/zstack/v1/images", headers=auth(visitor)).status_code == 200  # times: 1, across both


def test_evicting_on_one_replica_drops_the_tenant_on_both_and_its_schema(
    clients: tuple[httpx.Client, httpx.Client], database: str,
) -> None:
    a, b = clients
    visitor = login(a)
    assert create(a, visitor, name="evicted-soon").status_code == 200
    assert "evicted-soon" in image_names(b, visitor)
    assert b.delete("/_mock/sandbox").json() == {"evicted": 1}
    # The local profile gives the session, now unknown, a fresh tenant of its own.
    assert "evicted-soon" not in image_names(a, visitor)
    assert "evicted-soon" not in image_names(b, visitor)
    with psycopg.connect(database) as conn:
        (schemas,) = conn.execute(
            "SELECT COUNT(*) FROM pg_namespace WHERE starts_with(nspname, 'sandbox_t_')").fetchone() or (None,)
        (tenants,) = conn.execute("SELECT COUNT(*) FROM sandbox_tenant").fetchone() or (None,)
    assert schemas == tenants == 1
