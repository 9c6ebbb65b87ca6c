"""What an entry holds: every field of the request and the answer, with secrets redacted."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from app.journal.exchange import BODY_LIMIT
from tests.helpers import (
    BACKUP_WITH_METADATA,
    BS_READY,
    CREATE_PATH,
    LOGIN_PATH,
    FakeClock,
    auth,
    create,
    login,
    sha512,
    use_clock,
)
from tests.journal.support import entries, newest

HASH = sha512("password")


def test_every_field_of_a_create_is_recorded(client: TestClient) -> None:
    clock = FakeClock(datetime(2026, 3, 1, 12, 0, 0, 250000, tzinfo=UTC))
    session = login(client)
    use_clock(client.app, clock)
    response = client.post(
        CREATE_PATH.format(BACKUP_WITH_METADATA) + "?trace=1&x=y",
        json={"params": {"backupStorageUuid": BS_READY, "name": "journaled"}},
        headers={**auth(session), "X-Custom": "kept"},
    )
    assert response.status_code == 200

    entry = newest(client)
    assert entry["time"] == "2026-03-01T12:00:00.250000Z"
    assert entry["method"] == "POST"
    assert entry["path"] == CREATE_PATH.format(BACKUP_WITH_METADATA)
    assert entry["query"] == "trace=1&x=y"
    assert entry["headers"]["x-custom"] == "kept"
    assert entry["headers"]["content-type"] == "application/json;charset=UTF-8"
    assert json.loads(entry["body"]) == {"params": {"backupStorageUuid": BS_READY, "name": "journaled"}}
    assert entry["bodySize"] == len(entry["body"])
    assert entry["bodyTruncated"] is False
    assert entry["operation"] == "CreateRootVolumeTemplateFromVolumeBackup"
    assert entry["session"] == session
    assert entry["status"] == 200
    assert (entry["verdict"], entry["errorCode"], entry["errorDetails"]) == ("ok", None, None)
    assert entry["fault"] is None
    assert 0 < entry["durationMs"] < 10_000
    assert entry["jobUuid"] is None
    assert isinstance(entry["id"], int)


def test_authorization_header_is_redacted_keeping_its_scheme(client: TestClient) -> None:
    session = login(client)
    client.get("/zstack/v1/images", headers={"Authorization": f"OAuth {session}"})
    client.get("/zstack/v1/images", headers={"Authorization": "Bearer abc", "Proxy-Authorization": "secret"})

    bearer, oauth = entries(client, limit=2)
    assert oauth["headers"]["authorization"] == "OAuth *****"
    assert bearer["headers"]["authorization"] == "Bearer *****"
    assert bearer["headers"]["proxy-authorization"] == "*****"
    assert session not in json.dumps(oauth["headers"])
    assert oauth["session"] == session  # still known, for the session filter


def test_password_is_redacted_in_the_rest_login_body(client: TestClient) -> None:
    login(client)

    entry = newest(client)
    assert entry["operation"] == "LogInByAccount"
    assert json.loads(entry["body"]) == {"logInByAccount": {"accountName": "admin", "password": "*****"}}
    assert HASH not in entry["body"]
    assert entry["bodySize"] > len(entry["body"])  # the size of what was sent


def test_password_is_redacted_in_the_rpc_login_body(client: TestClient) -> None:
    message = "org.zstack.header.identity.APILogInByAccountMsg"
    client.post("/zstack/api", content=json.dumps({message: {"accountName": "admin", "password": HASH}}))

    entry = newest(client)
    assert entry["operation"] == "LogInByAccount"
    assert json.loads(entry["body"]) == {message: {"accountName": "admin", "password": "*****"}}


def test_a_password_key_at_any_depth_and_in_any_case_is_redacted(client: TestClient) -> None:
    body = {"params": {"name": "x", "nested": [{"Password": {"deep": 1}}, {"PASSWORD": 42}]}, "password": None}
    client.post(CREATE_PATH.format(BACKUP_WITH_METADATA), json=body)

    assert json.loads(newest(client)["body"]) == {
        "params": {"name": "x", "nested": [{"Password": "*****"}, {"PASSWORD": "*****"}]}, "password": "*****",
    }


def test_a_password_in_a_body_that_is_not_json_is_still_redacted(client: TestClient) -> None:
    client.put(LOGIN_PATH, content=f'{{"logInByAccount":{{"password": "{HASH}", "accountName": "admin"'.encode())

    entry = newest(client)
    assert HASH not in entry["body"]
    assert '"password": "*****"' in entry["body"]
    assert entry["status"] == 400


def test_a_long_body_is_cut_and_marked_truncated(client: TestClient) -> None:
    session = login(client)
    name = "n" * (BODY_LIMIT * 2)
    sent = create(client, session, name=name).request.content

    entry = newest(client)
    assert entry["bodyTruncated"] is True
    assert entry["body"] == sent[:BODY_LIMIT].decode()
    assert entry["bodySize"] == len(sent)


def test_a_body_longer_than_the_read_ahead_reaches_the_app_whole(client: TestClient) -> None:
    session = login(client)
    name = "n" * 200_000
    response = create(client, session, name=name)

    assert response.status_code == 503  # the app saw the whole name: longer than 255 characters
    assert response.json()["error"]["code"] == "SYS.1007"
    entry = newest(client)
    assert entry["bodyTruncated"] is True
    assert entry["bodySize"] > 200_000


def test_control_and_other_paths_are_not_recorded(client: TestClient) -> None:
    client.get("/_mock/health")
    client.get("/openapi.json")
    client.get("/zstack")

    assert entries(client) == []
