"""Async jobs on real sockets: SDK-style polling, webhooks to a loopback receiver, restarts."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from tests.conftest import LiveServer
from tests.helpers import BACKUP_WITH_METADATA, BS_DISCONNECTED, BS_READY, CREATE_PATH, auth, login
from tests.jobs.support import WebhookReceiver, free_port, host_and_port, poll_until_done, sdk_poll_url

StartServer = Callable[..., LiveServer]
BODY = {"params": {"backupStorageUuid": BS_READY, "name": "over the wire"}}


def submit(client: httpx.Client, session: str, headers: dict[str, str], body: Any = BODY) -> httpx.Response:
    return client.post(
        CREATE_PATH.format(BACKUP_WITH_METADATA), json=body, headers={**auth(session), **headers}
    )


def control_job(client: httpx.Client, job_uuid: str) -> dict[str, Any]:
    response = client.get(f"/_mock/jobs/{job_uuid}")
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    return job


def wait_for_webhook_status(client: httpx.Client, job_uuid: str, status: str, timeout: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = control_job(client, job_uuid)
        if job["webhook"] and job["webhook"]["status"] == status:
            return job
        time.sleep(0.05)
    raise AssertionError(f"webhook of job {job_uuid} never reached {status}: {control_job(client, job_uuid)}")


def test_java_sdk_style_client_polls_a_rebuilt_location(live_server: StartServer) -> None:
    server = live_server(api_mode="async", job_duration="0.3", public_url="http://10.255.255.1:8080")
    host, port = host_and_port(server.url)
    with httpx.Client(base_url=server.url) as client:
        session = login(client)
        job_uuid = "5d0c9c1f8f0e4a3c9b7e6d5c4b3a2910"
        started = time.monotonic()
        accepted = submit(client, session, {"X-Job-UUID": job_uuid, "X-JSON-Schema": "true"})
        assert accepted.status_code == 202
        location = accepted.json()["location"]
        assert location == f"http://10.255.255.1:8080/zstack/v1/api-jobs/{job_uuid}"
        seen_running: list[int] = []
        done = poll_until_done(
            client,
            sdk_poll_url(location, host, port),
            {**auth(session), "X-JSON-Schema": "true"},
            on_running=lambda r: seen_running.append(r.status_code),
        )
        elapsed = time.monotonic() - started
    assert done.status_code == 200
    assert seen_running, "the job was never seen running"
    assert elapsed >= 0.3
    body = done.json()
    assert body["inventory"]["status"] == "Ready"
    assert body["schema"]["inventory"] == "org.zstack.header.image.ImageInventory"


def test_go_sdk_style_client_without_job_uuid(live_server: StartServer) -> None:
    server = live_server(api_mode="async", job_duration="0.1")
    host, port = host_and_port(server.url)
    with httpx.Client(base_url=server.url) as client:
        session = login(client)
        headers = {**auth(session), "x-session-id": session}
        accepted = client.post(CREATE_PATH.format(BACKUP_WITH_METADATA), json=BODY, headers=headers)
        body = accepted.json()
        assert "location" in body
        done = poll_until_done(client, sdk_poll_url(body["location"], host, port), headers)
    assert done.status_code == 200
    assert done.json()["inventory"]["name"] == "over the wire"


def test_webhook_receives_the_poll_body_with_job_headers(
    live_server: StartServer, receivers: Callable[..., WebhookReceiver]
) -> None:
    server = live_server(job_duration="0.1")
    receiver = receivers()
    with httpx.Client(base_url=server.url) as client:
        session = login(client)
        accepted = submit(client, session, {"X-Web-Hook": receiver.url})
        job_uuid = accepted.json()["location"].rsplit("/", 1)[1]
        [delivery] = receiver.wait_for(1)
        polled = client.get(f"/zstack/v1/api-jobs/{job_uuid}")
        assert wait_for_webhook_status(client, job_uuid, "Delivered")["webhook"]["attempts"] == 1
    assert delivery.headers["x-job-uuid"] == job_uuid
    assert delivery.headers["x-job-success"] == "true"
    assert delivery.headers["content-type"] == "application/json; charset=utf-8"
    assert polled.status_code == 200
    assert delivery.body == polled.json()


def test_webhook_of_a_failed_job_carries_the_error(
    live_server: StartServer, receivers: Callable[..., WebhookReceiver]
) -> None:
    server = live_server(job_duration="0.1")
    receiver = receivers()
    with httpx.Client(base_url=server.url) as client:
        session = login(client)
        body = {"params": {"backupStorageUuid": BS_DISCONNECTED, "name": "doomed"}}
        submit(client, session, {"X-Web-Hook": receiver.url, "X-JSON-Schema": "true"}, body)
        [delivery] = receiver.wait_for(1)
    assert delivery.headers["x-job-success"] == "false"
    assert set(delivery.body) == {"error"}
    assert delivery.body["error"]["code"] == "SYS.1002"


def test_webhook_is_retried_until_the_receiver_comes_up(
    live_server: StartServer, receivers: Callable[..., WebhookReceiver]
) -> None:
    port = free_port()
    server = live_server(job_duration="0", webhook_interval=0.2)
    with httpx.Client(base_url=server.url) as client:
        session = login(client)
        accepted = submit(client, session, {"X-Web-Hook": f"http://127.0.0.1:{port}/webhook"})
        job_uuid = accepted.json()["location"].rsplit("/", 1)[1]
        deadline = time.monotonic() + 5
        while control_job(client, job_uuid)["webhook"]["attempts"] < 2:
            assert time.monotonic() < deadline, "the webhook was not retried"
            time.sleep(0.05)
        assert control_job(client, job_uuid)["webhook"]["lastError"]
        receiver = receivers(port=port)
        [delivery] = receiver.wait_for(1)
        job = wait_for_webhook_status(client, job_uuid, "Delivered")
    assert job["webhook"]["attempts"] >= 3
    assert delivery.headers["x-job-uuid"] == job_uuid


def test_webhook_retries_non_2xx_answers(live_server: StartServer, receivers: Callable[..., WebhookReceiver]) -> None:
    server = live_server(job_duration="0", webhook_interval=0.05)
    receiver = receivers(statuses=[500, 503])
    with httpx.Client(base_url=server.url) as client:
        session = login(client)
        job_uuid = submit(client, session, {"X-Web-Hook": receiver.url}).json()["location"].rsplit("/", 1)[1]
        deliveries = receiver.wait_for(3)
        job = wait_for_webhook_status(client, job_uuid, "Delivered")
    assert job["webhook"]["attempts"] == 3
    assert [d.body for d in deliveries[:1]] == [deliveries[2].body]


def test_a_webhook_that_never_succeeds_loses_no_result(live_server: StartServer) -> None:
    port = free_port()
    server = live_server(job_duration="0", webhook_interval=0.05, webhook_attempts=3)
    with httpx.Client(base_url=server.url) as client:
        session = login(client)
        accepted = submit(client, session, {"X-Web-Hook": f"http://127.0.0.1:{port}/webhook"})
        job_uuid = accepted.json()["location"].rsplit("/", 1)[1]
        job = wait_for_webhook_status(client, job_uuid, "Failed")
        polled = client.get(f"/zstack/v1/api-jobs/{job_uuid}")
    assert job["webhook"]["attempts"] == 3
    assert polled.status_code == 200
    assert polled.json()["inventory"]["status"] == "Ready"


def test_a_job_running_when_the_server_stops_finishes_after_a_restart(live_server: StartServer) -> None:
    # Long enough that the poll below finds it running on a busy machine.
    first = live_server(job_duration="2")
    with httpx.Client(base_url=first.url) as client:
        session = login(client)
        accepted = submit(client, session, {"Prefer": "respond-async"})
        submitted = time.monotonic()
        job_uuid = accepted.json()["location"].rsplit("/", 1)[1]
        assert client.get(f"/zstack/v1/api-jobs/{job_uuid}").status_code == 202
    first.stop()
    time.sleep(max(0.0, submitted + 2.2 - time.monotonic()))  # the job falls due while no server runs

    second = live_server(job_duration="2")
    with httpx.Client(base_url=second.url) as client:
        deadline = time.monotonic() + 5
        while control_job(client, job_uuid)["status"] == "Running":  # the runner, not a poll, finishes it
            assert time.monotonic() < deadline
            time.sleep(0.02)
        polled = client.get(f"/zstack/v1/api-jobs/{job_uuid}")
        found = client.get(f"/zstack/v1/images/{polled.json()['inventory']['uuid']}", headers=auth(session))
    assert polled.status_code == 200
    assert found.json()["inventories"][0]["status"] == "Ready"


def test_a_held_job_stays_held_across_a_restart(live_server: StartServer) -> None:
    first = live_server()
    with httpx.Client(base_url=first.url) as client:
        client.put("/_mock/jobs/settings", json={"holdNewJobs": True})
        session = login(client)
        job_uuid = submit(client, session, {"Prefer": "respond-async"}).json()["location"].rsplit("/", 1)[1]
    first.stop()
    second = live_server()
    with httpx.Client(base_url=second.url) as client:
        assert client.get("/_mock/jobs/settings").json()["holdNewJobs"] is True
        assert control_job(client, job_uuid)["held"] is True
        assert client.get(f"/zstack/v1/api-jobs/{job_uuid}").status_code == 202
        client.post(f"/_mock/jobs/{job_uuid}/release")
        assert client.get(f"/zstack/v1/api-jobs/{job_uuid}").status_code == 200
