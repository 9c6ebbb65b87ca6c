"""The RPC create message: Processing at once, the event (or an error event) when polled."""

from __future__ import annotations

import html
import json
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.helpers import (
    BACKUP_OF_ALICE,
    BACKUP_WITH_METADATA,
    BS_DISCONNECTED,
    BS_READY,
    CREATE_PATH,
    auth,
    login,
    sha512,
)
from tests.rpc.support import (
    API,
    LOG_IN,
    LOG_IN_REPLY,
    PASSWORDS,
    QUERY_IMAGE,
    QUERY_IMAGE_REPLY,
    RESULT,
    accept,
    finished,
    poll,
    reply_of,
)

CREATE = "org.zstack.header.storage.volume.backup.APICreateRootVolumeTemplateFromVolumeBackupMsg"
CREATE_EVENT = "org.zstack.header.storage.volume.backup.APICreateRootVolumeTemplateFromVolumeBackupEvent"
GENERIC_EVENT = "org.zstack.header.message.APIEvent"


@pytest.fixture
def held(make_app: Callable[..., FastAPI]) -> Iterator[TestClient]:
    with ExitStack() as stack:
        client = stack.enter_context(TestClient(make_app(), raise_server_exceptions=False))
        client.put("/_mock/jobs/settings", json={"holdNewJobs": True})
        yield client


def create_message(session: str | None, **fields: Any) -> dict[str, Any]:
    message: dict[str, Any] = {"backupUuid": BACKUP_WITH_METADATA, "backupStorageUuid": BS_READY, "name": "rpc"}
    if session is not None:
        message["session"] = {"uuid": session}
    message.update(fields)
    return {CREATE: message}


def test_create_is_processing_first_then_done_with_the_event(held: TestClient) -> None:
    session = login(held)
    uuid = accept(held, create_message(session, systemTags=[], userTags=["rpc"]))
    running = poll(held, uuid)
    assert running["state"] == "Processing"
    assert running["uuid"] == uuid and "result" not in running
    event_class, fields = finished(held, uuid)
    assert event_class == CREATE_EVENT
    assert fields["success"] is True
    assert fields["inventory"]["name"] == "rpc"
    assert fields["inventory"]["status"] == "Ready"


def test_image_created_over_rpc_is_visible_over_rest_and_downloading_meanwhile(held: TestClient) -> None:
    session = login(held)
    uuid = accept(held, create_message(session))
    image_uuid = held.get(f"/_mock/jobs/{uuid}").json()["resourceUuid"]
    during = held.get(f"/zstack/v1/images/{image_uuid}", headers=auth(session)).json()["inventories"]
    assert during[0]["status"] == "Downloading"
    finished(held, uuid)
    after = held.get(f"/zstack/v1/images/{image_uuid}", headers=auth(session)).json()["inventories"]
    assert after[0]["status"] == "Ready"


def test_image_created_over_rest_is_visible_over_rpc(held: TestClient) -> None:
    session = login(held)
    created = held.post(
        CREATE_PATH.format(BACKUP_WITH_METADATA),
        json={"params": {"backupStorageUuid": BS_READY, "name": "made over REST"}},
        headers=auth(session),
    ).json()["inventory"]
    found = reply_of(
        held.post(API, json={QUERY_IMAGE: {
            "conditions": [{"name": "uuid", "op": "=", "value": created["uuid"]}], "session": {"uuid": session},
        }}),
        QUERY_IMAGE_REPLY,
    )
    assert [i["name"] for i in found["inventories"]] == ["made over REST"]


@pytest.mark.parametrize(
    ("session_kind", "fields", "event_class", "code", "details"),
    [
        ("none", {}, GENERIC_EVENT, "ID.1001", f"session of message[{CREATE}] is null"),
        ("expired", {}, GENERIC_EVENT, "ID.1001", "Session expired"),
        ("admin", {"name": None}, GENERIC_EVENT, "SYS.1007", None),
        ("bob", {"backupUuid": BACKUP_OF_ALICE}, GENERIC_EVENT, "ID.1002", None),
        ("admin", {"backupStorageUuid": BS_DISCONNECTED}, CREATE_EVENT, "SYS.1002", None),
    ],
    ids=["no-session", "expired-session", "missing-name", "not-owner", "download-fails"],
)
def test_failures_arrive_through_the_result(
    held: TestClient, session_kind: str, fields: dict[str, Any], event_class: str, code: str, details: str | None
) -> None:
    session = {"none": None, "expired": "e" * 32, "admin": login(held), "bob": login(held, "bob")}[session_kind]
    uuid = accept(held, create_message(session, **fields))
    actual_class, result = finished(held, uuid)
    assert actual_class == event_class
    assert result["success"] is False
    assert result["error"]["code"] == code
    if details is not None:
        assert result["error"]["details"] == details


def test_result_of_a_sync_call_or_unknown_uuid_is_a_404(held: TestClient) -> None:
    response = held.get(RESULT.format("a" * 32))
    assert response.status_code == 404
    assert f"No api result[uuid:{'a' * 32}] found" in response.text


def test_jobs_are_shared_between_the_surfaces(held: TestClient) -> None:
    session = login(held)
    uuid = accept(held, create_message(session))
    assert held.get(f"/zstack/v1/api-jobs/{uuid}").status_code == 202
    finished(held, uuid)
    assert held.get(f"/zstack/v1/api-jobs/{uuid}").json()["inventory"]["name"] == "rpc"
    assert held.get("/_mock/jobs").json()["jobs"][0]["protocol"] == "rpc"


def test_rpc_client_logs_in_creates_polls_and_queries_over_a_socket(live_server: Callable[..., Any]) -> None:
    server = live_server(job_duration="0.2")
    with httpx.Client(base_url=server.url, timeout=10) as http:
        logged_in = http.post(API, content=json.dumps({LOG_IN: {"accountName": "admin", "password": sha512("password")}}))
        session = reply_of(logged_in, LOG_IN_REPLY)["inventory"]["uuid"]
        accepted = http.post(API, content=json.dumps(create_message(session, name="over rpc")))
        uuid = accepted.json()["uuid"]
        states: list[str] = []
        for _ in range(200):
            envelope = poll(http, uuid)
            states.append(envelope["state"])
            if envelope["state"] == "Done":
                break
            time.sleep(0.02)
        ((event_class, fields),) = json.loads(envelope["result"]).items()
        listed = reply_of(http.post(API, content=json.dumps({QUERY_IMAGE: {
            "conditions": [{"name": "name", "op": "=", "value": "over rpc"}], "session": {"uuid": session},
        }})), QUERY_IMAGE_REPLY)
    assert states[0] == "Processing" and states[-1] == "Done"
    assert event_class == CREATE_EVENT and fields["success"] is True
    assert [i["uuid"] for i in listed["inventories"]] == [fields["inventory"]["uuid"]]
    assert listed["inventories"][0]["status"] == "Ready"


def test_the_message_id_names_the_job(held: TestClient) -> None:
    """RESTApiDecoder reads the message's ``id`` into Message.id, and the result is kept under it."""
    chosen = "5a4b3c2d1e0f49687766554433221100"
    body = create_message(login(held), name="named")
    body[CREATE]["id"] = chosen

    assert accept(held, body) == chosen
    event_class, event = finished(held, chosen)
    assert event_class == CREATE_EVENT and event["inventory"]["name"] == "named"


@pytest.mark.parametrize(("given", "kept"), [(12345, "12345"), (True, "true"), ("short-id", "short-id")])
def test_the_message_id_is_read_as_gson_reads_a_string(held: TestClient, given: Any, kept: str) -> None:
    body = create_message(login(held))
    body[CREATE]["id"] = given
    response = held.post(API, json=body)
    assert response.status_code == 200, response.text
    assert response.json()["uuid"] == kept
    assert poll(held, kept)["state"] == "Processing"


def test_an_empty_message_id_gets_a_fresh_one(held: TestClient) -> None:
    body = create_message(login(held))
    body[CREATE]["id"] = ""
    assert len(accept(held, body)) == 32


@pytest.mark.parametrize(
    ("given", "fragment"),
    [
        pytest.param("0" * 33, "Data too long for column 'uuid'", id="too-long"),
        pytest.param("taken", "already kept under the message's id[taken]", id="duplicate"),
    ],
)
def test_a_message_id_that_cannot_be_kept_is_the_servlets_500(held: TestClient, given: str, fragment: str) -> None:
    """RESTApiFacadeImpl.persist fails on the uuid column; the servlet answers its 500 page."""
    session = login(held)
    first = create_message(session, name="first")
    first[CREATE]["id"] = "taken"
    assert accept_any(held, first) == "taken"
    images_before = held.get("/_mock/jobs").json()

    body = create_message(session, name="second")
    body[CREATE]["id"] = given
    response = held.post(API, json=body)

    assert response.status_code == 500, response.text
    assert response.headers["content-type"].startswith("text/html")
    page = html.unescape(response.text)
    assert "ConstraintViolationException: could not execute statement" in page
    assert fragment in page
    assert held.get("/_mock/jobs").json() == images_before


def test_a_message_id_that_is_no_string_is_a_decoding_failure(held: TestClient) -> None:
    body = create_message(login(held))
    body[CREATE]["id"] = {"uuid": "x"}
    response = held.post(API, json=body)
    assert response.status_code == 200
    assert response.text.startswith("The message's id is a JSON object; it must be a string")


def test_a_sync_message_keeps_no_id(held: TestClient) -> None:
    """Only an asynchronous message's result is stored; a login's id is never looked at."""
    for _ in range(2):
        message = {"accountName": "admin", "password": sha512(PASSWORDS["admin"]), "id": "x"}
        assert reply_of(held.post(API, json={LOG_IN: message}), LOG_IN_REPLY)["inventory"]["uuid"]


def accept_any(client: TestClient, body: dict[str, Any]) -> str:
    response = client.post(API, json=body)
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "Processing"
    return str(response.json()["uuid"])
