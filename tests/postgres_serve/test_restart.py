"""A PostgreSQL restart under a running server: its next requests are answered as before, on new
connections (the server's own store, the sandbox's registry and a tenant's), never with an error."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

from tests.helpers import auth, create, login
from tests.postgres import Cluster
from tests.workers.support import Workers


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    """A cluster of this test's own: restarting the worker's shared one would cut other tests' servers."""
    started = Cluster()
    try:
        yield started.start()
    finally:
        started.stop()


def test_requests_after_a_database_restart_are_answered_on_new_connections(cluster: Cluster) -> None:
    server = Workers(cluster.database(), "--sandbox", "--no-public-profile", "--sandbox-rate-limit", "0", workers="1")
    try:
        with server.client() as client:
            visitor = login(client)
            assert create(client, visitor, name="before-the-restart").status_code == 200
            rule = client.post("/_mock/faults", json={"match": {"operation": "QueryZone"}, "error": {"code": "SYS.1000"}})
            assert rule.status_code == 201, rule.text

            cluster.restart()

            images = client.get("/zstack/v1/images", headers=auth(visitor))  # the registry's, the tenant's
            assert images.status_code == 200, images.text
            assert "before-the-restart" in [i["name"] for i in images.json()["inventories"]]
            assert create(client, visitor, name="after-the-restart").status_code == 200
            rules = client.get("/_mock/faults")  # the server's own store
            assert rules.status_code == 200, rules.text
            assert [r["id"] for r in rules.json()["rules"]] == [rule.json()["id"]]
            assert login(client)
    finally:
        code, _, stderr = server.stop()
    assert code in (0, -signal.SIGTERM), stderr  # one process ends by the signal it was sent
    assert "Traceback" not in stderr, stderr
