"""Two server processes over one database share the fault rules and their counters."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.helpers import auth, login
from tests.jobs.support import free_port
from tests.jobs.test_two_processes import start_server, wait_healthy


@pytest.fixture
def two_workers(database_url: str) -> Iterator[list[httpx.Client]]:
    ports = [free_port(), free_port()]
    processes = [start_server(database_url, ports[0])]
    try:
        wait_healthy(f"http://127.0.0.1:{ports[0]}")
        processes.append(start_server(database_url, ports[1]))
        wait_healthy(f"http://127.0.0.1:{ports[1]}")
        clients = [httpx.Client(base_url=f"http://127.0.0.1:{port}") for port in ports]
        yield clients
        for client in clients:
            client.close()
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


def test_a_rule_added_on_one_worker_fires_on_the_other_and_times_counts_across_both(
    two_workers: list[httpx.Client],
) -> None:
    first, second = two_workers
    session = login(first)
    second.get("/zstack/v1/images", headers=auth(session)).raise_for_status()  # the second has compiled "no rules"

    added = first.post("/_mock/faults", json={
        "match": {"operation": "QueryImage"}, "times": 3, "error": {"code": "SYS.1012", "details": "node down"},
    })
    assert added.status_code == 201, added.text
    rule_id = added.json()["id"]

    statuses = [client.get("/zstack/v1/images", headers=auth(session)).status_code
                for client in (second, first, second, first, second)]
    assert statuses == [503, 503, 503, 200, 200]

    for client in (first, second):
        rule = client.get(f"/_mock/faults/{rule_id}").json()
        assert (rule["matched"], rule["fired"], rule["spent"]) == (3, 3, True)


def test_deleting_rules_on_one_worker_stops_them_on_the_other(two_workers: list[httpx.Client]) -> None:
    first, second = two_workers
    session = login(first)
    first.post("/_mock/faults", json={"match": {"operation": "QueryImage"}, "http": {"status": 502}})
    assert second.get("/zstack/v1/images", headers=auth(session)).status_code == 502

    assert first.delete("/_mock/faults").json() == {"deleted": 1}
    assert second.get("/zstack/v1/images", headers=auth(session)).status_code == 200
