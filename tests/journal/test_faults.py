"""The fault column: what the fault layer says fired, read defensively."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.middleware import Middleware

from tests.helpers import BACKUP_WITH_METADATA, BS_READY, CREATE_PATH, auth, create, login
from tests.journal.support import count, entries, newest


def test_the_rule_or_scenario_that_fired_is_recorded(client: TestClient) -> None:
    session = login(client)
    create(client, session)
    client.get("/zstack/v1/images", headers={"X-Test-Fault": "rule:12", "X-Test-Answer": "502"})
    client.get("/zstack/v1/images", headers={"X-Test-Fault": "scenario:slow-response", **auth(session)})

    slow, bad_gateway, created, _ = entries(client)
    assert created["fault"] is None
    assert bad_gateway["fault"] == "rule:12"
    assert slow["fault"] == "scenario:slow-response"
    assert slow["verdict"] == "ok"


class OddState:
    """A fault layer that leaves something unexpected in the scope state."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        value = dict(scope.get("headers", ())).get(b"x-odd")
        if value == b"not-a-dict":
            scope["state"]["zstack_mock"] = "rule:1"
        elif value == b"no-state":
            scope.pop("state", None)
        elif value == b"fault-not-text":
            scope["state"]["zstack_mock"] = {"fault": 7}
        await self.app(scope, receive, send)


@pytest.mark.parametrize("odd", ["not-a-dict", "no-state", "fault-not-text"])
def test_an_odd_fault_state_records_no_fault(make_app: Callable[..., FastAPI], odd: str) -> None:
    app = make_app()
    app.user_middleware.append(Middleware(OddState))
    with TestClient(app) as client:
        assert client.get("/zstack/v1/images", headers={"X-Odd": odd}).status_code == 400

        entry = newest(client)
    assert (entry["fault"], entry["verdict"], entry["path"]) == (None, "rejected", "/zstack/v1/images")


@pytest.mark.skipif(importlib.util.find_spec("app.faults") is None, reason="the fault layer is not built yet")
def test_a_real_scenario_is_recorded_by_name(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app()) as client:
        scenarios = client.get("/_mock/scenarios")
        assert scenarios.status_code == 200, scenarios.text
        session = login(client)
        answered = client.post(
            CREATE_PATH.format(BACKUP_WITH_METADATA),
            json={"params": {"backupStorageUuid": BS_READY, "name": "x"}},
            headers={**auth(session), "X-Mock-Scenario": "internal-error"},
        )

        if "SYS.1000" not in answered.text:
            pytest.skip("the fault layer did not answer X-Mock-Scenario: internal-error; align this test with it")
        entry = newest(client)
        assert entry["fault"] == "scenario:internal-error", entry
        assert (entry["status"], entry["errorCode"]) == (answered.status_code, "SYS.1000")
        assert count(client, fault=True) == 1
