"""CORS: a page on another origin (the docs portal's "Try It Out") can call the API and read its answers."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from pydantic import ValidationError

from app.settings import Settings
from tests.conftest import LiveServer
from tests.helpers import BACKUP_WITH_METADATA, BS_READY, CREATE_PATH, auth, login

PORTAL = "https://docs.example.com"


def preflight(url: str, path: str, method: str, headers: str, origin: str = PORTAL) -> httpx.Response:
    return httpx.options(f"{url}{path}", headers={
        "Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers,
    })


def test_a_preflight_for_an_async_create_with_a_scenario_is_allowed(live_server: Callable[..., LiveServer]) -> None:
    server = live_server()
    response = preflight(server.url, CREATE_PATH.format(BACKUP_WITH_METADATA), "POST",
                         "authorization,content-type,x-job-uuid,x-web-hook,x-mock-scenario,prefer")

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    for header in ("authorization", "content-type", "x-job-uuid", "x-web-hook", "x-mock-scenario", "prefer"):
        assert header in allowed


def test_a_preflight_is_answered_before_faults_and_is_not_journaled(live_server: Callable[..., LiveServer]) -> None:
    server = live_server()
    httpx.post(f"{server.url}/_mock/faults", json={"http": {"status": 502}}).raise_for_status()

    response = preflight(server.url, "/zstack/v1/images", "GET", "authorization")

    assert response.status_code == 200
    assert httpx.get(f"{server.url}/_mock/requests").json()["requests"] == []


def test_a_script_can_read_the_async_accept_and_its_location(live_server: Callable[..., LiveServer]) -> None:
    server = live_server()
    with httpx.Client(base_url=server.url) as client:
        session = login(client)
        response = client.post(
            CREATE_PATH.format(BACKUP_WITH_METADATA),
            json={"params": {"backupStorageUuid": BS_READY, "name": "from-a-browser"}},
            headers={**auth(session), "Origin": PORTAL, "Prefer": "respond-async"},
        )

    assert response.status_code == 202
    assert response.headers["access-control-allow-origin"] == "*"
    exposed = response.headers["access-control-expose-headers"].lower()
    assert "location" in exposed and "x-job-success" in exposed


def test_only_the_configured_origins_are_allowed(live_server: Callable[..., LiveServer]) -> None:
    server = live_server(cors_origins=f"{PORTAL}, http://localhost:3000")

    allowed = preflight(server.url, "/zstack/v1/images", "GET", "authorization")
    other = preflight(server.url, "/zstack/v1/images", "GET", "authorization", origin="https://evil.example")
    simple = httpx.get(f"{server.url}/_mock/health", headers={"Origin": "http://localhost:3000"})

    assert allowed.headers["access-control-allow-origin"] == PORTAL
    assert other.status_code == 400
    assert "access-control-allow-origin" not in other.headers
    assert simple.headers["access-control-allow-origin"] == "http://localhost:3000"


def test_an_empty_origin_list_sends_no_cors_headers(live_server: Callable[..., LiveServer]) -> None:
    server = live_server(cors_origins="")

    response = httpx.get(f"{server.url}/_mock/health", headers={"Origin": PORTAL})

    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


def test_a_preflight_to_the_control_api_needs_no_admin_token(live_server: Callable[..., LiveServer]) -> None:
    server = live_server(admin_token="s3cret")

    response = preflight(server.url, "/_mock/faults", "POST", "authorization,content-type")
    refused = httpx.get(f"{server.url}/_mock/faults", headers={"Origin": PORTAL})

    assert response.status_code == 200
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == "*"  # so the page can read why


def test_an_origin_that_is_not_a_url_is_refused_at_start_up() -> None:
    with pytest.raises(ValidationError, match="CORS origin"):
        Settings(cors_origins="docs.example.com")
