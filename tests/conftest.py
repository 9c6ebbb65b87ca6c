"""Fixtures: an in-process client on a fresh app per test, and a live server on a real socket.

The tests of what the state keeps (``BOTH_STORES``) run once on each store: every one of their tests that
uses a database (``database_url``, ``new_database``, ``module_databases``) is parametrized by
``store_kind``, so its id ends in ``[sqlite]`` or ``[postgres]``. The parameter is module-scoped, so a
module's shared server is started once per store.
"""

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
from tests.postgres import Cluster, DatabasePool

#: The folders of tests/ whose tests run against both stores.
BOTH_STORES = frozenset({"sessions", "create", "query", "jobs", "faults", "journal", "state", "lifecycle", "sandbox"})
STORE_KINDS = ("sqlite", "postgres")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "one_store(kind, reason): in BOTH_STORES, run on that store only (no case is generated "
                   "for the other; the reason says why one store is enough)"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    folder = metafunc.definition.path.relative_to(Path(__file__).parent).parts[0]
    if folder in BOTH_STORES and "store_kind" in metafunc.fixturenames:
        only = metafunc.definition.get_closest_marker("one_store")
        kinds = STORE_KINDS if only is None else (only.args[0],)
        metafunc.parametrize("store_kind", kinds, indirect=True, scope="module")


@pytest.fixture(scope="module")
def store_kind(request: pytest.FixtureRequest) -> str:
    """``sqlite`` or ``postgres``: the store the test's databases are of (SQLite outside ``BOTH_STORES``)."""
    kind: str = getattr(request, "param", "sqlite")
    return kind


class Databases:
    """New empty databases of one kind: SQLite files in a folder, or PostgreSQL databases from this
    process's pool (started when first needed), handed back to it by ``close``."""

    def __init__(self, kind: str, folder: Path, request: pytest.FixtureRequest) -> None:
        self.kind, self.folder, self.request = kind, folder, request
        self._taken: list[str] = []
        self._pool: DatabasePool | None = None

    def new(self) -> str:
        if self.kind == "sqlite":
            name = "zstack-mock.db" if not self._taken else f"zstack-mock-{len(self._taken) + 1}.db"
            url = f"sqlite:///{self.folder / name}"
        else:
            if self._pool is None:
                self._pool = self.request.getfixturevalue("postgres_pool")
            url = self._pool.take()
        self._taken.append(url)
        return url

    def close(self) -> None:
        if self._pool is not None:
            for url in self._taken:
                self._pool.give_back(url)
        self._taken.clear()


@pytest.fixture
def new_database(store_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[[], str]]:
    """Make new empty databases of the test's store kind; each call gives another."""
    databases = Databases(store_kind, tmp_path, request)
    yield databases.new
    databases.close()


@pytest.fixture
def database_url(new_database: Callable[[], str]) -> str:
    """The test's database (``make_app``'s apps all open this one)."""
    return new_database()


@pytest.fixture(scope="module")
def module_databases(
    store_kind: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Callable[[], str]]:
    """``new_database`` for a module's shared servers."""
    databases = Databases(store_kind, tmp_path_factory.mktemp("module-databases"), request)
    yield databases.new
    databases.close()


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    """A PostgreSQL cluster of this test process's own (``tests.postgres``), started when a test first
    needs it and removed at the end of the run."""
    cluster = Cluster()
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def postgres_pool(postgres_cluster: Cluster) -> DatabasePool:
    return DatabasePool(postgres_cluster)


@pytest.fixture
def postgres_url(postgres_pool: DatabasePool) -> Iterator[str]:
    """A PostgreSQL database of the test's own, holding the schema and no rows."""
    url = postgres_pool.take()
    yield url
    postgres_pool.give_back(url)


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
