"""Fixtures for the query API tests: a session header per fixture account."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.helpers import login


def oauth(session_uuid: str) -> dict[str, str]:
    return {"Authorization": f"OAuth {session_uuid}"}


@pytest.fixture
def admin(client: TestClient) -> dict[str, str]:
    return oauth(login(client, "admin"))


@pytest.fixture
def alice(client: TestClient) -> dict[str, str]:
    return oauth(login(client, "alice"))


@pytest.fixture
def bob(client: TestClient) -> dict[str, str]:
    return oauth(login(client, "bob"))
