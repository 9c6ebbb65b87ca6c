"""The REST async protocol through HTTP: choosing async, the 202, polling, job headers, results."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.helpers import (
    BACKUP_OF_ALICE,
    BACKUP_WITH_METADATA,
    BS_DISABLED,
    BS_DISCONNECTED,
    BS_READY,
    CREATE_PATH,
    FakeClock,
    assert_plain_text,
    assert_zstack_error,
    auth,
    login,
    sha512,
    use_clock,
)

ASYNC = {"Prefer": "respond-async"}
JOB_UUID = "0f1e2d3c4b5a49687766554433221100"
IMAGE_CLASS = "org.zstack.header.image.ImageInventory"
REF_CLASS = "org.zstack.header.image.ImageBackupStorageRefInventory"

StartClient = Callable[..., TestClient]


@pytest.fixture
def start_client(make_app: Callable[..., FastAPI]) -> Iterator[StartClient]:
    with ExitStack() as stack:

        def start(**overrides: Any) -> TestClient:
            return stack.enter_context(TestClient(make_app(**overrides), raise_server_exceptions=False))

        yield start


@pytest.fixture
def held(start_client: StartClient) -> TestClient:
    """A server whose new jobs wait until released, so a test sees them running."""
    client = start_client()
    assert client.put("/_mock/jobs/settings", json={"holdNewJobs": True}).status_code == 200
    return client


def submit(
    client: TestClient,
    session: str,
    backup: str = BACKUP_WITH_METADATA,
    *,
    headers: dict[str, str] | None = None,
    body: Any = None,
    **params: Any,
) -> Any:
    payload = body if body is not None else {"params": {"backupStorageUuid": BS_READY, "name": "async", **params}}
    return client.post(CREATE_PATH.format(backup), json=payload, headers={**auth(session), **ASYNC, **(headers or {})})


def job_path(accepted: Any) -> str:
    assert accepted.status_code == 202, accepted.text
    location: str = accepted.json()["location"]
    return location[location.index("/zstack/v1/api-jobs/"):]


def finish(client: TestClient, accepted: Any) -> Any:
    """Complete the job through the control API and return the poll's answer."""
    path = job_path(accepted)
    assert client.post(f"/_mock/jobs/{path.rsplit('/', 1)[1]}/complete").status_code == 200
    return client.get(path)


def image(client: TestClient, session: str, uuid: str) -> dict[str, Any] | None:
    found = client.get(f"/zstack/v1/images/{uuid}", headers=auth(session)).json()["inventories"]
    return found[0] if found else None


# -- choosing sync or async ------------------------------------------------------------------------


def test_prefer_respond_async_answers_202_with_location_and_api_timeout(held: TestClient) -> None:
    session = login(held)
    accepted = submit(held, session)
    assert accepted.status_code == 202
    body = accepted.json()
    assert set(body) == {"location", "apiTimeout"}
    assert body["apiTimeout"] == 259200000
    assert body["location"].startswith("http://testserver/zstack/v1/api-jobs/")
    assert len(body["location"].rsplit("/", 1)[1]) == 32
    assert accepted.headers["location"] == body["location"]
    assert accepted.headers["preference-applied"] == "respond-async"


def test_server_in_async_mode_answers_202_unless_the_request_prefers_sync(start_client: StartClient) -> None:
    client = start_client(api_mode="async")
    session = login(client)
    path = CREATE_PATH.format(BACKUP_WITH_METADATA)
    body = {"params": {"backupStorageUuid": BS_READY, "name": "mode"}}
    assert client.post(path, json=body, headers=auth(session)).status_code == 202
    synchronous = client.post(path, json=body, headers={**auth(session), "Prefer": "respond-sync"})
    assert synchronous.status_code == 200
    assert synchronous.json()["inventory"]["status"] == "Ready"


def test_a_webhook_makes_the_call_async_even_when_sync_is_preferred(held: TestClient) -> None:
    session = login(held)
    accepted = submit(held, session, headers={"Prefer": "respond-sync", "X-Web-Hook": "http://127.0.0.1:9/hook"})
    assert accepted.status_code == 202


def test_sync_default_is_unchanged_without_async_headers(start_client: StartClient) -> None:
    client = start_client()
    session = login(client)
    response = client.post(
        CREATE_PATH.format(BACKUP_WITH_METADATA),
        json={"params": {"backupStorageUuid": BS_READY, "name": "sync"}},
        headers=auth(session),
    )
    assert response.status_code == 200
    assert "schema" not in response.json()


def test_sync_reply_carries_the_schema_when_asked(start_client: StartClient) -> None:
    client = start_client()
    session = login(client)
    response = client.post(
        CREATE_PATH.format(BACKUP_WITH_METADATA),
        json={"params": {"backupStorageUuid": BS_READY, "name": "sync"}},
        headers={**auth(session), "X-JSON-Schema": "true"},
    )
    assert list(response.json()) == ["schema", "inventory"]  # a java.util.HashMap's order
    assert list(response.json()["schema"].items()) == [("inventory", IMAGE_CLASS),
                                                       ("inventory.backupStorageRefs[0]", REF_CLASS)]


def test_x_job_uuid_alone_makes_the_call_async_as_the_sdks_send_it(start_client: StartClient) -> None:
    """ZStack's Java SDK sends X-Job-UUID with every call and completes only through the poll."""
    client = start_client()
    session = login(client)
    accepted = client.post(
        CREATE_PATH.format(BACKUP_WITH_METADATA),
        json={"params": {"backupStorageUuid": BS_READY, "name": "sdk"}},
        headers={**auth(session), "X-Job-UUID": JOB_UUID, "X-JSON-Schema": "true"},
    )
    assert accepted.status_code == 202
    assert accepted.text.startswith('{"apiTimeout":')  # the HashMap's order: apiTimeout, location
    assert job_path(accepted) == f"/zstack/v1/api-jobs/{JOB_UUID}"


def test_a_sync_api_checks_x_job_uuid_as_rest_server_does(held: TestClient) -> None:
    session = login(held)
    login_path = "/zstack/v1/accounts/login"
    body = {"logInByAccount": {"accountName": "admin", "password": sha512("password")}}
    short = held.put(login_path, json=body, headers={"X-Job-UUID": JOB_UUID[:31]})
    assert_plain_text(short, 400, "Invalid header[X-Job-UUID], it must be a UUID with '-' stripped")
    assert held.put(login_path, json=body, headers={"X-Job-UUID": JOB_UUID}).status_code == 200
    assert submit(held, session, headers={"X-Job-UUID": JOB_UUID}).status_code == 202
    reused = held.put(login_path, json=body, headers={"X-Job-UUID": JOB_UUID})
    assert_plain_text(reused, 400, f"Duplicate job uuid[{JOB_UUID}]")
    # RestServer checks reuse on POST, PUT and DELETE only.
    valid = held.get(f"/zstack/v1/accounts/sessions/{session}/valid", headers={"X-Job-UUID": JOB_UUID})
    assert valid.status_code == 200


def test_success_and_poll_bodies_escape_html_as_gson_does_and_sync_errors_do_not(start_client: StartClient) -> None:
    client = start_client()
    session = login(client)
    path = CREATE_PATH.format(BACKUP_WITH_METADATA)
    created = client.post(path, json={"params": {"backupStorageUuid": BS_READY, "name": "a=b'c<d>&"}},
                          headers=auth(session))
    assert created.status_code == 200
    assert '"name":"a\\u003db\\u0027c\\u003cd\\u003e\\u0026"' in created.text
    assert created.json()["inventory"]["name"] == "a=b'c<d>&"
    refused = client.post(path, json={"params": {"backupStorageUuid": BS_READY, "name": "x", "platform": "a=b"}},
                          headers=auth(session))
    assert_zstack_error(refused, "SYS.1007")
    assert "but a=b found" in refused.text
    accepted = submit(client, session, name="p=q")
    polled = finish(client, accepted)
    assert '"name":"p\\u003dq"' in polled.text


# -- the job's life ----------------------------------------------------------------------------------


def test_image_is_downloading_while_the_job_runs_and_ready_after(held: TestClient) -> None:
    session = login(held)
    accepted = submit(held, session, name="in flight")
    path = job_path(accepted)
    running = held.get(path)
    assert running.status_code == 202
    assert running.json() == {}
    job = held.get(f"/_mock/jobs/{path.rsplit('/', 1)[1]}").json()
    assert job["status"] == "Running" and job["held"] is True
    downloading = image(held, session, job["resourceUuid"])
    assert downloading is not None
    assert downloading["status"] == "Downloading"
    assert downloading["backupStorageRefs"][0]["status"] == "Downloading"

    assert held.post("/_mock/jobs/release").status_code == 200
    done = held.get(path)
    assert done.status_code == 200
    inventory = done.json()["inventory"]
    assert inventory["uuid"] == job["resourceUuid"]
    assert inventory["status"] == "Ready" and inventory["name"] == "in flight"
    assert "schema" not in done.json()
    ready = image(held, session, job["resourceUuid"])
    assert ready is not None and ready["status"] == "Ready"


def test_poll_with_json_schema_header_adds_the_schema_map(held: TestClient) -> None:
    session = login(held)
    accepted = submit(held, session)
    finish(held, accepted)
    polled = held.get(job_path(accepted), headers={"X-JSON-Schema": "true"})
    assert list(polled.json()["schema"].items()) == [("inventory", IMAGE_CLASS),
                                                     ("inventory.backupStorageRefs[0]", REF_CLASS)]


def test_job_finishes_by_itself_after_its_duration(start_client: StartClient) -> None:
    client = start_client(job_duration="0")
    session = login(client)
    polled = client.get(job_path(submit(client, session)))
    assert polled.status_code == 200
    assert polled.json()["inventory"]["status"] == "Ready"


@pytest.mark.parametrize(
    ("backup", "params", "session_kind", "code"),
    [
        (BACKUP_WITH_METADATA, {"name": None}, "admin", "SYS.1007"),
        ("0" * 32, {}, "admin", "SYS.1003"),
        (BACKUP_WITH_METADATA, {}, "unknown", "ID.1001"),
        (BACKUP_OF_ALICE, {}, "bob", "ID.1002"),
        (BACKUP_WITH_METADATA, {"backupStorageUuid": BS_DISABLED}, "admin", "SYS.1006"),
    ],
    ids=["missing-name", "unknown-backup", "bad-session", "not-owner", "disabled-storage"],
)
def test_every_check_fails_through_the_job_not_the_202(
    held: TestClient, backup: str, params: dict[str, Any], session_kind: str, code: str
) -> None:
    session = {"admin": login(held), "bob": login(held, "bob"), "unknown": "f" * 32}[session_kind]
    accepted = submit(held, session, backup, **params)
    assert accepted.status_code == 202
    job = held.get(f"/_mock/jobs/{job_path(accepted).rsplit('/', 1)[1]}").json()
    assert job["resourceUuid"] is None
    assert held.get(job_path(accepted)).status_code == 202
    assert_zstack_error(finish(held, accepted), code)


def test_malformed_params_fail_through_the_job(held: TestClient) -> None:
    session = login(held)
    accepted = submit(held, session, body={"params": ["not", "an", "object"]})
    error = assert_zstack_error(finish(held, accepted), "SYS.1007")
    assert "a JSON object was expected" in error["details"]


def test_download_failure_removes_the_downloading_image(held: TestClient) -> None:
    session = login(held)
    accepted = submit(held, session, backupStorageUuid=BS_DISCONNECTED)
    uuid = job_path(accepted).rsplit("/", 1)[1]
    image_uuid = held.get(f"/_mock/jobs/{uuid}").json()["resourceUuid"]
    assert image(held, session, image_uuid) is not None
    error = assert_zstack_error(finish(held, accepted), "SYS.1002")
    assert error["cause"]["code"] == "SYS.1006"
    assert "Disconnected" in error["cause"]["details"]
    assert image(held, session, image_uuid) is None


def test_failing_a_job_by_hand_removes_its_image(held: TestClient) -> None:
    session = login(held)
    accepted = submit(held, session)
    uuid = job_path(accepted).rsplit("/", 1)[1]
    failed = held.post(
        f"/_mock/jobs/{uuid}/fail",
        json={"code": "SYS.1002", "details": "disk full", "cause": {"code": "SYS.1006", "details": "no space"}},
    )
    assert failed.status_code == 200
    image_uuid = failed.json()["resourceUuid"]
    assert failed.json()["status"] == "Failed"
    error = assert_zstack_error(held.get(job_path(accepted)), "SYS.1002", "disk full")
    assert error["cause"]["code"] == "SYS.1006"
    assert image(held, session, image_uuid) is None


# -- job headers -----------------------------------------------------------------------------------


def test_x_job_uuid_names_the_job_and_cannot_be_reused(held: TestClient) -> None:
    session = login(held)
    accepted = submit(held, session, headers={"X-Job-UUID": JOB_UUID})
    assert accepted.json()["location"].endswith(f"/zstack/v1/api-jobs/{JOB_UUID}")
    again = submit(held, session, headers={"X-Job-UUID": JOB_UUID})
    assert_plain_text(again, 400, f"Duplicate job uuid[{JOB_UUID}]")


@pytest.mark.parametrize("value", ["123", "0f1e2d3c-4b5a-4968-7766-554433221100"])
def test_x_job_uuid_must_be_32_characters(held: TestClient, value: str) -> None:
    response = submit(held, login(held), headers={"X-Job-UUID": value})
    assert_plain_text(response, 400, "Invalid header[X-Job-UUID], it must be a UUID with '-' stripped")


def test_x_api_timeout_is_in_seconds_and_reported_in_milliseconds(held: TestClient) -> None:
    accepted = submit(held, login(held), headers={"X-API-Timeout": "30"})
    assert accepted.json()["apiTimeout"] == 30000


@pytest.mark.parametrize("value", ["soon", "0", "-5", "1.5"])
def test_bad_x_api_timeout_is_a_400(held: TestClient, value: str) -> None:
    response = submit(held, login(held), headers={"X-API-Timeout": value})
    assert response.status_code == 400
    assert response.text.startswith("Invalid header[X-API-Timeout]")
    assert value in response.text


@pytest.mark.parametrize("value", ["not a url", "ftp://example.com/hook", "http://", "http://host:99999/x"])
def test_bad_webhook_url_is_a_400_and_no_job_is_created(held: TestClient, value: str) -> None:
    response = submit(held, login(held), headers={"X-Web-Hook": value})
    assert response.status_code == 400
    assert response.text.startswith("Invalid header[X-Web-Hook]")
    assert held.get("/_mock/jobs").json()["jobs"] == []


def test_job_that_outlives_its_api_timeout_fails_with_sys_1001(held: TestClient) -> None:
    clock = FakeClock(datetime.now(UTC))
    use_clock(held.app, clock)
    session = login(held)
    accepted = submit(held, session, headers={"X-API-Timeout": "10"})
    uuid = job_path(accepted).rsplit("/", 1)[1]
    image_uuid = held.get(f"/_mock/jobs/{uuid}").json()["resourceUuid"]
    clock.advance(9)
    assert held.get(job_path(accepted)).status_code == 202
    clock.advance(1)
    error = assert_zstack_error(held.get(job_path(accepted)), "SYS.1001")
    assert "10000 ms" in error["details"]
    assert image(held, session, image_uuid) is None


def test_public_url_sets_the_location_base(start_client: StartClient) -> None:
    client = start_client(public_url="https://zstack.example.com:8443/")
    accepted = submit(client, login(client))
    assert accepted.json()["location"].startswith("https://zstack.example.com:8443/zstack/v1/api-jobs/")


# -- polling ---------------------------------------------------------------------------------------


def test_unknown_job_is_a_404_in_plain_text(start_client: StartClient) -> None:
    client = start_client()
    assert_plain_text(client.get(f"/zstack/v1/api-jobs/{JOB_UUID}"), 404, "the job has been expired")


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_only_get_polls_a_job(start_client: StartClient, method: str) -> None:
    client = start_client()
    response = client.request(method, f"/zstack/v1/api-jobs/{JOB_UUID}")
    assert_plain_text(response, 405, "only GET method is allowed for querying job status")


def test_polling_needs_no_authorization(held: TestClient) -> None:
    accepted = submit(held, login(held))
    response = held.get(job_path(accepted), headers={"Authorization": "garbage"})
    assert response.status_code == 202


def test_finished_job_expires_after_its_retention(start_client: StartClient) -> None:
    client = start_client(job_duration="0", job_retention=60)
    clock = FakeClock(datetime.now(UTC))
    use_clock(client.app, clock)
    accepted = submit(client, login(client))
    assert client.get(job_path(accepted)).status_code == 200
    clock.advance(59)
    assert client.get(job_path(accepted)).status_code == 200
    clock.advance(1)
    assert_plain_text(client.get(job_path(accepted)), 404, "the job has been expired")


def test_control_api_reads_json_whatever_the_content_type(start_client: StartClient) -> None:
    client = start_client()
    response = client.put(
        "/_mock/jobs/settings",
        content=b'{"holdNewJobs": true, "duration": "0.5"}',
        headers={"Content-Type": "application/x-www-form-urlencoded"},  # what curl -d sends
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"holdNewJobs": True, "duration": "0.5"}


@pytest.mark.parametrize(
    ("body", "problem"),
    [({"duration": "fast"}, "job duration must be"), ({"holdNewJobs": "maybe"}, "holdNewJobs"), ({"x": 1}, "x")],
)
def test_bad_job_settings_are_a_400_in_zstack_shape(start_client: StartClient, body: Any, problem: str) -> None:
    client = start_client()
    response = client.put("/_mock/jobs/settings", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "SYS.1007"
    assert problem in error["details"]
    assert client.get("/_mock/jobs/settings").json() == {"holdNewJobs": False, "duration": "0.2-1"}


def test_unknown_job_in_the_control_api_is_a_404(start_client: StartClient) -> None:
    client = start_client()
    for method, path in [("GET", ""), ("POST", "/complete"), ("POST", "/release"), ("POST", "/fail")]:
        response = client.request(method, f"/_mock/jobs/{JOB_UUID}{path}")
        assert response.status_code == 404, (method, path)
        assert response.json()["error"]["code"] == "SYS.1003"


def test_failing_with_an_unknown_code_is_a_400(held: TestClient) -> None:
    accepted = submit(held, login(held))
    uuid = job_path(accepted).rsplit("/", 1)[1]
    response = held.post(f"/_mock/jobs/{uuid}/fail", json={"code": "NOPE.1"})
    assert response.status_code == 400
    assert "unknown error code [NOPE.1]" in response.json()["error"]["details"]
    assert held.get(f"/_mock/jobs/{uuid}").json()["status"] == "Running"
