"""The lifecycle APIs as API events (jobs, REST and RPC), and the layers that name calls: faults, the journal,
job control. None of those layers knows these APIs by name; the catalogue entries are all they have."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.faults.support import add_rule, marker
from tests.helpers import assert_zstack_error, auth, create, login
from tests.journal.support import entries
from tests.lifecycle.support import act, delete, ok, queried
from tests.rpc.support import RESULT, accept, finished

ASYNC = {"Prefer": "respond-async"}
IMAGE_EVENT = "org.zstack.header.image.API{}Event"


@pytest.fixture
def held(make_app: Callable[..., FastAPI]) -> Iterator[TestClient]:
    """A server whose jobs wait until the test completes them (``/_mock/jobs/{uuid}/complete``)."""
    with TestClient(make_app(), raise_server_exceptions=False) as client:
        assert client.put("/_mock/jobs/settings", json={"holdNewJobs": True}).status_code == 200
        yield client


def made(client: TestClient, session: str) -> str:
    uuid: str = ok(create(client, session))["inventory"]["uuid"]
    return uuid


def job_of(response: Any) -> str:
    assert response.status_code == 202, response.text
    return str(response.json()["location"].rsplit("/", 1)[-1])


def completed(client: TestClient, job: str) -> Any:
    assert client.post(f"/_mock/jobs/{job}/complete").status_code == 200
    return client.get(f"/zstack/v1/api-jobs/{job}")


def test_rest_jobs_change_the_image_when_accepted_and_answer_when_done(held: TestClient) -> None:
    session = login(held)
    image = made(held, session)
    job = job_of(act(held, session, image, "changeImageState", {"stateEvent": "disable"}, headers=ASYNC))
    assert held.get(f"/zstack/v1/api-jobs/{job}").status_code == 202
    assert ok(completed(held, job))["inventory"]["state"] == "Disabled"
    job = job_of(delete(held, session, image, headers={"X-Job-UUID": "d" * 32}))
    assert job == "d" * 32 and ok(completed(held, job)) == {}
    deleted = queried(held, session, image)
    assert deleted is not None and deleted["status"] == "Deleted"


def test_a_failing_check_comes_through_the_job(held: TestClient) -> None:
    session = login(held)
    image = made(held, session)
    job = job_of(act(held, session, image, "recoverImage", headers=ASYNC))
    assert_zstack_error(completed(held, job), "SYS.1006")


def test_rpc_messages_are_processing_then_their_own_events(held: TestClient) -> None:
    session = login(held)
    image = made(held, session)
    message = {"uuid": image, "name": "over rpc", "session": {"uuid": session}}
    event_class, fields = finished(held, accept(held, {"org.zstack.header.image.APIUpdateImageMsg": message}))
    assert (event_class, fields["success"], fields["inventory"]["name"]) == (
        IMAGE_EVENT.format("UpdateImage"), True, "over rpc"
    )
    deleting = {"org.zstack.header.image.APIDeleteImageMsg": {"uuid": image, "session": {"uuid": session}}}
    assert finished(held, accept(held, deleting)) == (IMAGE_EVENT.format("DeleteImage"), {"success": True})
    expunging = {"org.zstack.header.image.APIExpungeImageMsg": {"imageUuid": image, "session": {"uuid": session}}}
    assert finished(held, accept(held, expunging))[0] == IMAGE_EVENT.format("ExpungeImage")
    again = {"org.zstack.header.image.APIRecoverImageMsg": {"imageUuid": image, "session": {"uuid": session}}}
    event_class, fields = finished(held, accept(held, again))
    assert (event_class, fields["success"], fields["error"]["code"]) == (
        "org.zstack.header.message.APIEvent", False, "SYS.1003"
    )
    assert held.get(RESULT.format("0" * 32)).status_code == 404


def test_a_fault_rule_on_delete_image_fails_it_and_the_image_stays(client: TestClient) -> None:
    session = login(client)
    image = made(client, session)
    add_rule(client, {"match": {"operation": "DeleteImage"}, "error": {"code": "SYS.1006"}})
    assert_zstack_error(delete(client, session, image), "SYS.1006")
    job = job_of(delete(client, session, image, headers=ASYNC))
    assert client.post(f"/_mock/jobs/{job}/complete").status_code == 200
    assert_zstack_error(client.get(f"/zstack/v1/api-jobs/{job}"), "SYS.1006")
    still = queried(client, session, image)
    assert still is not None and still["status"] == "Ready"
    assert ok(act(client, session, image, "updateImage", {"name": "untouched by the rule"}))


def test_a_rule_names_an_action_of_the_shared_path_by_the_body(client: TestClient) -> None:
    session = login(client)
    image = made(client, session)
    add_rule(client, {"match": {"operation": "ExpungeImage"}, **marker("expunge refused")})
    assert ok(act(client, session, image, "changeImageState", {"stateEvent": "disable"}))
    refused = act(client, session, image, "expungeImage")
    assert (refused.status_code, refused.text) == (502, "expunge refused")


def test_the_journal_names_every_lifecycle_call(client: TestClient) -> None:
    session = login(client)
    image = made(client, session)
    client.get("/zstack/v1/tags", headers=auth(session))
    tag = ok(client.post("/zstack/v1/tags", json={"params": {"name": "n", "value": "v"}}, headers=auth(session)))
    act(client, session, image, "updateImage", {"name": "x"})
    act(client, session, image, "changeImageState", {"stateEvent": "enable"})
    delete(client, session, image)
    act(client, session, image, "recoverImage")
    delete(client, session, image)
    act(client, session, image, "expungeImage")
    client.delete(f"/zstack/v1/tags/{tag['inventory']['uuid']}", headers=auth(session))
    client.delete(f"/zstack/v1/volume-backups/{'0' * 32}", headers=auth(session))
    operations = [entry["operation"] for entry in reversed(entries(client))]
    assert operations[-10:] == [
        "QueryTag", "CreateTag", "UpdateImage", "ChangeImageState", "DeleteImage", "RecoverImage", "DeleteImage",
        "ExpungeImage", "DeleteTag", "DeleteVolumeBackup",
    ]


def test_a_held_job_of_a_tag_create_is_released_by_job_control(held: TestClient) -> None:
    session = login(held)
    job = job_of(held.post("/zstack/v1/tags", json={"params": {"name": "held", "value": "held"}},
                           headers={**auth(session), **ASYNC}))
    assert held.post(f"/_mock/jobs/{job}/release").status_code == 200
    response = held.get(f"/zstack/v1/api-jobs/{job}", headers={"X-JSON-Schema": "true"})
    body = ok(response)
    assert body["schema"] == {"inventory": "org.zstack.header.tag.TagPatternInventory"}
    assert body["inventory"]["name"] == "held"
