"""Sandbox mode over a real socket, as the docs portal's page calls it from another origin."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.conftest import LiveServer
from tests.helpers import auth, create, login

PORTAL = "https://docs.example.com"


def test_a_preflight_makes_no_tenant_and_allows_the_tenant_header(live_server: Callable[..., LiveServer]) -> None:
    server = live_server(sandbox=True)
    response = httpx.options(f"{server.url}/_mock/faults", headers={
        "Origin": PORTAL, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-mock-session,content-type",
    })
    assert response.status_code == 200
    assert "x-mock-session" in response.headers["access-control-allow-headers"].lower()
    assert httpx.get(f"{server.url}/_mock/sandbox").json()["tenants"] == 0


def test_a_page_reads_the_rate_limit_answer(live_server: Callable[..., LiveServer]) -> None:
    server = live_server(sandbox=True, sandbox_rate_limit=2)
    with httpx.Client(base_url=server.url, headers={"Origin": PORTAL}) as client:
        session = login(client)
        answers = [client.get("/zstack/v1/images", headers=auth(session)) for _ in range(4)]
    refused = [a for a in answers if a.status_code == 429]
    assert refused, [a.status_code for a in answers]
    assert refused[0].headers["access-control-allow-origin"] == "*"
    assert refused[0].json()["error"]["code"] == "SYS.1006"


def test_two_visitors_on_one_socket_server(live_server: Callable[..., LiveServer]) -> None:
    server = live_server(sandbox=True)
    with httpx.Client(base_url=server.url) as first, httpx.Client(base_url=server.url) as second:
        one, two = login(first), login(second)
        mine = create(first, one, name="mine").json()["inventory"]["uuid"]
        assert create(second, two, name="theirs").status_code == 200
        seen = second.get(f"/zstack/v1/images/{mine}", headers=auth(two)).json()["inventories"]
        assert seen == []
        assert first.get(f"/zstack/v1/images/{mine}", headers=auth(one)).json()["inventories"][0]["name"] == "mine"
