"""What the state tests share: the control API's error shape, and the inventory as clients see it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.helpers import Client, auth

QUERIES = (
    "/zstack/v1/images",
    "/zstack/v1/volume-backups",
    "/zstack/v1/backup-storage",
)


def inventory(client: Client, session: str) -> dict[str, Any]:
    """Every image, volume backup and backup storage an admin sees, as the query APIs answer."""
    return {path: client.get(path, headers=auth(session)).json() for path in QUERIES}


@contextmanager
def fresh_server(database_url: str, **settings: Any) -> Iterator[TestClient]:
    """An in-process server over a database of its own (``new_database``; ``make_app`` shares the test's one)."""
    app = create_app(Settings(database_url=database_url, **settings))
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client
    finally:
        app.state.server.store.close()
