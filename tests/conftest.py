"""Fixtures: an in-process client on a fresh app per test, and a live server on a real socket."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.main import create_app
from app.serving.config import server_config
from app.settings import Settings
from tests.jobs.support import WebhookReceiver
from tests.postgres import Cluster


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'zstack-mock.db'}"


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    """A PostgreSQL cluster of this test process's own (``tests.postgres``), started when a test first
    needs it and removed at the end of the run."""
    cluster = Cluster()
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture
def postgres_url(postgres_cluster: Cluster) -> str:
    """A new PostgreSQL database of the test's own, holding the schema and no rows."""
    return postgres_cluster.database()


@pytest.fixture(params=["sqlite", "postgres"])
def shared_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database several stores (processes) can open, of each kind in turn."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def make_app(database_url: str) -> Iterator[Callable[..., FastAPI]]:
    """Build apps over the test's database file; settings can be overridden per call."""
    apps: list[FastAPI] = []

    def build(**overrides: Any) -> FastAPI:
        app = create_app(Settings(database_url=database_url, **overrides))
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.state.server.close()


@pytest.fixture
def client(make_app: Callable[..., FastAPI]) -> Iterator[TestClient]:
    with TestClient(make_app(), raise_server_exceptions=False) as test_client:
        yield test_client


class LiveServer:
    """uvicorn in a thread on a free port, configured as ``zstack-mock serve`` runs it; ``url`` is its base URL."""

    def __init__(self, app: FastAPI) -> None:
        # An app wrapped in another layer (a test's proxy) runs with the default settings' limits.
        owner = getattr(getattr(app, "state", None), "server", None)
        settings = owner.settings if owner is not None else Settings()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(
            server_config(app, settings, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the live server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(make_app: Callable[..., FastAPI]) -> Iterator[Callable[..., LiveServer]]:
    """Start live servers (each over the test's database); all are stopped after the test."""
    servers: list[LiveServer] = []

    def start(**overrides: Any) -> LiveServer:
        server = LiveServer(make_app(**overrides)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def receivers() -> Iterator[Callable[..., WebhookReceiver]]:
    """Start webhook listeners on loopback; all are closed after the test."""
    started: list[WebhookReceiver] = []

    def start(**kwargs: Any) -> WebhookReceiver:
        receiver = WebhookReceiver(**kwargs)
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.close()
