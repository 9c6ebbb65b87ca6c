"""Fault tests share one server per module (a live one on a socket for the effects, an in-process one
for the control API and matching), reset before each test (POST /_mock/reset: the fixtures' inventory,
no sessions, jobs, rules, scenario counters or journal). A test that needs its own settings starts its
own live server. Every test fails if the server logged an unexpected error: no fault, and no client
input, may cause one."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.conftest import LiveServer
from tests.helpers import Client, login


@dataclass
class Live:
    server: LiveServer
    http: httpx.Client
    #: An admin session.
    session: str

    @property
    def url(self) -> str:
        return self.server.url


StartLive = Callable[..., Live]

#: Shared servers' jobs finish as soon as they are due.
SHARED_SETTINGS: dict[str, Any] = {"job_duration": "0"}


@pytest.fixture(autouse=True)
def no_server_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.ERROR, logger="zstack_mock")
    yield
    errors = [r for r in caplog.records if r.name.startswith("zstack_mock") and r.levelno >= logging.ERROR]
    assert not errors, [f"{r.getMessage()}: {r.exc_info[1] if r.exc_info else ''}" for r in errors]


def reset(client: Client) -> None:
    response = client.post("/_mock/reset")
    assert response.status_code == 200, response.text


@pytest.fixture(scope="module")
def shared_live(module_databases: Callable[[], str]) -> Iterator[Live]:
    app = create_app(Settings(database_url=module_databases(), **SHARED_SETTINGS))
    server = LiveServer(app).start()
    try:
        with httpx.Client(base_url=server.url, timeout=5) as http:
            yield Live(server, http, login(http))
    finally:
        server.stop()
        app.state.server.store.close()


@pytest.fixture
def live(shared_live: Live) -> Live:
    """The module's live server (uvicorn with the wire-fault protocol), reset, with a new admin session."""
    reset(shared_live.http)
    return Live(shared_live.server, shared_live.http, login(shared_live.http))


@pytest.fixture(scope="module")
def shared_client(module_databases: Callable[[], str]) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=module_databases(), **SHARED_SETTINGS))
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client
    finally:
        app.state.server.store.close()


@pytest.fixture
def client(shared_client: TestClient) -> TestClient:
    """The module's in-process server, reset (for the control API and matching, not wire faults)."""
    reset(shared_client)
    return shared_client


@pytest.fixture
def start_live(live_server: Callable[..., LiveServer]) -> Iterator[StartLive]:
    """Start a live server of the test's own (settings overridable), with an httpx client and an admin session."""
    clients: list[httpx.Client] = []

    def start(**overrides: Any) -> Live:
        server = live_server(**overrides)
        http = httpx.Client(base_url=server.url, timeout=5)
        clients.append(http)
        return Live(server, http, login(http))

    yield start
    for http in clients:
        http.close()
