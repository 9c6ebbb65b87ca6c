"""ZSTACK_MOCK_ADMIN_TOKEN: every control call needs the bearer token; GET /_mock/health and
GET /_mock/scenarios never do."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.testclient import TestClient
from pydantic import ValidationError
from starlette.responses import Response

from app.settings import Settings
from app.zstack.responses import json_response
from tests.conftest import LiveServer
from tests.helpers import assert_control_error, auth, login

TOKEN = "s3cret-admin-token"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def guarded(make_app: Callable[..., FastAPI]) -> Iterator[TestClient]:
    with TestClient(make_app(admin_token=TOKEN), raise_server_exceptions=False) as client:
        yield client


def _control_calls(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every documented operation under /_mock, path parameters filled in."""
    return [
        (method.upper(), re.sub(r"\{[^}]+\}", "x", path))
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/_mock")
        for method in operations
    ]


def test_every_control_route_needs_the_token(guarded: TestClient) -> None:
    calls = _control_calls(guarded.app)  # type: ignore[arg-type]
    assert len(calls) > 20
    for method, path in calls:
        response = guarded.request(method, path)
        if (method, path) in (("GET", "/_mock/health"), ("GET", "/_mock/scenarios")):
            assert response.status_code == 200
            continue
        assert_control_error(response, 401, "ID.1000", "Authorization: Bearer")
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_the_token_opens_the_control_api(guarded: TestClient) -> None:
    assert guarded.get("/_mock/jobs", headers=BEARER).status_code == 200
    assert guarded.get("/_mock/snapshots", headers={"Authorization": f"bearer   {TOKEN}"}).status_code == 200
    assert guarded.put("/_mock/clock", headers=BEARER, json={"frozen": True}).json()["frozen"] is True


def test_a_wrong_token_is_refused_with_invalid_token(guarded: TestClient) -> None:
    for value in (f"Bearer {TOKEN}x", "Bearer", f"Bearer {TOKEN[:-1]}", "Bearer é"):
        response = guarded.post("/_mock/reset", headers={b"Authorization": value.encode("latin-1")})
        assert_control_error(response, 401, "ID.1000")
    response = guarded.post("/_mock/reset", headers={"Authorization": "Bearer nope"})
    assert_control_error(response, 401, "ID.1000", "the bearer token is not the admin token")
    assert response.headers["www-authenticate"] == 'Bearer realm="zstack-mock control API", error="invalid_token"'


def test_a_zstack_session_never_opens_the_control_api(guarded: TestClient) -> None:
    session = login(guarded)
    response = guarded.post("/_mock/reset", headers=auth(session))
    assert_control_error(response, 401, "ID.1000", "a ZStack session does not open it")
    assert guarded.get("/_mock/jobs", headers={"Authorization": f"OAuth {TOKEN}"}).status_code == 401


def test_the_zstack_api_needs_no_token(guarded: TestClient) -> None:
    session = login(guarded)
    assert guarded.get("/zstack/v1/images", headers=auth(session)).status_code == 200


def test_health_stays_open_for_probes(guarded: TestClient) -> None:
    assert guarded.get("/_mock/health").status_code == 200
    assert guarded.head("/_mock/health").status_code != 401
    assert_control_error(guarded.post("/_mock/health"), 401, "ID.1000")


def test_the_scenario_catalogue_stays_open_for_the_console(guarded: TestClient) -> None:
    response = guarded.get("/_mock/scenarios")

    assert response.status_code == 200
    assert "backup-storage-disconnected" in {s["name"] for s in response.json()["scenarios"]}
    assert guarded.head("/_mock/scenarios").status_code != 401
    assert_control_error(guarded.post("/_mock/scenarios"), 401, "ID.1000")
    assert_control_error(guarded.get("/_mock/scenarios/extra"), 401, "ID.1000")


def test_unknown_paths_under_the_prefix_are_refused_before_routing(guarded: TestClient) -> None:
    for path in ("/_mock", "/_mock/", "/_mock/nothing-here", "/_mock/reset/", "/_mock/health/extra"):
        assert_control_error(guarded.get(path), 401, "ID.1000")
    assert guarded.get("/_mock/nothing-here", headers=BEARER).status_code == 404
    assert guarded.get("/_mockery").status_code == 404  # not under the prefix


def test_a_router_added_later_is_guarded_by_its_prefix(make_app: Callable[..., FastAPI]) -> None:
    app = make_app(admin_token=TOKEN)
    router = APIRouter(prefix="/_mock/new-thing")

    @router.get("")
    async def new_thing(request: Request) -> Response:
        return json_response({"ok": True})

    app.include_router(router)
    with TestClient(app) as client:
        assert_control_error(client.get("/_mock/new-thing"), 401, "ID.1000")
        assert client.get("/_mock/new-thing", headers=BEARER).json() == {"ok": True}


def test_without_a_token_nothing_changes(client: TestClient) -> None:
    assert client.post("/_mock/reset").status_code == 200
    assert client.get("/_mock/jobs", headers={"Authorization": "Bearer whatever"}).status_code == 200
    assert not any(m.cls.__name__ == "AdminTokenMiddleware" for m in client.app.user_middleware)  # type: ignore[attr-defined]


def test_an_empty_token_means_none_and_an_unsendable_one_is_refused() -> None:
    assert Settings(admin_token="").admin_token is None
    with pytest.raises(ValidationError, match="printable ASCII"):
        Settings(admin_token="two words")
    assert "s3cret" not in repr(Settings(admin_token="s3cret"))


def test_the_token_is_checked_on_a_real_socket(live_server: Callable[..., LiveServer]) -> None:
    server = live_server(admin_token=TOKEN)
    refused = httpx.post(f"{server.url}/_mock/reset")
    assert_control_error(refused, 401, "ID.1000")
    assert refused.headers["www-authenticate"] == 'Bearer realm="zstack-mock control API"'
    assert httpx.post(f"{server.url}/_mock/reset", headers=BEARER).status_code == 200
    assert httpx.get(f"{server.url}/_mock/health").status_code == 200
