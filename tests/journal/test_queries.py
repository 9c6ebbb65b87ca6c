"""/_mock/requests: filters, count, limit, delete, the bound, and bad filters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.helpers import BS_DISCONNECTED, FakeClock, auth, create, login, use_clock
from tests.journal.support import REQUESTS, count, entries


@pytest.fixture
def history(client: TestClient) -> dict[str, str]:
    """admin logs in, creates one template and fails one; alice logs in and lists images through a fault."""
    clock = FakeClock(datetime(2026, 5, 1, 9, 0, tzinfo=UTC))
    use_clock(client.app, clock)
    admin = login(client)
    create(client, admin)
    clock.advance(60)
    create(client, admin, backupStorageUuid=BS_DISCONNECTED)
    alice = login(client, "alice")
    client.get("/zstack/v1/images", headers={**auth(alice), "X-Test-Fault": "rule:1"})
    return {"admin": admin, "alice": alice}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        pytest.param({}, ["QueryImage", "LogInByAccount", "Create", "Create", "LogInByAccount"], id="none"),
        pytest.param({"operation": "LogInByAccount"}, ["LogInByAccount", "LogInByAccount"], id="operation"),
        pytest.param({"status": 503}, ["Create"], id="status"),
        pytest.param({"since": "2026-05-01T09:01:00Z"}, ["QueryImage", "LogInByAccount", "Create"], id="since"),
        pytest.param({"since": "2026-05-01T11:01:00+02:00"}, ["QueryImage", "LogInByAccount", "Create"],
                     id="since-offset"),
        pytest.param({"since": "2026-05-01T09:00:30"}, ["QueryImage", "LogInByAccount", "Create"], id="since-naive"),
        pytest.param({"fault": "true"}, ["QueryImage"], id="fault"),
        pytest.param({"fault": "false"}, ["LogInByAccount", "Create", "Create", "LogInByAccount"], id="no-fault"),
        pytest.param({"operation": "CreateRootVolumeTemplateFromVolumeBackup", "status": 200}, ["Create"],
                     id="combined"),
        pytest.param({"limit": 2}, ["QueryImage", "LogInByAccount"], id="limit"),
    ],
)
def test_filters_select_newest_first_and_count_agrees(
    client: TestClient, history: dict[str, str], filters: dict[str, object], expected: list[str]
) -> None:
    found = [e["operation"].removesuffix("RootVolumeTemplateFromVolumeBackup") for e in entries(client, **filters)]

    assert found == expected
    body = {k: (v == "true" if k == "fault" else v) for k, v in filters.items() if k != "limit"}
    if "limit" not in filters:
        assert count(client, **body) == len(expected)


def test_session_filter_finds_the_calls_made_with_a_session(client: TestClient, history: dict[str, str]) -> None:
    assert [e["operation"] for e in entries(client, session=history["alice"])] == ["QueryImage"]
    assert count(client, session=history["admin"]) == 2
    assert count(client, session="nobody") == 0


def test_ids_increase_and_count_with_no_body_counts_everything(client: TestClient, history: dict[str, str]) -> None:
    ids = [e["id"] for e in entries(client)]

    assert ids == sorted(ids, reverse=True)
    response = client.post(f"{REQUESTS}/count")
    assert response.json() == {"count": 5}


@pytest.mark.parametrize(
    ("query", "details"),
    [
        ("status=abc", "status must be an HTTP status from 100 to 599, got [abc]"),
        ("status=99", "status must be an HTTP status from 100 to 599, got [99]"),
        ("since=yesterday", "since must be an ISO 8601 time such as 2026-01-01T12:00:00Z, got [yesterday]"),
        ("fault=maybe", "fault must be true or false, got [maybe]"),
        ("limit=0", "limit must be an integer from 1 to 10000, got [0]"),
        ("limit=x", "limit must be an integer from 1 to 10000, got [x]"),
    ],
)
def test_bad_filters_are_400_in_the_control_error_shape(client: TestClient, query: str, details: str) -> None:
    response = client.get(f"{REQUESTS}?{query}")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "SYS.1007"
    assert response.json()["error"]["details"] == details


@pytest.mark.parametrize(
    ("body", "details"),
    [
        ({"status": 1000}, "status must be an HTTP status from 100 to 599, got [1000]"),
        ({"since": "not a time"}, "since must be an ISO 8601 time such as 2026-01-01T12:00:00Z, got [not a time]"),
        ({"fault": "maybe"}, "invalid RequestFilter body: fault: Input should be a valid boolean, unable to interpret "
                             "input"),
        ({"colour": "red"}, "invalid RequestFilter body: colour: Extra inputs are not permitted"),
    ],
)
def test_bad_count_filters_are_400(client: TestClient, body: dict[str, object], details: str) -> None:
    response = client.post(f"{REQUESTS}/count", json=body)

    assert response.status_code == 400
    assert response.json()["error"]["details"] == details


def test_delete_forgets_every_entry_and_recording_goes_on(client: TestClient, history: dict[str, str]) -> None:
    response = client.delete(REQUESTS)

    assert response.json() == {"deleted": 5}
    assert entries(client) == []
    client.get("/zstack/v1/images", headers=auth(history["admin"]))
    assert [e["operation"] for e in entries(client)] == ["QueryImage"]


def test_the_journal_keeps_only_the_newest_entries(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app(journal_size=3)) as client:
        session = login(client)
        for limit in range(1, 7):
            client.get(f"/zstack/v1/images?limit={limit}", headers=auth(session))

        assert [e["query"] for e in entries(client)] == ["limit=6", "limit=5", "limit=4"]
        assert count(client) == 3
        client.get("/zstack/v1/images?limit=7", headers=auth(session))
        assert [e["query"] for e in entries(client)] == ["limit=7", "limit=6", "limit=5"]


def test_journal_size_zero_records_nothing(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app(journal_size=0)) as client:
        login(client)

        assert entries(client) == []
        assert count(client) == 0
