"""Two server processes over one database: every job finishes once and its webhook fires once."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from tests.helpers import BACKUP_WITH_METADATA, BS_READY, CREATE_PATH, auth, login
from tests.jobs.support import WebhookReceiver, free_port

JOBS = 40


def start_server(database_url: str, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable, "-m", "app", "serve", "--port", str(port), "--database-url", database_url,
            "--job-duration", "0.05-0.3", "--webhook-interval", "0.1", "--log-level", "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_healthy(url: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/_mock/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{url} did not start")


@pytest.fixture
def two_servers(database_url: str) -> Iterator[list[str]]:
    ports = [free_port(), free_port()]
    first = start_server(database_url, ports[0])
    wait_healthy(f"http://127.0.0.1:{ports[0]}")  # the first loads the fixtures; the second finds them
    second = start_server(database_url, ports[1])
    processes = [first, second]
    try:
        wait_healthy(f"http://127.0.0.1:{ports[1]}")
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


def test_jobs_accepted_by_either_process_finish_exactly_once(two_servers: list[str]) -> None:
    receiver = WebhookReceiver()
    try:
        clients = [httpx.Client(base_url=url) for url in two_servers]
        session = login(clients[0])
        images_before = len(clients[1].get("/zstack/v1/images", headers=auth(session)).json()["inventories"])
        accepted: list[str] = []
        for index in range(JOBS):
            response = clients[index % 2].post(
                CREATE_PATH.format(BACKUP_WITH_METADATA),
                json={"params": {"backupStorageUuid": BS_READY, "name": f"job-{index}"}},
                headers={**auth(session), "X-Web-Hook": receiver.url},
            )
            assert response.status_code == 202, response.text
            accepted.append(response.json()["location"].rsplit("/", 1)[1])

        receiver.wait_for(JOBS, timeout=30)
        time.sleep(0.5)  # room for a duplicate delivery to show up
        delivered = Counter(d.headers["x-job-uuid"] for d in receiver.deliveries)
        assert delivered == Counter(accepted)
        assert all(d.headers["x-job-success"] == "true" for d in receiver.deliveries)

        for job_uuid in accepted:
            polled = clients[1].get(f"/zstack/v1/api-jobs/{job_uuid}")
            assert polled.status_code == 200
        images = clients[0].get("/zstack/v1/images", headers=auth(session)).json()["inventories"]
        created = [i for i in images if i["name"].startswith("job-")]
        assert len(images) == images_before + JOBS
        assert len(created) == JOBS
        assert all(i["status"] == "Ready" and len(i["backupStorageRefs"]) == 1 for i in created)
        for client in clients:
            client.close()
    finally:
        receiver.close()
