"""Shared test helpers: fixture UUIDs, login, create, and ZStack error assertions."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import subprocess
import time
from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.clock import Clock

Client = httpx.Client | TestClient

ADMIN_UUID = "36c27e8ff05c4780bf6d2fa65700f22e"
ALICE_UUID = "a2536f110d5343a6b12eff3d815c695f"
BOB_UUID = "d18225383b0d4f1d861f9aa60e081b9d"

BS_READY = "4ed18086e5593b86932436d02f575213"
BS_DISABLED = "7806dfb8224f4ae0a16f27db56255dd3"
BS_DISCONNECTED = "05b9749991f34b4a9d0d61a2fddaaf18"

BACKUP_WITH_METADATA = "b67eee0a52b04816906cdf207adb00c0"  # on BS_READY and BS_DISCONNECTED
BACKUP_NO_METADATA = "0e6c5f0aa6b547c1ae83dd0cbb3a6a5a"  # on BS_READY
BACKUP_ON_DISABLED_ONLY = "f10898262650401ea3dcbc64d4fc1966"  # on BS_DISABLED only
BACKUP_OF_ALICE = "0cf5a36042dd4fbbba65ca71ba86097e"  # owned by alice, on BS_READY
BACKUP_WINDOWS = "16515e7c1f4d4fb28299b4e1259ed3aa"

TAG_PRODUCTION = "7658e8a3db2a4d7ca1f6b7bd2aa75153"
TAG_GOLDEN = "ac55845592de4e2bbbf03f404f6b43e1"
TAG_OF_ALICE = "e860f1d5b8914945bc03850656b9471a"

EXISTING_IMAGE = "74b721499872407893b890a9df8e912e"

CREATE_PATH = "/zstack/v1/images/root-volume-templates/from/volume-template/{}"
LOGIN_PATH = "/zstack/v1/accounts/login"
JSON = {"Content-Type": "application/json;charset=UTF-8"}

PASSWORDS = {"admin": "password", "alice": "alice-password", "bob": "bob-password"}


def sha512(text: str) -> str:
    return hashlib.sha512(text.encode()).hexdigest()


def login(client: Client, account: str = "admin", password: str | None = None) -> str:
    """Log in as a fixture account; returns the session UUID."""
    return str(login_inventory(client, account, password)["uuid"])


def login_inventory(client: Client, account: str = "admin", password: str | None = None) -> dict[str, str]:
    """Log in as a fixture account; returns the session's inventory."""
    response = client.put(
        LOGIN_PATH,
        json={"logInByAccount": {"accountName": account, "password": sha512(password or PASSWORDS[account])}},
    )
    assert response.status_code == 200, response.text
    inventory: dict[str, str] = response.json()["inventory"]
    return inventory


def auth(session_uuid: str) -> dict[str, str]:
    return {"Authorization": f"OAuth {session_uuid}", **JSON}


def create(
    client: Client,
    session_uuid: str,
    backup_uuid: str = BACKUP_WITH_METADATA,
    *,
    body: dict[str, Any] | None = None,
    **params: Any,
) -> Any:
    """POST the create call; ``params`` default to a valid request on the ready storage."""
    if body is None:
        body = {"params": {"backupStorageUuid": BS_READY, "name": "template", **params}}
    return client.post(CREATE_PATH.format(backup_uuid), json=body, headers=auth(session_uuid))


def assert_zstack_error(response: httpx.Response | Any, code: str, details: str | None = None) -> dict[str, Any]:
    """A 503 with a ZStack ErrorCode of ``code`` (and exactly ``details``, if given)."""
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/json")
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, error
    assert error["description"], error
    if details is not None:
        assert error["details"] == details, error["details"]
    return error


def assert_control_error(response: httpx.Response | Any, status: int, code: str, *fragments: str) -> str:
    """The control API's error: ``status`` and ``{"error": {code, description, details}}`` whose details
    hold every one of ``fragments``; returns the details."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    assert error["description"], error
    details: str = error["details"]
    for fragment in fragments:
        assert fragment in details, (fragment, details)
    return details


def assert_plain_text(response: httpx.Response | Any, status: int, text: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == text


def use_clock(app: FastAPI, clock: Clock) -> None:
    """Make ``app``'s own instance tell time by ``clock`` (its fault engine, journal and jobs too)."""
    server = app.state.server
    server.instance.context = dataclasses.replace(server.instance.context, clock=clock)


class FakeClock(Clock):
    """A clock that stands still until a test moves it (install it with ``use_clock``)."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


def served_url(process: subprocess.Popen[str], timeout: float = 20) -> str:
    """The base URL a ``zstack-mock serve --port 0`` process reports on stderr once it listens."""
    assert process.stderr is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if match := re.search(r"Uvicorn running on (http://\S+)", line):
            return match.group(1)
        if not line and process.poll() is not None:
            break
    raise AssertionError("the server did not report its address")
