"""``GET /metrics`` over a real socket: requests by method, operation, status and fault, the latency
histogram, jobs by state; one registry per server; bounded labels whatever clients send; the token."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.conftest import LiveServer
from tests.helpers import assert_control_error, auth, create, login
from tests.observe.support import jobs, requests_counted, scrape

StartLive = Callable[..., LiveServer]
Connect = Callable[[LiveServer], httpx.Client]
CREATE_OPERATION = "CreateRootVolumeTemplateFromVolumeBackup"
ON_CREATE = {"operation": CREATE_OPERATION}


@pytest.fixture
def connect() -> Iterator[Connect]:
    clients: list[httpx.Client] = []

    def open_client(server: LiveServer) -> httpx.Client:
        client = httpx.Client(base_url=server.url, timeout=30)
        clients.append(client)
        return client

    yield open_client
    for client in clients:
        client.close()


def test_creates_are_counted_by_operation_status_and_fault(live_server: StartLive, connect: Connect) -> None:
    http = connect(live_server())
    session = login(http)
    assert create(http, session).status_code == 200
    assert create(http, session).status_code == 200
    assert create(http, "0" * 32).status_code == 503  # an unknown session: ID.1001
    rule = http.post("/_mock/faults", json={"match": ON_CREATE, "error": {"code": "SYS.1006"}})
    assert rule.status_code == 201
    assert create(http, session).status_code == 503

    samples = scrape(http)

    created = {"method": "POST", "operation": CREATE_OPERATION}
    assert requests_counted(samples, **created, status="200", fault="none") == 2
    assert requests_counted(samples, **created, status="503", fault="none") == 1
    assert requests_counted(samples, **created, status="503", fault="rule") == 1
    assert requests_counted(samples, method="PUT", operation="LogInByAccount", status="200") == 1
    assert requests_counted(samples, method="POST", operation="/_mock/faults", status="201") == 1
    assert ("zstack_mock_request_duration_seconds_count", frozenset({("operation", CREATE_OPERATION)})) in samples
    histogram = {dict(labels)["le"]: value for (name, labels), value in samples.items()
                 if name == "zstack_mock_request_duration_seconds_bucket"
                 and ("operation", CREATE_OPERATION) in labels}
    assert histogram["+Inf"] == 4
    assert 0 < histogram["10.0"] <= 4


def test_a_scenario_is_counted_by_name_and_an_rpc_call_by_its_api(live_server: StartLive, connect: Connect) -> None:
    http = connect(live_server())
    session = login(http)
    scenario = {**auth(session), "X-Mock-Scenario": "internal-error"}
    assert http.get("/zstack/v1/images", headers=scenario).status_code == 503
    inline = {**auth(session), "X-Mock-Scenario": '{"error": {"code": "SYS.1000"}}'}
    assert http.get("/zstack/v1/images", headers=inline).status_code == 503
    rpc = http.post("/zstack/api", json={"org.zstack.header.identity.APILogInByAccountMsg": {
        "accountName": "admin", "password": "wrong"}})
    assert rpc.status_code == 200

    samples = scrape(http)

    assert requests_counted(samples, operation="QueryImage", status="503", fault="scenario:internal-error") == 1
    assert requests_counted(samples, operation="QueryImage", status="503", fault="scenario:inline") == 1
    assert requests_counted(samples, method="POST", operation="LogInByAccount", status="200") == 1


def test_jobs_are_counted_by_state_in_async_mode(live_server: StartLive, connect: Connect) -> None:
    http = connect(live_server(api_mode="async", job_duration="3600"))
    session = login(http)
    accepted = [create(http, session) for _ in range(3)]
    assert [r.status_code for r in accepted] == [202, 202, 202]
    uuids = [r.json()["location"].rsplit("/", 1)[-1] for r in accepted]
    assert jobs(scrape(http)) == {"Running": 3, "Succeeded": 0, "Failed": 0}

    assert http.post(f"/_mock/jobs/{uuids[0]}/complete").status_code == 200
    assert http.post(f"/_mock/jobs/{uuids[1]}/fail", json={}).status_code == 200

    assert jobs(scrape(http)) == {"Running": 1, "Succeeded": 1, "Failed": 1}


def test_each_server_counts_its_own_requests(live_server: StartLive, connect: Connect) -> None:
    first, second = connect(live_server()), connect(live_server())  # one database, two servers
    login(first)
    login(first)
    login(second)

    assert requests_counted(scrape(first), operation="LogInByAccount") == 2
    assert requests_counted(scrape(second), operation="LogInByAccount") == 1


def test_hostile_paths_and_methods_add_no_series(live_server: StartLive, connect: Connect) -> None:
    http = connect(live_server())
    http.get(f"/zstack/v1/images/{secrets.token_hex(16)}")
    http.get("/_mock/nothing")
    scrape(http)  # the scrape's own series
    before = scrape(http)

    for _ in range(50):
        junk = secrets.token_hex(16)
        http.get(f"/zstack/v1/{junk}/{'x' * 2000}")
        http.get(f"/_mock/{junk}")
        http.get(f"/{junk}%0A%00")
        http.get(f"/zstack/v1/images/{junk}")
        http.request("PROPFIND", f"/_mock/{junk}")
    after = scrape(http)

    new_series = {key for key in after if key[0] == "zstack_mock_requests_total"} - set(before)
    assert {dict(labels)["method"] for _, labels in new_series} <= {"other", "GET"}
    assert len(new_series) <= 3
    assert len(after) - len(before) <= 4  # the new method's series (total and created), not 250 of them
    assert requests_counted(after, method="other") == 50
    text = http.get("/metrics").text
    assert "0" * 8 not in text and "x" * 20 not in text


def test_rpc_messages_no_api_serves_share_one_series(live_server: StartLive, connect: Connect) -> None:
    """An RPC message's name is the client's text: counted as ``unknown``, not one series per name."""
    http = connect(live_server())
    names = [f"org.zstack.header.APIJunk{secrets.token_hex(8)}Msg" for _ in range(30)]
    for name in names:
        http.post("/zstack/api", json={name: {}})
    http.post("/zstack/api", json={"line\nbreak " * 100: {}})
    scraped = scrape(http)
    assert requests_counted(scraped, operation="unknown") == 31
    text = http.get("/metrics").text
    assert "APIJunk" not in text and "Junk" not in text and "break" not in text


def test_the_admin_token_guards_metrics(live_server: StartLive, connect: Connect) -> None:
    http = connect(live_server(admin_token="s3cret"))

    assert_control_error(http.get("/metrics"), 401, "ID.1000", "Bearer")
    assert_control_error(http.get("/metrics", headers={"Authorization": "Bearer nope"}), 401, "ID.1000")
    assert http.get("/_mock/health").status_code == 200
    # Turned away before any route: counted, but not as an operation.
    assert requests_counted(scrape(http, Authorization="Bearer s3cret"), operation="unmatched", status="401") == 2


def test_without_metrics_there_is_no_metrics_page(live_server: StartLive, connect: Connect) -> None:
    http = connect(live_server(metrics=False))

    assert http.get("/metrics").status_code == 404
    assert http.get("/_mock/health").status_code == 200


def test_the_public_sandbox_counts_every_visitor_together_and_names_none(live_server: StartLive, connect: Connect) -> None:
    http = connect(live_server(sandbox=True, login_rate_limit=0, anonymous_rate_limit=0))
    visitors = [login(http) for _ in range(3)]
    for session in visitors:
        tenant = {"X-Mock-Session": session}
        rule = http.post("/_mock/faults", headers=tenant, json={"match": ON_CREATE, "error": {"code": "SYS.1006"}})
        assert rule.status_code == 201
        assert create(http, session).status_code == 503

    samples = scrape(http)
    text = http.get("/metrics").text

    assert requests_counted(samples, operation=CREATE_OPERATION, status="503", fault="rule") == 3
    assert requests_counted(samples, operation="LogInByAccount", status="200") == 3
    assert not any(session in text for session in visitors)
    assert "rule:" not in text
