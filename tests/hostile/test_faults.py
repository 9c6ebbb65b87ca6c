"""A hostile visitor against the fault layer (issue 16, items 3, 7, 9, 10, 11), over real sockets:
fault rules cannot put a page on the server's origin in the public profile, cannot freeze the
server with a path pattern, cannot hold a wait past --max-fault-latency or after the client left,
cannot exceed --max-fault-rules, and scenario counters cannot grow the database per path."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.api.control.faults import RULE_EXAMPLES
from app.catalogue.calls import ZStackCall
from app.faults.engine import MAX_SCENARIO_COUNTERS
from app.main import create_app
from app.settings import Settings
from app.store.records import FaultCounter
from tests.conftest import LiveServer
from tests.helpers import BACKUP_WITH_METADATA, BS_READY, CREATE_PATH, assert_control_error, auth, login

RULES = "/_mock/faults"
TENANT = "X-Mock-Session"
SCENARIO = "X-Mock-Scenario"
JOB_POLLS = "/zstack/v1/api-jobs/*"
PAGE = {"status": 200, "contentType": "text/html", "body": "<script>alert(document.cookie)</script>",
        "headers": {"Set-Cookie": "session=stolen; Path=/"}}
#: The issue's pattern: a backtracking regex took 2 s of the event loop to refuse NEAR_MISS (4 s with
#: one more "**a"), which has no "b": a backtracking matcher tries every split of the 30 "a"s.
FREEZER = "/zstack/v1/" + "**a" * 11 + "**b"
NEAR_MISS = "/zstack/v1/" + "a" * 30


def _visitor(http: httpx.Client) -> dict[str, str]:
    """A sandbox visitor's headers: its session for the API and for its own /_mock."""
    session = login(http)
    return {**auth(session), TENANT: session}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """One public sandbox for the module: each test's visitors are new tenants of it, all logging in
    from this one address (the per-address limits, tested in test_tenancy.py, are off here)."""
    database = tmp_path_factory.mktemp("hostile-faults") / "zstack-mock.db"
    app = create_app(Settings(database_url=f"sqlite:///{database}", sandbox=True, login_rate_limit=0,
                              anonymous_rate_limit=0))
    server = LiveServer(app).start()
    try:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            yield http
    finally:
        server.stop()
        app.state.server.close()


# --- item 3: visitor-written pages on the server's origin ---------------------------------------


@pytest.mark.parametrize(
    ("http_effect", "fragments"),
    [
        (PAGE, ["http.contentType: 'text/html' is not allowed in the public profile", "http.headers: Set-Cookie"]),
        ({"status": 302, "headers": {"Location": "https://evil.example/"}},
         ["a redirect (302) is not allowed", "http.headers: Location"]),
        ({"status": 307}, ["a redirect (307)"]),
        ({"status": 200, "contentType": "TEXT/HTML; charset=utf-8", "body": "<b>x</b>"}, ["'TEXT/HTML; charset=utf-8'"]),
        ({"status": 200, "contentType": "image/svg+xml", "body": "<svg onload=alert(1)/>"}, ["'image/svg+xml'"]),
        ({"status": 200, "contentType": "application/xhtml+xml"}, ["'application/xhtml+xml'"]),
        ({"status": 200, "contentType": "application/json, text/html"}, ["'application/json, text/html'"]),
        ({"status": 200, "headers": {"set-cookie": "a=b"}}, ["http.headers: set-cookie"]),
        ({"status": 200, "headers": {"Refresh": "0; url=https://evil.example/"}}, ["http.headers: Refresh"]),
        ({"status": 200, "headers": {"Content-Security-Policy": "default-src *"}}, ["Content-Security-Policy"]),
        ({"status": 200, "headers": {"Access-Control-Allow-Origin": "*"}}, ["Access-Control-Allow-Origin"]),
        ({"status": 200, "headers": {"Content-Type": "text/html"}}, ["http.headers: Content-Type"]),
    ],
    ids=["html-and-cookie", "302-location", "307", "html-upper-case", "svg", "xhtml", "type-list", "cookie-lower-case",
         "refresh", "csp", "cors", "content-type-header"],
)
def test_the_public_profile_refuses_a_page_a_cookie_or_a_redirect(
    sandbox: httpx.Client, http_effect: dict[str, Any], fragments: list[str]
) -> None:
    visitor = _visitor(sandbox)
    rule = {"match": {"path": JOB_POLLS}, "http": http_effect}

    assert_control_error(sandbox.post(RULES, json=rule, headers=visitor), 400, "SYS.1007", *fragments)
    assert_control_error(sandbox.post(RULES, json=[{"http": {"status": 502}}, rule], headers=visitor), 400,
                         "SYS.1007", "1.http.")
    assert sandbox.get(RULES, headers=visitor).json() == {"rules": [], "total": 0}
    poll = sandbox.get("/zstack/v1/api-jobs/" + uuid.uuid4().hex, headers=visitor)
    assert "set-cookie" not in poll.headers and not poll.headers["content-type"].startswith("text/html")


def test_the_public_profile_refuses_the_same_effect_inline_and_keeps_harmless_ones(sandbox: httpx.Client) -> None:
    visitor = _visitor(sandbox)
    inline = sandbox.get("/zstack/v1/images", headers={**visitor, SCENARIO: json.dumps({"http": PAGE})})
    assert inline.status_code == 400 and "not allowed in the public profile" in inline.text
    assert "set-cookie" not in inline.headers

    harmless = {"status": 502, "body": "bad gateway", "contentType": "text/plain",
                "headers": {"Retry-After": "5", "x-request-id": "r-1"}}
    assert sandbox.post(RULES, json={"match": {"path": "/zstack/v1/images"}, "http": harmless},
                        headers=visitor).status_code == 201
    served = sandbox.get("/zstack/v1/images", headers=visitor)
    assert (served.status_code, served.text, served.headers["retry-after"]) == (502, "bad gateway", "5")
    assert sandbox.post(RULES, json={"http": {"status": 200, "contentType": "application/json", "body": "{}"}},
                        headers=visitor).status_code == 201


def test_every_example_rule_of_the_api_document_is_accepted_in_the_public_profile(sandbox: httpx.Client) -> None:
    visitor = _visitor(sandbox)
    for name, example in RULE_EXAMPLES.items():
        assert sandbox.post(RULES, json=example["value"], headers=visitor).status_code == 201, name


def test_the_local_profile_and_the_operators_file_keep_full_power(
    live_server: Callable[..., LiveServer], tmp_path: Path
) -> None:
    local = live_server()
    with httpx.Client(base_url=local.url, timeout=10) as http:
        assert http.post(RULES, json={"match": {"path": JOB_POLLS}, "http": PAGE}).status_code == 201
        page = http.get("/zstack/v1/api-jobs/" + uuid.uuid4().hex)
        assert page.headers["content-type"].startswith("text/html") and "session=stolen" in page.headers["set-cookie"]
        assert http.post(RULES, json={"http": {"status": 302, "headers": {"Location": "/elsewhere"}}}).status_code == 201

    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps([{"match": {"path": JOB_POLLS}, "http": PAGE}]))
    public = live_server(sandbox=True, faults=rules)
    with httpx.Client(base_url=public.url, timeout=10) as http:
        visitor = _visitor(http)
        page = http.get("/zstack/v1/api-jobs/" + uuid.uuid4().hex, headers=visitor)
        assert page.headers["content-type"].startswith("text/html")


# --- item 10: a path pattern that freezes the server ---------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "hit_path"),
    [("/zstack/v1/" + "**a" * 12 + "**b", "/zstack/v1/" + "a" * 12 + "b"),
     ("/zstack/v1/" + "**a" * 20 + "**b", "/zstack/v1/x/" + "a" * 20 + "/b"),
     ("/zstack/v1/" + "*a" * 18 + "*b", "/zstack/v1/" + "a" * 18 + "b"),
     ("/zstack/v1/" + "/".join(["**a"] * 20 + ["**b"]), "/zstack/v1/" + "a/" * 20 + "b")],
    ids=["12", "20", "stars", "20-segments"],
)
def test_a_backtracking_pattern_answers_at_once(
    live_server: Callable[..., LiveServer], pattern: str, hit_path: str
) -> None:
    server = live_server()
    with httpx.Client(base_url=server.url, timeout=5) as http:
        assert http.post(RULES, json={"match": {"path": pattern}, "error": {"code": "SYS.1000"}}).status_code == 201
        session = login(http)
        started = time.monotonic()
        for _ in range(20):
            missed = http.get(NEAR_MISS, headers=auth(session))
            assert missed.status_code == 404, missed.text
            hit = http.get(hit_path, headers=auth(session))
            assert hit.json()["error"]["code"] == "SYS.1000"
        assert time.monotonic() - started < 2  # 40 requests; the old matcher took 2 s for one miss


def test_the_issues_pattern_in_a_sandbox_tenant_does_not_stall_another_visitor(sandbox: httpx.Client) -> None:
    attacker, quiet = _visitor(sandbox), _visitor(sandbox)
    rules = [{"match": {"path": FREEZER}, "error": {"code": "SYS.1000"}}] * 50
    assert sandbox.post(RULES, json=rules, headers=attacker).status_code == 201
    started = time.monotonic()
    for _ in range(10):
        assert sandbox.get(NEAR_MISS, headers=attacker).status_code == 404
        assert sandbox.get("/zstack/v1/images", headers=quiet).status_code == 200
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    ("pattern", "fragment"),
    [("/zstack/" + "a" * 600, "at most 512 characters, got 608"),
     ("/zstack" * 33, "at most 32 segments, got 33"),
     ("/" + "**/" * 40, "at most 32 segments"),
     ("zstack/v1/images", "starts with '/'")],
    ids=["long", "deep", "deep-wildcards", "relative"],
)
def test_an_oversized_pattern_is_refused(sandbox: httpx.Client, pattern: str, fragment: str) -> None:
    visitor = _visitor(sandbox)
    response = sandbox.post(RULES, json={"match": {"path": pattern}, "http": {"status": 502}}, headers=visitor)
    assert_control_error(response, 400, "SYS.1007", "match.path", fragment)


# --- item 11: the rule count and the listing -----------------------------------------------------


def test_a_tenant_holds_at_most_its_quota_of_rules_listed_a_page_at_a_time(sandbox: httpx.Client) -> None:
    visitor, other = _visitor(sandbox), _visitor(sandbox)
    rule = {"match": {"path": FREEZER}, "error": {"code": "SYS.1006"}}
    assert sandbox.post(RULES, json=[rule] * 99, headers=visitor).status_code == 201
    assert_control_error(sandbox.post(RULES, json=[rule] * 2, headers=visitor), 409, "SYS.1007",
                         "at most 100 fault rules may be installed at once (--max-fault-rules); 99 are, "
                         "and this request adds 2")
    assert sandbox.post(RULES, json=rule, headers=visitor).status_code == 201
    assert_control_error(sandbox.post(RULES, json=rule, headers=visitor), 409, "SYS.1007", "100 are")

    page = sandbox.get(RULES, headers=visitor).json()
    assert (len(page["rules"]), page["total"]) == (100, 100)
    tail = sandbox.get(RULES, params={"limit": 10, "offset": 95}, headers=visitor).json()
    assert [r["id"] for r in tail["rules"]] == [r["id"] for r in page["rules"][95:]]
    for bad in ({"limit": 0}, {"limit": 1001}, {"limit": "²"}, {"offset": -1}, {"offset": 10**30}):
        assert_control_error(sandbox.get(RULES, params=bad, headers=visitor), 400, "SYS.1007", "must be an integer")

    assert sandbox.post(RULES, json=rule, headers=other).status_code == 201  # the quota is the tenant's
    assert sandbox.delete(f"{RULES}/{page['rules'][0]['id']}", headers=visitor).status_code == 200
    assert sandbox.post(RULES, json=rule, headers=visitor).status_code == 201


# --- item 9: latency past the cap, or after the client left -------------------------------------


@pytest.mark.parametrize(
    "latency",
    [61, 3600, {"uniform": [0, 120]}, {"lognormal": {"median": 1, "sigma": 1}, "max": 3600},
     {"fixed": 1e9, "max": 61}],
    ids=["fixed", "an-hour", "uniform", "lognormal-max", "fixed-under-a-higher-max"],
)
def test_the_public_profile_refuses_latency_past_a_minute(sandbox: httpx.Client, latency: Any) -> None:
    visitor = _visitor(sandbox)
    rule = sandbox.post(RULES, json={"latency": latency}, headers=visitor)
    assert_control_error(rule, 400, "SYS.1007", "latency: this effect may wait", "at most 60 s (--max-fault-latency)")
    started = time.monotonic()
    inline = sandbox.get("/zstack/v1/images", headers={**visitor, SCENARIO: json.dumps({"latency": latency})})
    assert inline.status_code == 400 and "--max-fault-latency" in inline.text
    assert time.monotonic() - started < 2
    assert sandbox.post(RULES, json={"latency": {"lognormal": {"median": 1, "sigma": 1}}, "ttl": 1},
                        headers=visitor).status_code == 201  # its default max is a minute


def test_a_wait_ends_when_the_client_leaves(live_server: Callable[..., LiveServer]) -> None:
    server = live_server(job_duration="0")
    with httpx.Client(base_url=server.url, timeout=10) as http:
        session = login(http)
        name = f"never-{uuid.uuid4().hex[:8]}"
        body = {"params": {"backupStorageUuid": BS_READY, "name": name}}
        slow = {**auth(session), SCENARIO: json.dumps({"latency": 2})}
        with httpx.Client(base_url=server.url, timeout=0.3) as leaving, pytest.raises(httpx.ReadTimeout):
            leaving.post(CREATE_PATH.format(BACKUP_WITH_METADATA), json=body, headers=slow)

        started = time.monotonic()
        assert http.get("/zstack/v1/images", headers=auth(session)).status_code == 200
        assert time.monotonic() - started < 1.5  # not behind the 2 s wait the client left
        time.sleep(3)  # the wait would have ended; the create it held back must not have run
        found = http.get("/zstack/v1/images", params={"q": f"name={name}"}, headers=auth(session))
        assert found.json()["inventories"] == []


def test_the_operators_faults_wait_and_dribble_at_most_the_cap(
    live_server: Callable[..., LiveServer], tmp_path: Path
) -> None:
    scenarios = tmp_path / "scenarios.yaml"
    scenarios.write_text(json.dumps({"scenarios": {"glacial": {"latency": {"fixed": 30, "max": 3600}}}}))
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps([{"match": {"operation": "QueryImage"}, "latency": {"fixed": 30, "max": 3600}}]))
    server = live_server(max_fault_latency=1, scenarios=scenarios, faults=rules)
    with httpx.Client(base_url=server.url, timeout=10) as http:
        session = login(http)
        started = time.monotonic()
        assert http.get("/zstack/v1/images", headers=auth(session)).status_code == 200
        assert http.get("/zstack/v1/backup-storage", headers={**auth(session), SCENARIO: "glacial"}).status_code == 200
        assert time.monotonic() - started < 5  # 1 s each, not 30

        assert_control_error(http.post(RULES, json={"latency": 2}), 400, "SYS.1007", "at most 1 s (--max-fault-latency)")
        dribble = {"match": {"operation": "QueryBackupStorage"}, "wire": {"kind": "dribble", "chunkBytes": 1,
                                                                         "intervalSeconds": 0.5}}
        assert http.post(RULES, json=dribble).status_code == 201
        started = time.monotonic()
        answer = http.get("/zstack/v1/backup-storage", headers=auth(session))
        assert answer.status_code == 200 and len(answer.content) > 1000  # a byte every 0.5 s: 10 minutes uncapped
        assert time.monotonic() - started < 5


# --- item 7: scenario counters keyed by path ----------------------------------------------------


def test_scenario_counters_do_not_grow_per_path(live_server: Callable[..., LiveServer], tmp_path: Path) -> None:
    server = live_server()
    database = tmp_path / "zstack-mock.db"
    counted = {SCENARIO: json.dumps({"error": {"code": "SYS.1000", "details": "x" * 4000}, "after": 1})}
    with httpx.Client(base_url=server.url, timeout=10) as http:
        for i in range(1000):
            response = http.get(f"/zstack/v1/images/{uuid.uuid4().hex}/{i}", headers=counted)
            assert response.status_code in (404, 503), response.text
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        rows, longest = db.execute('SELECT count(*), max(length("key")) FROM fault_counter').fetchone()
    assert rows <= 4 and longest <= 160


def test_scenario_counters_are_kept_for_a_bounded_number_of_keys(make_app: Callable[..., FastAPI]) -> None:
    app = make_app()
    instance = app.state.server.instance
    engine, store = instance.faults, instance.context.store
    for i in range(MAX_SCENARIO_COUNTERS + 300):  # a new session and a new inline effect each time
        call = ZStackCall(method="GET", path="/zstack/v1/images", headers=httpx.Headers(auth(uuid.uuid4().hex)),
                          body=b"")
        engine.strike(call, starts_job=False, scenario=json.dumps({"error": {"code": "SYS.1000"}, "times": i + 1}))
    assert store.count(FaultCounter) <= 2 * MAX_SCENARIO_COUNTERS
