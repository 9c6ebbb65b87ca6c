"""/_mock/clock: the time the server reports, frozen or running, shared by every process."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.helpers import (
    BACKUP_WITH_METADATA,
    BS_READY,
    CREATE_PATH,
    FakeClock,
    assert_control_error,
    assert_zstack_error,
    auth,
    login,
    login_inventory,
    use_clock,
)

NEW_YEAR = {"now": "2026-01-01T00:00:00Z", "frozen": True}


def test_a_frozen_clock_stamps_everything(client: TestClient) -> None:
    response = client.put("/_mock/clock", json=NEW_YEAR)
    assert response.json() == {"now": "2026-01-01T00:00:00Z", "frozen": True, "realTime": False,
                               "offsetSeconds": None}
    assert client.get("/_mock/clock").json() == response.json()
    inventory = login_inventory(client, "bob")
    assert inventory["createDate"] == "Jan 1, 2026 12:00:00 AM"
    assert inventory["expiredDate"] == "Jan 1, 2026 2:00:00 AM"
    assert client.get("/_mock/requests?limit=1").json()["requests"][0]["time"] == "2026-01-01T00:00:00Z"


def test_advancing_expires_sessions(client: TestClient) -> None:
    client.put("/_mock/clock", json=NEW_YEAR)
    session = login(client)
    assert client.put("/_mock/clock", json={"advance": 7199}).json()["frozen"] is True
    assert client.get("/zstack/v1/images", headers=auth(session)).status_code == 200  # renewed to 7200 s on
    client.put("/_mock/clock", json={"advance": 7200})
    assert_zstack_error(client.get("/zstack/v1/images", headers=auth(session)), "ID.1001")
    assert client.get("/_mock/clock").json()["now"] == "2026-01-01T03:59:59Z"


def test_a_running_clock_moves_on_from_the_time_set(client: TestClient) -> None:
    view = client.put("/_mock/clock", json={"now": "2026-01-01T00:00:00Z", "frozen": False}).json()
    assert view["frozen"] is False and view["realTime"] is False
    assert view["offsetSeconds"] < 0 or view["offsetSeconds"] > 0
    now = datetime.fromisoformat(client.get("/_mock/clock").json()["now"])
    assert datetime(2026, 1, 1, tzinfo=UTC) <= now < datetime(2026, 1, 1, 0, 1, tzinfo=UTC)


def test_freezing_and_thawing_keep_the_time(client: TestClient) -> None:
    client.put("/_mock/clock", json={"now": "2026-01-01T00:00:00Z", "frozen": False})
    frozen = client.put("/_mock/clock", json={"frozen": True}).json()
    assert frozen["frozen"] is True
    assert frozen["now"].startswith("2026-01-01T00:0")
    thawed = client.put("/_mock/clock", json={"frozen": False}).json()
    assert thawed["frozen"] is False
    assert thawed["now"] >= frozen["now"]
    real = client.delete("/_mock/clock").json()
    assert real["realTime"] is True and real["frozen"] is False and real["offsetSeconds"] is None


def test_a_time_without_a_zone_is_utc(client: TestClient) -> None:
    assert client.put("/_mock/clock", json={"now": "2026-06-01T12:00:00", "frozen": True}).json()["now"] == (
        "2026-06-01T12:00:00Z")
    assert client.put("/_mock/clock", json={"now": "2026-06-01T12:00:00+02:00"}).json()["now"] == (
        "2026-06-01T10:00:00Z")


@pytest.mark.parametrize(
    ("body", "details"),
    [
        ({}, "nothing to change"),
        ({"now": "2026-01-01T00:00:00Z", "advance": 5}, "either now or advance"),
        ({"now": "yesterday"}, "invalid ClockChange body: now"),
        ({"now": "1969-12-31T23:59:59Z"}, "the time must be from 1970-01-01"),
        ({"now": "9999-12-31T23:59:59Z"}, "the time must be from 1970-01-01"),
        ({"advance": 1e300}, "advance must be within"),
        ({"advance": "nan"}, "invalid ClockChange body: advance"),
        ({"frozen": "sometimes"}, "invalid ClockChange body: frozen"),
        ({"tz": "UTC"}, "invalid ClockChange body: tz"),
    ],
)
def test_bad_changes_are_refused(client: TestClient, body: dict[str, object], details: str) -> None:
    assert_control_error(client.put("/_mock/clock", json=body), 400, "SYS.1007", details)


def test_jobs_run_on_the_frozen_clock(client: TestClient) -> None:
    client.put("/_mock/clock", json=NEW_YEAR)
    session = login(client)
    accepted = client.post(
        CREATE_PATH.format(BACKUP_WITH_METADATA),
        json={"params": {"backupStorageUuid": BS_READY, "name": "async"}},
        headers={**auth(session), "Prefer": "respond-async"},
    )
    location = accepted.json()["location"]
    assert client.get(location).status_code == 202
    assert client.get("/_mock/jobs").json()["jobs"][0]["status"] == "Running"
    client.put("/_mock/clock", json={"advance": 1})  # job durations are 0.2-1 s by default
    finished = client.get(location)
    assert finished.status_code == 200
    assert finished.json()["inventory"]["createDate"] == "Jan 1, 2026 12:00:00 AM"
    assert finished.json()["inventory"]["lastOpDate"] == "Jan 1, 2026 12:00:01 AM"


def test_jobs_of_no_duration_finish_on_a_frozen_clock(client: TestClient) -> None:
    client.put("/_mock/clock", json=NEW_YEAR)
    client.put("/_mock/jobs/settings", json={"duration": 0})
    session = login(client)
    accepted = client.post(
        CREATE_PATH.format(BACKUP_WITH_METADATA),
        json={"params": {"backupStorageUuid": BS_READY, "name": "async"}},
        headers={**auth(session), "Prefer": "respond-async"},
    )
    assert client.get(accepted.json()["location"]).status_code == 200


def test_another_process_follows_the_clock(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app()) as one, TestClient(make_app()) as two:
        one.put("/_mock/clock", json=NEW_YEAR)
        assert two.get("/_mock/clock").json()["now"] == "2026-01-01T00:00:00Z"  # read through at once
        deadline = time.monotonic() + 2
        while login_inventory(two, "bob")["createDate"] != "Jan 1, 2026 12:00:00 AM":  # cached up to 5 ms
            assert time.monotonic() < deadline
            time.sleep(0.005)


def test_a_test_clock_cannot_be_set(client: TestClient) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    use_clock(app, FakeClock(datetime(2026, 1, 1, tzinfo=UTC)))
    assert_control_error(client.put("/_mock/clock", json=NEW_YEAR), 409, "SYS.1007", "replaced")
    assert_control_error(client.get("/_mock/clock"), 409, "SYS.1007")
