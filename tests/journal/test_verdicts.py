"""The verdict of each kind of answer: ok, a ZStack error, a rejection, pending, aborted."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.helpers import (
    BACKUP_WITH_METADATA,
    BS_DISCONNECTED,
    CREATE_PATH,
    JSON,
    auth,
    create,
    login,
)
from tests.journal.support import entries, newest
from tests.rpc.support import API, RESULT

CREATE_MSG = "org.zstack.header.storage.volume.backup.APICreateRootVolumeTemplateFromVolumeBackupMsg"


def verdict(entry: dict[str, object]) -> tuple[object, ...]:
    return entry["status"], entry["verdict"], entry["errorCode"]


def test_success_is_ok(client: TestClient) -> None:
    create(client, login(client))

    assert verdict(newest(client)) == (200, "ok", None)


def test_zstack_error_is_recorded_with_its_code_and_details(client: TestClient) -> None:
    create(client, login(client), backupStorageUuid=BS_DISCONNECTED)

    entry = newest(client)
    assert verdict(entry) == (503, "error", "SYS.1002")
    assert entry["errorDetails"].startswith("Failed to download image")


def test_plain_text_400_is_rejected_with_its_text(client: TestClient) -> None:
    session = login(client)
    client.post(CREATE_PATH.format(BACKUP_WITH_METADATA), content=b"{not json", headers=auth(session))

    entry = newest(client)
    assert verdict(entry) == (400, "rejected", None)
    assert entry["errorDetails"].startswith("the request body is not valid JSON")


def test_unknown_path_is_rejected_with_no_operation(client: TestClient) -> None:
    client.get("/zstack/v1/no-such-thing")

    entry = newest(client)
    assert verdict(entry) == (404, "rejected", None)
    assert entry["operation"] is None


def test_rpc_failure_inside_a_200_is_an_error(client: TestClient) -> None:
    message = "org.zstack.header.identity.APILogInByAccountMsg"
    client.post(API, json={message: {"accountName": "admin", "password": "wrong"}})

    entry = newest(client)
    assert verdict(entry) == (200, "error", "ID.1000")
    assert entry["operation"] == "LogInByAccount"


def test_rpc_success_is_ok_and_a_plain_text_rpc_answer_is_rejected(client: TestClient) -> None:
    client.post(API, json={"org.zstack.header.apimediator.APIIsReadyToGoMsg": {}})
    client.post(API, json={"org.zstack.NoSuchMsg": {}})

    unknown, ready = entries(client, limit=2)
    assert verdict(ready) == (200, "ok", None)
    assert ready["operation"] == "IsReadyToGo"
    assert verdict(unknown) == (200, "rejected", None)
    assert unknown["errorDetails"]


def test_async_rest_call_is_pending_with_its_job_until_a_poll_tells(client: TestClient) -> None:
    assert client.put("/_mock/jobs/settings", json={"holdNewJobs": True}).status_code == 200
    session = login(client)
    accepted = client.post(
        CREATE_PATH.format(BACKUP_WITH_METADATA),
        json={"params": {"backupStorageUuid": BS_DISCONNECTED, "name": "later"}},
        headers={**auth(session), "Prefer": "respond-async"},
    )
    job = accepted.json()["location"].rsplit("/", 1)[-1]
    client.get(f"/zstack/v1/api-jobs/{job}")
    assert client.post(f"/_mock/jobs/{job}/release").status_code == 200
    client.get(f"/zstack/v1/api-jobs/{job}")

    failed, running, call = entries(client, limit=3)
    assert verdict(call) == (202, None, None)
    assert call["jobUuid"] == job
    assert (verdict(running), running["jobUuid"], running["operation"]) == ((202, None, None), job, "QueryApiJob")
    assert verdict(failed) == (503, "error", "SYS.1002")
    assert failed["jobUuid"] == job


def test_x_job_uuid_is_the_recorded_job(client: TestClient) -> None:
    client.put("/_mock/jobs/settings", json={"holdNewJobs": True})
    job = "0" * 31 + "1"
    client.post(
        CREATE_PATH.format(BACKUP_WITH_METADATA), json={"params": {"name": "x"}},
        headers={**auth(login(client)), "Prefer": "respond-async", "X-Job-UUID": job},
    )

    assert newest(client)["jobUuid"] == job


def test_async_rpc_call_is_pending_with_its_job_then_its_poll_is_judged(client: TestClient) -> None:
    client.put("/_mock/jobs/settings", json={"holdNewJobs": True})
    session = login(client)
    fields = {"backupUuid": BACKUP_WITH_METADATA, "backupStorageUuid": BS_DISCONNECTED, "name": "rpc",
              "session": {"uuid": session}}
    job = client.post(API, content=json.dumps({CREATE_MSG: fields}), headers=JSON).json()["uuid"]
    client.post(f"/_mock/jobs/{job}/release")
    client.get(RESULT.format(job))

    polled, call = entries(client, limit=2)
    assert (verdict(call), call["jobUuid"], call["session"]) == ((200, None, None), job, session)
    assert call["operation"] == "CreateRootVolumeTemplateFromVolumeBackup"
    assert (verdict(polled), polled["jobUuid"], polled["operation"]) == ((200, "error", "SYS.1002"), job,
                                                                         "QueryApiResult")


def test_raw_status_from_a_fault_is_rejected(client: TestClient) -> None:
    client.get("/zstack/v1/images", headers={"X-Test-Answer": "502", "X-Test-Fault": "rule:3"})

    entry = newest(client)
    assert verdict(entry) == (502, "rejected", None)
    assert entry["errorDetails"] == "<html><body>502 Bad Gateway</body></html>"


def test_an_answer_cut_off_is_aborted(client: TestClient) -> None:
    client.get("/zstack/v1/images", headers={"X-Test-Answer": "reset", "X-Test-Fault": "scenario:connection-reset"})

    entry = newest(client)
    assert verdict(entry) == (200, "aborted", None)
    assert entry["fault"] == "scenario:connection-reset"
