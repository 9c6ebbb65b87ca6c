"""times, after, ttl and probability: when a matching rule fires, and seeded draws that repeat."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient

from app.catalogue.calls import ZStackCall
from app.faults.engine import FaultEngine
from tests.faults.support import add_rule, counters, marker, rule_view, scenario, seeded_app
from tests.helpers import LOGIN_PATH, auth, login, sha512

QUERY = {"operation": "QueryImage"}
POLL = "/zstack/v1/api-jobs/{}"  # QueryApiJob: the cheapest call, no session needed (404 when unknown)


def statuses(client: TestClient, session: str, n: int) -> list[int]:
    return [client.get("/zstack/v1/images", headers=auth(session)).status_code for _ in range(n)]


def test_times_fires_n_times_then_the_rule_is_spent(client: TestClient) -> None:
    session = login(client)
    rule = add_rule(client, {"match": QUERY, "times": 2, **marker("hit")})

    assert statuses(client, session, 4) == [502, 502, 200, 200]
    assert counters(client, rule["id"]) == (2, 2, True, False)


def test_after_lets_the_first_n_matches_through(client: TestClient) -> None:
    session = login(client)
    rule = add_rule(client, {"match": QUERY, "after": 2, **marker("hit")})

    assert statuses(client, session, 5) == [200, 200, 502, 502, 502]
    assert counters(client, rule["id"]) == (5, 3, False, False)


def test_after_and_times_together_fail_a_window(client: TestClient) -> None:
    """README: "the next 3 fail, after 2 that succeed"."""
    session = login(client)
    rule = add_rule(client, {"match": QUERY, "after": 2, "times": 3, **marker("hit")})

    assert statuses(client, session, 7) == [200, 200, 502, 502, 502, 200, 200]
    assert counters(client, rule["id"]) == (5, 3, True, False)


def test_ttl_expires_the_rule_by_itself(client: TestClient) -> None:
    session = login(client)
    rule = add_rule(client, {"match": QUERY, "ttl": 0.3, **marker("hit")})

    assert statuses(client, session, 1) == [502]
    time.sleep(0.35)

    assert statuses(client, session, 2) == [200, 200]
    assert counters(client, rule["id"]) == (1, 1, False, True)
    assert rule_view(client, rule["id"])["expireDate"] == rule["expireDate"]


def test_ttl_runs_on_the_server_clock(client: TestClient) -> None:
    """PUT /_mock/clock moves the time rules expire by, as it moves session expiry."""
    session = login(client)
    client.put("/_mock/clock", json={"now": "2026-01-01T00:00:00Z", "frozen": True}).raise_for_status()
    rule = add_rule(client, {"match": QUERY, "ttl": 600, **marker("hit")})
    assert rule["expireDate"].startswith("2026-01-01T00:10:00")

    client.put("/_mock/clock", json={"advance": 599}).raise_for_status()
    assert statuses(client, session, 1) == [502]
    client.put("/_mock/clock", json={"advance": 1}).raise_for_status()

    assert statuses(client, session, 1) == [200]
    assert counters(client, rule["id"]) == (1, 1, False, True)


def test_probability_zero_matches_but_never_fires(client: TestClient) -> None:
    session = login(client)
    rule = add_rule(client, {"match": QUERY, "probability": 0, **marker("hit")})

    assert statuses(client, session, 5) == [200] * 5
    assert counters(client, rule["id"]) == (5, 0, False, False)


# --- seeded draws ----------------------------------------------------------------------------

StartSeeded = Callable[[int], TestClient]

ONE_STORE_DRAWS = pytest.mark.one_store(
    "sqlite", reason="a thousand draws test the engine's random stream, which is the same over either store; "
    "the seeded patterns and the counters are tested on both")


@pytest.fixture
def fresh_server(new_database: Callable[[], str]) -> Iterator[StartSeeded]:
    """Fresh servers, each over a database of its own, seeded as asked."""
    with ExitStack() as stack:

        def start(seed: int) -> TestClient:
            app = seeded_app(new_database(), seed)
            stack.callback(app.state.server.store.close)
            return stack.enter_context(TestClient(app, raise_server_exceptions=False))

        yield start


def rule_fire_pattern(client: TestClient, probability: float, n: int) -> str:
    """Add one error rule with ``probability`` on job polls; poll n times; '1' where it fired."""
    rule = add_rule(client, {"match": {"operation": "QueryApiJob"}, "probability": probability,
                             "error": {"code": "SYS.1000"}})
    pattern = []
    for i in range(n):
        status = client.get(POLL.format(f"job-{i}")).status_code
        assert status in (404, 503), status
        pattern.append("1" if status == 503 else "0")
    fired = "".join(pattern)
    assert counters(client, rule["id"])[:2] == (n, fired.count("1"))
    return fired


def test_the_same_seed_and_requests_fire_the_same_pattern_on_fresh_servers(fresh_server: StartSeeded) -> None:
    first = rule_fire_pattern(fresh_server(42), 0.5, 60)
    second = rule_fire_pattern(fresh_server(42), 0.5, 60)
    other = rule_fire_pattern(fresh_server(43), 0.5, 60)

    assert first == second
    assert 0 < first.count("1") < 60
    assert other != first


def test_a_seeded_scenario_fires_the_same_way_on_fresh_servers(fresh_server: StartSeeded) -> None:
    """``flaky`` counts per session: the seed fixes the session UUIDs as well as the draws."""

    def pattern(client: TestClient) -> tuple[str, str]:
        body = {"logInByAccount": {"accountName": "admin", "password": sha512("password")}}
        logins = [client.put(LOGIN_PATH, json=body, headers=scenario("flaky")) for _ in range(20)]
        session = next(r.json()["inventory"]["uuid"] for r in logins if r.status_code == 200)
        queries = [client.get("/zstack/v1/images", headers={**auth(session), **scenario("flaky")})
                   for _ in range(20)]
        codes = [r.status_code for r in [*logins, *queries]]
        assert set(codes) <= {200, 503}
        return session, "".join("1" if code == 503 else "0" for code in codes)

    (first_session, first), (second_session, second) = pattern(fresh_server(7)), pattern(fresh_server(7))

    assert first_session == second_session
    assert first == second
    assert 0 < first.count("1") < 40
    assert pattern(fresh_server(8))[1] != first


def bound(p: float, n: int) -> float:
    """Four standard deviations of a fired fraction over n draws: fails by chance about once in 15,000
    seeds, and never for a given seed (the draws are fixed by it)."""
    return 4 * math.sqrt(p * (1 - p) / n)


@ONE_STORE_DRAWS
def test_a_rule_fires_at_its_probability_over_many_draws(fresh_server: StartSeeded) -> None:
    n, p = 1000, 0.3
    fired = rule_fire_pattern(fresh_server(1), p, n).count("1") / n

    assert abs(fired - p) <= bound(p, n), fired
    assert bound(p, n) < 0.06


@ONE_STORE_DRAWS
def test_the_flaky_scenario_fails_about_30_percent_of_calls(fresh_server: StartSeeded) -> None:
    client = fresh_server(2)
    session = login(client)
    n = 1000
    failed = 0
    for _ in range(n):
        response = client.get("/zstack/v1/images", headers={**auth(session), **scenario("flaky")})
        assert response.status_code in (200, 503)
        if response.status_code == 503:
            assert response.json()["error"]["code"] == "SYS.1000"
            failed += 1

    assert abs(failed / n - 0.3) <= bound(0.3, n), failed


def test_a_scenario_with_a_random_latency_draws_anew_for_each_request(client: TestClient) -> None:
    """Each request with the header is a new draw (counted per scenario, operation and session), so
    'slow-response' is a spread of delays, not one delay repeated."""
    engine: FaultEngine = client.app.state.server.instance.faults  # type: ignore[attr-defined]
    call = ZStackCall(method="GET", path="/zstack/v1/images", headers={"authorization": "OAuth s1"})
    delays = set()
    for _ in range(5):
        strike = engine.strike(call, starts_job=False, scenario='{"latency": {"uniform": [0, 10]}}')
        assert strike is not None
        delays.add(strike.latency_seconds())
    assert len(delays) == 5
