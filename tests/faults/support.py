"""Driving the fault layer in tests: rules, scenario headers, seeded apps, and what a client sees."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
from fastapi import FastAPI

from app.main import create_app
from app.settings import Settings
from tests.helpers import BACKUP_WITH_METADATA, BS_READY, CREATE_PATH, Client, auth

RULES = "/_mock/faults"
SCENARIOS = "/_mock/scenarios"
SCENARIO = "X-Mock-Scenario"
CREATE_OPERATION = "CreateRootVolumeTemplateFromVolumeBackup"
ASYNC = {"Prefer": "respond-async"}
IMAGES = "/zstack/v1/images"
RPC_CREATE = "org.zstack.header.storage.volume.backup.APICreateRootVolumeTemplateFromVolumeBackupMsg"
RPC_CREATE_EVENT = "org.zstack.header.storage.volume.backup.APICreateRootVolumeTemplateFromVolumeBackupEvent"


def add_rule(client: Client, rule: dict[str, Any]) -> dict[str, Any]:
    """POST one rule; returns its view (``id``, ``rule``, counters...)."""
    response = client.post(RULES, json=rule)
    assert response.status_code == 201, response.text
    view: dict[str, Any] = response.json()
    return view


def rule_view(client: Client, rule_id: int) -> dict[str, Any]:
    response = client.get(f"{RULES}/{rule_id}")
    assert response.status_code == 200, response.text
    view: dict[str, Any] = response.json()
    return view


def counters(client: Client, rule_id: int) -> tuple[int, int, bool, bool]:
    """(matched, fired, spent, expired) of a rule."""
    view = rule_view(client, rule_id)
    return view["matched"], view["fired"], view["spent"], view["expired"]


def list_rules(client: Client) -> list[dict[str, Any]]:
    response = client.get(RULES)
    assert response.status_code == 200, response.text
    rules: list[dict[str, Any]] = response.json()["rules"]
    return rules


def scenario(name_or_effect: str | dict[str, Any]) -> dict[str, str]:
    """The scenario header for a catalogue name or an inline effect."""
    value = name_or_effect if isinstance(name_or_effect, str) else json.dumps(name_or_effect)
    return {SCENARIO: value}


def marker(label: str, status: int = 502) -> dict[str, Any]:
    """An ``http`` effect whose body says which rule answered."""
    return {"http": {"status": status, "body": label, "contentType": "text/plain"}}


def create_call(
    client: Client,
    session: str,
    name: str = "faulty",
    *,
    backup: str = BACKUP_WITH_METADATA,
    storage: str = BS_READY,
    headers: dict[str, str] | None = None,
    timeout: float | None = None,
) -> Any:
    """The REST create call on the ready storage, with extra headers (a scenario, Prefer...)."""
    extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
    return client.post(
        CREATE_PATH.format(backup),
        json={"params": {"backupStorageUuid": storage, "name": name}},
        headers={**auth(session), **(headers or {})},
        **extra,
    )


def rpc_result(client: Client, job_uuid: str, timeout: float = 5) -> tuple[str, dict[str, Any]]:
    """Poll an RPC job's result until Done; its (event class, fields)."""
    deadline = time.monotonic() + timeout
    while (envelope := client.get(f"/zstack/api/result/{job_uuid}").json())["state"] != "Done":
        assert time.monotonic() < deadline, envelope
        time.sleep(0.02)
    ((event_class, fields),) = json.loads(envelope["result"]).items()
    return str(event_class), fields


def images_named(client: Client, session: str, name: str) -> list[dict[str, Any]]:
    """The images called ``name`` (any status), as a ZStack query sees them."""
    response = client.get(IMAGES, params={"q": f"name={name}"}, headers=auth(session))
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["inventories"]
    return found


def seeded_app(database_url: str, seed: int, **overrides: Any) -> FastAPI:
    """An app started with ``--seed``: its fault draws (and UUIDs) come from ``seed``."""
    return create_app(Settings(database_url=database_url, seed=seed, **overrides))


def timed(call: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def timed_error(call: Callable[[], Any], error: type[BaseException]) -> tuple[BaseException, float]:
    """Run ``call``, which must raise ``error``; returns the exception and how long it took."""
    started = time.monotonic()
    try:
        call()
    except error as exc:
        return exc, time.monotonic() - started
    raise AssertionError(f"expected {error.__name__}")
