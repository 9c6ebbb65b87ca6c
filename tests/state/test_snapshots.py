"""/_mock/snapshots: take, list, get, restore and delete named copies of the inventory and sessions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.store.records import Snapshot
from tests.helpers import (
    BACKUP_WITH_METADATA,
    BS_READY,
    CREATE_PATH,
    assert_control_error,
    assert_zstack_error,
    auth,
    create,
    login,
)
from tests.state.support import inventory

RULE = {"match": {"operation": "QueryImage"}, "latency": 0}


def test_restore_brings_back_the_inventory_and_sessions(client: TestClient) -> None:
    session = login(client)
    assert create(client, session, name="kept").status_code == 200
    before = inventory(client, session)
    taken = client.post("/_mock/snapshots", json={"name": "base"})
    assert taken.status_code == 201
    assert taken.json()["counts"]["images"] == 4
    assert taken.json()["counts"]["sessions"] == 1

    created = create(client, session, name="lost").json()["inventory"]
    client.patch(f"/_mock/backup-storages/{BS_READY}", json={"state": "Disabled"})
    client.delete(f"/zstack/v1/accounts/sessions/{session}")
    restored = client.post("/_mock/snapshots/base/restore")

    assert restored.status_code == 200
    assert restored.json()["snapshot"]["name"] == "base"
    assert inventory(client, session) == before  # the session is live again; ref ids as they were
    images = client.get(f"/zstack/v1/images/{created['uuid']}", headers=auth(session)).json()
    assert images["inventories"] == []


def test_restore_drops_jobs_and_keeps_rules_journal_and_clock(client: TestClient) -> None:
    session = login(client)
    client.post("/_mock/snapshots", json={"name": "base"})
    accepted = client.post(
        CREATE_PATH.format(BACKUP_WITH_METADATA),
        json={"params": {"backupStorageUuid": BS_READY, "name": "async"}},
        headers={**auth(session), "Prefer": "respond-async"},
    )
    assert accepted.status_code == 202
    client.post("/_mock/faults", json=RULE)
    client.put("/_mock/clock", json={"now": "2030-01-01T00:00:00Z", "frozen": True})
    journal = client.post("/_mock/requests/count", json={}).json()["count"]

    client.post("/_mock/snapshots/base/restore")

    assert client.get("/_mock/jobs").json() == {"jobs": []}
    assert len(client.get("/_mock/faults").json()["rules"]) == 1
    assert client.post("/_mock/requests/count", json={}).json()["count"] == journal
    assert client.get("/_mock/clock").json()["now"] == "2030-01-01T00:00:00Z"
    job = accepted.json()["location"].rsplit("/", 1)[1]
    assert client.get(f"/zstack/v1/api-jobs/{job}").status_code == 404


def test_list_get_and_delete(client: TestClient) -> None:
    client.put("/_mock/clock", json={"now": "2030-01-01T00:00:00Z", "frozen": True})
    client.post("/_mock/snapshots", json={"name": "a"})
    client.put("/_mock/clock", json={"advance": 60})
    client.post("/_mock/snapshots", json={"name": "b.2_x-y"})

    listed = client.get("/_mock/snapshots").json()["snapshots"]
    assert [(s["name"], s["createDate"]) for s in listed] == [
        ("a", "2030-01-01T00:00:00Z"), ("b.2_x-y", "2030-01-01T00:01:00Z"),
    ]
    one = client.get("/_mock/snapshots/a").json()
    assert one == listed[0]
    assert one["counts"] == {
        "accounts": 3, "backupStorages": 3, "volumeBackups": 5, "volumeBackupStorageRefs": 6, "tags": 3,
        "images": 3, "imageBackupStorageRefs": 3, "imageTags": 0, "sessions": 0,
    }
    assert one["seeded"] is False
    assert one["bytes"] > 1000

    assert client.delete("/_mock/snapshots/a").json() == {"deleted": 1}
    assert [s["name"] for s in client.get("/_mock/snapshots").json()["snapshots"]] == ["b.2_x-y"]
    assert_control_error(client.delete("/_mock/snapshots/a"), 404, "SYS.1003", "no snapshot named [a]")
    assert_control_error(client.get("/_mock/snapshots/a"), 404, "SYS.1003")
    assert_control_error(client.post("/_mock/snapshots/a/restore"), 404, "SYS.1003", "no snapshot named [a]")


def test_a_taken_name_is_a_conflict_unless_replaced(client: TestClient) -> None:
    assert client.post("/_mock/snapshots", json={"name": "base"}).status_code == 201
    assert_control_error(client.post("/_mock/snapshots", json={"name": "base"}), 409, "SYS.1007", '"replace": true')
    login(client)
    replaced = client.post("/_mock/snapshots", json={"name": "base", "replace": True})
    assert replaced.status_code == 200
    assert replaced.json()["counts"]["sessions"] == 1
    assert client.post("/_mock/snapshots", json={"name": "other", "replace": True}).status_code == 201


@pytest.mark.parametrize("name", ["", "with space", "-leading", "a/b", "x" * 129, "é", ".."])
def test_bad_names_are_refused(client: TestClient, name: str) -> None:
    assert_control_error(client.post("/_mock/snapshots", json={"name": name}), 400, "SYS.1007", "invalid snapshot name")


@pytest.mark.parametrize("body", [{}, {"name": 3}, {"name": "a", "extra": 1}, {"name": "a", "replace": "maybe"}])
def test_bad_bodies_are_refused(client: TestClient, body: dict[str, object]) -> None:
    assert_control_error(client.post("/_mock/snapshots", json=body), 400, "SYS.1007", "invalid SnapshotRequest body")


def test_snapshots_survive_a_reset(client: TestClient) -> None:
    session = login(client)
    client.post("/_mock/snapshots", json={"name": "base"})
    client.post("/_mock/reset")
    assert_zstack_error(client.get("/zstack/v1/images", headers=auth(session)), "ID.1001")
    client.post("/_mock/snapshots/base/restore")
    assert client.get("/zstack/v1/images", headers=auth(session)).status_code == 200


def test_restore_under_a_seed_replays_the_same_uuids(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app(seed=3)) as client:
        session = login(client)
        assert client.post("/_mock/snapshots", json={"name": "base"}).json()["seeded"] is True
        image = create(client, session, name="t").json()["inventory"]["uuid"]
        next_login = login(client)
        client.post("/_mock/snapshots/base/restore")
        assert create(client, session, name="t").json()["inventory"]["uuid"] == image
        assert login(client) == next_login  # no UUID is handed out twice in a row


def test_a_snapshot_taken_by_one_process_is_restored_by_another(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app()) as one, TestClient(make_app()) as two:
        session = login(one)
        one.post("/_mock/snapshots", json={"name": "shared"})
        one.delete(f"/zstack/v1/accounts/sessions/{session}")
        assert [s["name"] for s in two.get("/_mock/snapshots").json()["snapshots"]] == ["shared"]
        assert two.post("/_mock/snapshots/shared/restore").status_code == 200
        assert one.get("/zstack/v1/images", headers=auth(session)).status_code == 200


def _rewrite_rows(client: TestClient, name: str, rewrite: Callable[[dict[str, Any]], None]) -> None:
    """Change every table of a stored snapshot in place (as a snapshot of another version would be)."""
    store = client.app.state.server.store  # type: ignore[attr-defined]
    snapshot = store.get(Snapshot, name=name)
    header, _, body = snapshot.payload.partition("\n")
    tables = orjson.loads(body)
    for table in tables.values():
        rewrite(table)
    store.update(Snapshot, {"name": name}, {"payload": header + "\n" + orjson.dumps(tables).decode()})


def test_rows_are_read_back_by_column_name(client: TestClient) -> None:
    session = login(client)
    assert create(client, session, name="kept").status_code == 200
    before = inventory(client, session)
    client.post("/_mock/snapshots", json={"name": "base"})

    def reverse_columns(table: dict[str, Any]) -> None:
        table["columns"].reverse()
        for row in table["rows"]:
            row.reverse()

    _rewrite_rows(client, "base", reverse_columns)
    create(client, session, name="lost")
    assert client.post("/_mock/snapshots/base/restore").status_code == 200
    assert inventory(client, session) == before


def test_a_snapshot_with_other_columns_is_refused(client: TestClient) -> None:
    client.post("/_mock/snapshots", json={"name": "base"})

    def drop_last_column(table: dict[str, Any]) -> None:
        table["columns"].pop()
        for row in table["rows"]:
            row.pop()

    _rewrite_rows(client, "base", drop_last_column)
    assert_control_error(client.post("/_mock/snapshots/base/restore"), 409, "SYS.1007", "take the snapshot again")


def test_a_snapshot_of_another_format_is_refused(client: TestClient) -> None:
    client.post("/_mock/snapshots", json={"name": "base"})
    store = client.app.state.server.store  # type: ignore[attr-defined]
    payload = store.get(Snapshot, name="base").payload
    header, _, body = payload.partition("\n")
    older = orjson.dumps({**orjson.loads(header), "format": 1}).decode()
    store.update(Snapshot, {"name": "base"}, {"payload": older + "\n" + body})
    assert_control_error(client.post("/_mock/snapshots/base/restore"), 409, "SYS.1007", "is in format 1")
