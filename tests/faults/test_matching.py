"""Which requests a rule matches: each condition alone, on the REST and the RPC API, and in order."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.faults.support import RPC_CREATE, add_rule, counters, create_call, marker
from tests.helpers import (
    ALICE_UUID,
    BACKUP_NO_METADATA,
    BACKUP_WITH_METADATA,
    BOB_UUID,
    BS_DISCONNECTED,
    BS_READY,
    EXISTING_IMAGE,
    LOGIN_PATH,
    auth,
    login,
    sha512,
)
from tests.rpc.support import (
    API,
    LOG_IN,
    LOG_IN_REPLY,
    QUERY_BACKUP,
    QUERY_IMAGE,
    QUERY_IMAGE_REPLY,
    call,
    reply_of,
    rpc_login,
)


def fired(response: Any, label: str = "hit") -> bool:
    """Whether the rule's marker answered (rather than the app)."""
    if response.status_code == 502 and response.text == label:
        return True
    assert response.status_code != 502, response.text
    return False


def query_images(client: TestClient, session: str, headers: dict[str, str] | None = None) -> Any:
    return client.get("/zstack/v1/images", headers={**auth(session), **(headers or {})})


def rest_login(client: TestClient, account: str, password: str) -> Any:
    return client.put(LOGIN_PATH, json={"logInByAccount": {"accountName": account, "password": sha512(password)}})


def rpc_create(client: TestClient, session: str, backup: str = BACKUP_WITH_METADATA, storage: str = BS_READY) -> Any:
    return call(client, RPC_CREATE, {"backupUuid": backup, "backupStorageUuid": storage, "name": "rpc",
                                      "session": {"uuid": session}})


def test_operation_on_the_rest_api(client: TestClient) -> None:
    session = login(client)
    add_rule(client, {"match": {"operation": "QueryImage"}, **marker("hit")})

    assert fired(query_images(client, session))
    assert fired(client.get(f"/zstack/v1/images/{EXISTING_IMAGE}", headers=auth(session)))
    assert not fired(client.get("/zstack/v1/volume-backups", headers=auth(session)))
    assert not fired(create_call(client, session))


def test_a_list_of_operations(client: TestClient) -> None:
    session = login(client)
    add_rule(client, {"match": {"operation": ["QueryVolumeBackup", "QueryBackupStorage"]}, **marker("hit")})

    assert fired(client.get("/zstack/v1/volume-backups", headers=auth(session)))
    assert fired(client.get("/zstack/v1/backup-storage", headers=auth(session)))
    assert not fired(client.get("/zstack/v1/backup-storage/image-store", headers=auth(session)))
    assert not fired(query_images(client, session))


def test_log_in_by_account_is_one_operation_over_rest_and_rpc(client: TestClient) -> None:
    session = login(client)
    rule = add_rule(client, {"match": {"operation": "LogInByAccount"}, **marker("hit")})

    assert fired(rest_login(client, "admin", "password"))
    assert fired(call(client, LOG_IN, {"accountName": "admin", "password": sha512("password")}))
    assert not fired(query_images(client, session))
    assert counters(client, rule["id"])[:2] == (2, 2)


def test_query_image_is_one_operation_over_rest_and_rpc(client: TestClient) -> None:
    session = login(client)
    add_rule(client, {"match": {"operation": "QueryImage"}, **marker("hit")})

    assert fired(call(client, QUERY_IMAGE, {"conditions": [], "session": {"uuid": session}}))
    assert not fired(call(client, QUERY_BACKUP, {"conditions": [], "session": {"uuid": session}}))


def test_method(client: TestClient) -> None:
    session = login(client)
    add_rule(client, {"match": {"method": "put"}, **marker("hit")})

    assert fired(rest_login(client, "admin", "password"))
    assert fired(client.put(API, json={LOG_IN: {"accountName": "admin", "password": sha512("password")}}))
    assert not fired(call(client, LOG_IN, {"accountName": "admin", "password": sha512("password")}))  # POST
    assert not fired(query_images(client, session))


@pytest.mark.parametrize(
    ("pattern", "hits", "misses"),
    [
        ("/zstack/v1/images/*", [f"/zstack/v1/images/{EXISTING_IMAGE}"],
         ["/zstack/v1/images", "/zstack/v1/volume-backups"]),
        ("/zstack/v1/images", ["/zstack/v1/images", "/zstack/v1/images/"], [f"/zstack/v1/images/{EXISTING_IMAGE}"]),
        ("/zstack/v1/backup-storage/*", ["/zstack/v1/backup-storage/image-store", f"/zstack/v1/backup-storage/{BS_READY}"],
         [f"/zstack/v1/backup-storage/image-store/{BS_READY}", "/zstack/v1/backup-storage"]),
        ("/zstack/v1/**", ["/zstack/v1/images", f"/zstack/v1/backup-storage/image-store/{BS_READY}"],
         ["/_mock/faults"]),
        ("/zstack/v1/*-backups", ["/zstack/v1/volume-backups"], ["/zstack/v1/images"]),
    ],
    ids=["star-in-a-segment", "literal", "star-stays-in-its-segment", "double-star", "star-inside-a-name"],
)
def test_path_glob(client: TestClient, pattern: str, hits: list[str], misses: list[str]) -> None:
    session = login(client)
    add_rule(client, {"match": {"path": pattern}, **marker("hit")})

    for path in hits:
        assert fired(client.get(path, headers=auth(session))), path
    for path in misses:
        assert not fired(client.get(path, headers=auth(session))), path


def test_backup_uuid_on_rest_and_rpc(client: TestClient) -> None:
    session = login(client)
    add_rule(client, {"match": {"backupUuid": BACKUP_NO_METADATA}, **marker("hit")})

    assert fired(create_call(client, session, backup=BACKUP_NO_METADATA))
    assert fired(rpc_create(client, session, backup=BACKUP_NO_METADATA))
    assert create_call(client, session, backup=BACKUP_WITH_METADATA).status_code == 200
    assert not fired(rpc_create(client, session, backup=BACKUP_WITH_METADATA))
    assert not fired(query_images(client, session))


def test_backup_storage_uuid_on_rest_and_rpc(client: TestClient) -> None:
    session = login(client)
    add_rule(client, {"match": {"backupStorageUuid": BS_DISCONNECTED}, **marker("hit")})

    assert fired(create_call(client, session, storage=BS_DISCONNECTED))  # instead of the real SYS.1002
    assert fired(rpc_create(client, session, storage=BS_DISCONNECTED))
    assert create_call(client, session, storage=BS_READY).status_code == 200


@pytest.mark.parametrize("account", ["alice", ALICE_UUID])
def test_account_by_name_or_uuid(client: TestClient, account: str) -> None:
    admin, alice, bob = login(client), login(client, "alice"), login(client, "bob")
    add_rule(client, {"match": {"account": account}, **marker("hit")})

    assert fired(query_images(client, alice))
    assert fired(create_call(client, alice))
    assert not fired(query_images(client, admin))
    assert not fired(query_images(client, bob))
    assert not fired(client.get("/zstack/v1/images"))  # no session at all


def test_account_on_rpc_messages(client: TestClient) -> None:
    alice, admin = rpc_login(client, "alice"), rpc_login(client, "admin")
    add_rule(client, {"match": {"account": "alice"}, **marker("hit")})

    assert fired(call(client, QUERY_IMAGE, {"conditions": [], "session": {"uuid": alice}}))
    assert reply_of(call(client, QUERY_IMAGE, {"conditions": [], "session": {"uuid": admin}}), QUERY_IMAGE_REPLY)
    assert not fired(call(client, QUERY_IMAGE, {"conditions": [], "session": {"uuid": "0" * 32}}))


@pytest.mark.parametrize("account", ["bob", BOB_UUID])
def test_a_login_is_matched_by_the_account_it_names(client: TestClient, account: str) -> None:
    add_rule(client, {"match": {"operation": "LogInByAccount", "account": account}, **marker("hit")})

    assert fired(rest_login(client, "bob", "bob-password"))
    assert fired(call(client, LOG_IN, {"accountName": "bob", "password": sha512("bob-password")}))
    assert not fired(rest_login(client, "alice", "alice-password"))
    assert reply_of(call(client, LOG_IN, {"accountName": "alice", "password": sha512("alice-password")}), LOG_IN_REPLY)


def test_a_login_as_an_unknown_account_is_matched_by_that_name(client: TestClient) -> None:
    add_rule(client, {"match": {"account": "mallory"}, **marker("hit")})

    assert fired(rest_login(client, "mallory", "whatever"))
    assert rest_login(client, "eve", "whatever").status_code != 502


@pytest.mark.parametrize(
    ("condition", "sent", "fires"),
    [
        (True, {"X-Canary": "yes"}, True),
        (True, {"x-canary": ""}, True),
        (True, {}, False),
        (False, {}, True),
        (False, {"X-Canary": "1"}, False),
        ("blue", {"X-Canary": "blue"}, True),
        ("blue", {"X-CANARY": "blue"}, True),
        ("blue", {"X-Canary": "Blue"}, False),
        ("blue", {}, False),
    ],
    ids=["present", "present-empty", "present-missing", "absent", "absent-but-sent", "equals", "name-any-case",
         "value-case-matters", "value-missing"],
)
def test_header_condition(client: TestClient, condition: str | bool, sent: dict[str, str], fires: bool) -> None:
    session = login(client)
    add_rule(client, {"match": {"headers": {"X-Canary": condition}}, **marker("hit")})

    assert fired(query_images(client, session, sent)) is fires


def test_every_condition_must_hold(client: TestClient) -> None:
    session, alice = login(client), login(client, "alice")
    add_rule(client, {
        "match": {"operation": "CreateRootVolumeTemplateFromVolumeBackup", "method": "POST",
                  "backupUuid": BACKUP_WITH_METADATA, "backupStorageUuid": BS_READY, "account": "admin",
                  "headers": {"X-Canary": True}},
        **marker("hit"),
    })
    canary = {"X-Canary": "1"}

    assert fired(create_call(client, session, headers=canary))
    assert not fired(create_call(client, session))
    assert not fired(create_call(client, alice, headers=canary, backup=BACKUP_WITH_METADATA))
    assert not fired(create_call(client, session, headers=canary, backup=BACKUP_NO_METADATA))
    assert not fired(create_call(client, session, headers=canary, storage=BS_DISCONNECTED))


def test_an_empty_match_takes_every_zstack_call_and_no_control_call(client: TestClient) -> None:
    session = login(client)
    add_rule(client, marker("hit"))

    assert fired(query_images(client, session))
    assert fired(rest_login(client, "admin", "password"))
    assert fired(call(client, QUERY_IMAGE, {"conditions": [], "session": {"uuid": session}}))
    assert fired(client.get("/zstack/v1/no-such-api"))
    assert client.get("/_mock/faults").status_code == 200
    assert client.get("/_mock/health").status_code == 200


def test_the_first_rule_that_fires_wins(client: TestClient) -> None:
    session = login(client)
    first = add_rule(client, {"match": {"operation": "QueryImage"}, **marker("first")})
    second = add_rule(client, {"match": {"operation": "QueryImage"}, **marker("second")})

    assert fired(query_images(client, session), "first")
    assert counters(client, first["id"])[:2] == (1, 1)
    assert counters(client, second["id"])[:2] == (0, 0)  # never looked at


def test_a_rule_that_matches_but_does_not_fire_lets_later_rules_be_considered(client: TestClient) -> None:
    """Documented choice: ``after`` and ``probability`` hold a rule back without hiding later ones."""
    session = login(client)
    waits = add_rule(client, {"match": {"operation": "QueryImage"}, "after": 1, **marker("waits")})
    never = add_rule(client, {"match": {"operation": "QueryImage"}, "probability": 0, **marker("never")})
    fallback = add_rule(client, {"match": {"operation": "QueryImage"}, **marker("fallback")})

    assert fired(query_images(client, session), "fallback")
    assert fired(query_images(client, session), "waits")
    assert counters(client, waits["id"])[:2] == (2, 1)
    assert counters(client, never["id"])[:2] == (1, 0)  # considered once, when "waits" held back
    assert counters(client, fallback["id"])[:2] == (1, 1)
