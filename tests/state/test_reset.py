"""POST /_mock/reset: back to the fixtures; sessions, jobs, rules, journal, job settings and clock cleared."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.helpers import (
    BACKUP_WITH_METADATA,
    BS_READY,
    CREATE_PATH,
    assert_zstack_error,
    auth,
    create,
    login,
)
from tests.state.support import fresh_server, inventory

RULE = {"match": {"operation": "QueryImage"}, "error": {"code": "SYS.1000"}}


def test_reset_puts_the_fixtures_back_and_clears_the_rest(
    client: TestClient, new_database: Callable[[], str]
) -> None:
    session = login(client)
    assert create(client, session).status_code == 200
    # Held before the async create: a job that finished before the clock moves to 2030 would be past its
    # retention there, and the job runner could forget it before the reset counts it.
    client.put("/_mock/jobs/settings", json={"holdNewJobs": True, "duration": "5"})
    accepted = client.post(
        CREATE_PATH.format(BACKUP_WITH_METADATA),
        json={"params": {"backupStorageUuid": BS_READY, "name": "async"}},
        headers={**auth(session), "Prefer": "respond-async"},
    )
    assert accepted.status_code == 202
    client.post("/_mock/accounts", json={"name": "carol", "password": "x"})
    client.patch(f"/_mock/backup-storages/{BS_READY}", json={"status": "Disconnected"})
    assert client.post("/_mock/faults", json=RULE).status_code == 201
    client.put("/_mock/clock", json={"now": "2030-01-01T00:00:00Z", "frozen": True})
    assert client.post("/_mock/snapshots", json={"name": "kept"}).status_code == 201

    response = client.post("/_mock/reset")

    assert response.status_code == 200
    summary = response.json()
    assert summary["inventory"] == {
        "accounts": 3, "backupStorages": 3, "volumeBackups": 5, "volumeBackupStorageRefs": 6, "tags": 3,
        "images": 3, "imageBackupStorageRefs": 3, "imageTags": 0, "sessions": 0,
    }
    assert summary["cleared"]["sessions"] == 1
    assert summary["cleared"]["jobs"] == 1
    assert summary["cleared"]["faultRules"] == 1
    assert summary["cleared"]["journal"] >= 3
    assert summary["snapshotsKept"] == 1
    assert summary["faultRulesInstalled"] == 0
    assert summary["generatorsRewound"] is False  # no --seed
    assert isinstance(summary["elapsedMs"], float)

    assert client.get("/_mock/requests").json()["requests"] == []
    assert_zstack_error(client.get("/zstack/v1/images", headers=auth(session)), "ID.1001")
    assert client.get("/_mock/jobs").json() == {"jobs": []}
    assert client.get("/_mock/faults").json() == {"rules": [], "total": 0}
    assert client.get("/_mock/jobs/settings").json() == {"holdNewJobs": False, "duration": "0.2-1"}
    assert client.get("/_mock/clock").json()["realTime"] is True
    assert [s["name"] for s in client.get("/_mock/snapshots").json()["snapshots"]] == ["kept"]
    with fresh_server(new_database()) as fresh:
        assert inventory(client, login(client)) == inventory(fresh, login(fresh))


def test_reset_clears_journal_entries_not_yet_written(client: TestClient) -> None:
    login(client)
    login(client)  # both still in the journal's in-process buffer
    assert client.post("/_mock/reset").json()["cleared"]["journal"] == 2
    assert client.post("/_mock/requests/count", json={}).json() == {"count": 0}


def test_reset_installs_the_start_up_rules_again(make_app: Callable[..., FastAPI], tmp_path: Path) -> None:
    rules = tmp_path / "faults.json"
    rules.write_text('[{"name": "from the file", "match": {"operation": "QueryImage"}, "error": {"code": "SYS.1000"}}]')
    with TestClient(make_app(faults=rules)) as client:
        client.delete("/_mock/faults")
        client.post("/_mock/faults", json=RULE)
        summary = client.post("/_mock/reset").json()
        assert summary["faultRulesInstalled"] == 1
        assert [r["name"] for r in client.get("/_mock/faults").json()["rules"]] == ["from the file"]


def test_reset_rewinds_the_seeded_generators(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app(seed=11)) as client:
        first = login(client)
        login(client)
        assert client.post("/_mock/reset").json()["generatorsRewound"] is True
        assert login(client) == first


def test_other_processes_see_the_reset(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app()) as one, TestClient(make_app()) as two:
        session = login(two)
        one.post("/_mock/faults", json=RULE)
        assert_zstack_error(two.get("/zstack/v1/images", headers=auth(session)), "SYS.1000")
        one.post("/_mock/reset")
        assert_zstack_error(two.get("/zstack/v1/images", headers=auth(session)), "ID.1001")
        assert two.get("/zstack/v1/images", headers=auth(login(two))).status_code == 200  # the rule is gone there too
