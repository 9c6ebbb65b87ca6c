"""Arranging state through the control API: accounts, volume backups, backup storages, sessions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.helpers import (
    ADMIN_UUID,
    ALICE_UUID,
    BACKUP_WITH_METADATA,
    BS_DISABLED,
    BS_DISCONNECTED,
    BS_READY,
    LOGIN_PATH,
    assert_control_error,
    assert_zstack_error,
    auth,
    create,
    login,
    sha512,
)

# -- accounts ------------------------------------------------------------------------------------------


def test_an_account_with_a_plain_password_can_log_in(client: TestClient) -> None:
    response = client.post("/_mock/accounts", json={"name": "carol", "password": "carol-pw", "description": "QA"})
    assert response.status_code == 201
    account = response.json()["inventory"]
    assert account["name"] == "carol" and account["type"] == "Normal" and account["description"] == "QA"
    assert len(account["uuid"]) == 32 and "password" not in str(account).lower()
    assert login(client, "carol", "carol-pw")


def test_an_admin_account_from_a_digest(client: TestClient) -> None:
    body = {"name": "ops", "passwordSha512": sha512("ops-pw").upper(), "type": "SystemAdmin",
            "uuid": "0123456789abcdef0123456789abcdef", "createDate": "2025-05-05T05:05:05Z"}
    account = client.post("/_mock/accounts", json=body).json()["inventory"]
    assert account["uuid"] == "0123456789abcdef0123456789abcdef"
    assert account["createDate"] == "May 5, 2025 5:05:05 AM"
    session = login(client, "ops", "ops-pw")
    assert create(client, session, backup_uuid=BACKUP_WITH_METADATA).status_code == 200  # an admin sees all


@pytest.mark.parametrize(
    ("body", "status", "details"),
    [
        ({"name": "admin", "password": "x"}, 409, "an account named [admin] exists"),
        ({"name": "x", "password": "x", "uuid": BS_READY}, 409, f"uuid [{BS_READY}] is used by another resource"),
        ({"name": "x"}, 400, "give exactly one of password and passwordSha512"),
        ({"name": "x", "password": "x", "passwordSha512": sha512("x")}, 400, "exactly one"),
        ({"name": "x", "passwordSha512": "abc"}, 400, "passwordSha512"),
        ({"name": "x", "password": "x", "type": "Root"}, 400, "type"),
        ({"name": "x", "password": "x", "uuid": "NOT-A-UUID"}, 400, "uuid"),
        ({"name": "", "password": "x"}, 400, "name"),
        ({"name": "x", "password": "x", "owner": "admin"}, 400, "owner: Extra inputs are not permitted"),
    ],
)
def test_bad_accounts_are_refused(client: TestClient, body: dict[str, Any], status: int, details: str) -> None:
    assert_control_error(client.post("/_mock/accounts", json=body), status, "SYS.1003" if status == 404 else "SYS.1007",
                         details)


# -- volume backups ------------------------------------------------------------------------------------


def test_a_backup_on_a_storage_can_be_turned_into_a_template(client: TestClient) -> None:
    response = client.post("/_mock/volume-backups", json={
        "name": "web-02-root-backup", "backupStorageUuids": [BS_READY, BS_DISCONNECTED],
        "metadata": {"platform": "Windows", "guestOsType": "Windows 2022", "architecture": "x86_64"},
    })
    assert response.status_code == 201
    backup = response.json()["inventory"]
    assert (backup["type"], backup["mode"], backup["state"], backup["status"], backup["size"]) == (
        "Root", "full", "Enabled", "Ready", 10 * 1024**3)
    assert [ref["backupStorageUuid"] for ref in backup["backupStorageRefs"]] == [BS_READY, BS_DISCONNECTED]
    assert all(ref["installPath"].startswith("zstore://volume-backups/") for ref in backup["backupStorageRefs"])

    session = login(client)
    image = create(client, session, backup_uuid=backup["uuid"]).json()["inventory"]
    assert (image["platform"], image["guestOsType"], image["size"]) == ("Windows", "Windows 2022", 10 * 1024**3)
    assert client.get(f"/zstack/v1/volume-backups/{backup['uuid']}", headers=auth(session)).json()[
        "inventories"][0]["name"] == "web-02-root-backup"


def test_a_backup_owned_by_alice(client: TestClient) -> None:
    body = {"name": "alice-db", "owner": "alice", "size": 5, "mode": "incremental",
            "backupStorageRefs": [{"backupStorageUuid": BS_READY, "installPath": "zstore://volume-backups/abc"}]}
    backup = client.post("/_mock/volume-backups", json=body).json()["inventory"]
    assert backup["backupStorageRefs"][0]["installPath"] == "zstore://volume-backups/abc"
    assert create(client, login(client, "alice"), backup_uuid=backup["uuid"]).status_code == 200
    assert_zstack_error(create(client, login(client, "bob"), backup_uuid=backup["uuid"]), "ID.1002")
    by_uuid = client.post("/_mock/volume-backups", json={"name": "b", "owner": ALICE_UUID, "backupStorageUuids": []})
    assert by_uuid.status_code == 201
    assert by_uuid.json()["inventory"]["backupStorageRefs"] == []


def test_a_backup_on_no_storage_of_the_call_fails_as_zstack_does(client: TestClient) -> None:
    backup = client.post("/_mock/volume-backups", json={"name": "b", "backupStorageUuids": [BS_DISABLED]}).json()
    assert_zstack_error(create(client, login(client), backup_uuid=backup["inventory"]["uuid"]), "SYS.1006",
                        f"Volume backup[uuid:{backup['inventory']['uuid']}] not found on backup storage[uuid:{BS_READY}]")


@pytest.mark.parametrize(
    ("body", "status", "details"),
    [
        ({"name": "b", "backupStorageUuids": ["0" * 32]}, 404, f"no backup storage [{'0' * 32}]"),
        ({"name": "b", "owner": "nobody"}, 404, "no account [nobody] to own the backup"),
        ({"name": "b", "backupStorageUuids": [BS_READY, BS_READY]}, 400, "named twice"),
        ({"name": "b", "backupStorageUuids": [BS_READY], "backupStorageRefs": []}, 400, "not both"),
        ({"name": "b", "backupStorageUuids": BS_READY}, 400, "must be a list"),
        ({"name": "b", "backupStorageUuids": [3]}, 400, "backupStorageRefs.0.backupStorageUuid"),
        ({"name": "b", "backupStorageRefs": [{"backupStorageUuid": BS_READY, "installPath": "/x"}]}, 400, "installPath"),
        ({"name": "b", "backupStorageRefs": ["x"]}, 400, "backupStorageRefs.0"),
        ({"name": "b", "size": -1}, 400, "size"),
        ({"name": "b", "type": "Snapshot"}, 400, "type"),
        ({"name": "b", "uuid": ADMIN_UUID}, 409, "is used by another resource"),
        ({"backupStorageUuids": []}, 400, "name: Field required"),
    ],
)
def test_bad_backups_are_refused(client: TestClient, body: dict[str, Any], status: int, details: str) -> None:
    code = {400: "SYS.1007", 404: "SYS.1003", 409: "SYS.1007"}[status]
    assert_control_error(client.post("/_mock/volume-backups", json=body), status, code, details)


# -- backup storages -----------------------------------------------------------------------------------


def test_a_storage_taken_down_and_brought_back(client: TestClient) -> None:
    session = login(client)
    response = client.patch(f"/_mock/backup-storages/{BS_READY}", json={"status": "Disconnected"})
    assert response.status_code == 200
    assert (response.json()["inventory"]["state"], response.json()["inventory"]["status"]) == ("Enabled", "Disconnected")
    assert_zstack_error(create(client, session), "SYS.1002")
    client.patch(f"/_mock/backup-storages/{BS_READY}", json={"state": "Disabled", "status": "Connected"})
    assert_zstack_error(create(client, session), "SYS.1006")
    client.patch(f"/_mock/backup-storages/{BS_READY}", json={"state": "Enabled"})
    assert create(client, session).status_code == 200
    client.patch(f"/_mock/backup-storages/{BS_READY}", json={"status": "Connecting"})
    assert client.get(f"/zstack/v1/backup-storage/{BS_READY}", headers=auth(session)).json()[
        "inventories"][0]["status"] == "Connecting"


@pytest.mark.parametrize(
    ("uuid", "body", "status", "details"),
    [
        ("0" * 32, {"state": "Disabled"}, 404, "no backup storage"),
        (BS_READY, {}, 400, "nothing to change"),
        (BS_READY, {"state": "Maintenance"}, 400, "state"),
        (BS_READY, {"status": "connected"}, 400, "status"),
        (BS_READY, {"name": "renamed"}, 400, "name: Extra inputs are not permitted"),
    ],
)
def test_bad_storage_changes_are_refused(
    client: TestClient, uuid: str, body: dict[str, Any], status: int, details: str
) -> None:
    code = "SYS.1003" if status == 404 else "SYS.1007"
    assert_control_error(client.patch(f"/_mock/backup-storages/{uuid}", json=body), status, code, details)


# -- sessions ------------------------------------------------------------------------------------------


def test_a_minted_session_works_like_a_login(client: TestClient) -> None:
    session = client.post("/_mock/sessions", json={"account": "alice"}).json()["inventory"]
    assert session["accountUuid"] == ALICE_UUID and session["userUuid"] == ALICE_UUID
    assert client.get(f"/zstack/v1/accounts/sessions/{session['uuid']}/valid").json() == {"valid": True}
    by_uuid = client.post("/_mock/sessions", json={"account": ADMIN_UUID, "uuid": "ab" * 16}).json()["inventory"]
    assert by_uuid["uuid"] == "ab" * 16
    assert create(client, by_uuid["uuid"]).status_code == 200


def test_an_expired_session_answers_id_1001(client: TestClient) -> None:
    client.put("/_mock/clock", json={"now": "2026-01-01T00:00:00Z", "frozen": True})
    session = client.post("/_mock/sessions", json={"account": "admin", "expired": True}).json()["inventory"]
    assert session["expiredDate"] == session["createDate"] == "Jan 1, 2026 12:00:00 AM"
    assert_zstack_error(create(client, session["uuid"]), "ID.1001", "Session expired")
    assert client.get(f"/zstack/v1/accounts/sessions/{session['uuid']}/valid").json() == {"valid": False}


def test_a_short_lifetime(client: TestClient) -> None:
    client.put("/_mock/clock", json={"now": "2026-01-01T00:00:00Z", "frozen": True})
    session = client.post("/_mock/sessions", json={"account": "bob", "lifetimeSeconds": 30}).json()["inventory"]
    assert session["expiredDate"] == "Jan 1, 2026 12:00:30 AM"
    client.put("/_mock/clock", json={"advance": 31})
    assert_zstack_error(client.get("/zstack/v1/images", headers=auth(session["uuid"])), "ID.1001")


def test_minted_sessions_count_towards_the_login_limit(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app(max_sessions_per_account=2)) as client:
        for _ in range(2):
            assert client.post("/_mock/sessions", json={"account": "bob"}).status_code == 201
        response = client.put(LOGIN_PATH, json={"logInByAccount": {"accountName": "bob",
                                                                    "password": sha512("bob-password")}})
        assert_zstack_error(response, "ID.1006")


@pytest.mark.parametrize(
    ("body", "status", "details"),
    [
        ({"account": "nobody"}, 404, "no account [nobody]"),
        ({}, 400, "account: Field required"),
        ({"account": "bob", "expired": True, "lifetimeSeconds": 5}, 400, "not both"),
        ({"account": "bob", "lifetimeSeconds": 0}, 400, "lifetimeSeconds must be above 0"),
        ({"account": "bob", "lifetimeSeconds": 1e12}, 400, "at most 3650 days"),
        ({"account": "bob", "lifetimeSeconds": "inf"}, 400, "lifetimeSeconds"),
        ({"account": "bob", "uuid": "xyz"}, 400, "uuid"),
        ({"account": 42}, 400, "account"),
    ],
)
def test_bad_sessions_are_refused(client: TestClient, body: dict[str, Any], status: int, details: str) -> None:
    code = "SYS.1003" if status == 404 else "SYS.1007"
    assert_control_error(client.post("/_mock/sessions", json=body), status, code, details)


def test_a_taken_session_uuid_is_a_conflict(client: TestClient) -> None:
    session = login(client)
    assert_control_error(client.post("/_mock/sessions", json={"account": "bob", "uuid": session}), 409, "SYS.1007",
                         f"a session [{session}] exists")
