"""X-Mock-Scenario: the catalogue, each scenario's effect on one request, inline effects, counters."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.faults.conftest import Live
from tests.faults.support import (
    ASYNC,
    CREATE_OPERATION,
    SCENARIO,
    SCENARIOS,
    add_rule,
    counters,
    create_call,
    images_named,
    marker,
    scenario,
    timed,
    timed_error,
)
from tests.helpers import BACKUP_WITH_METADATA, BS_READY, assert_zstack_error, auth, login, sha512
from tests.jobs.support import poll_until_done
from tests.journal.support import entries
from tests.rpc.support import QUERY_IMAGE, QUERY_IMAGE_REPLY, assert_rpc_error

REQUIRED = [
    "backup-storage-disconnected", "backup-storage-disabled", "backup-not-on-storage", "image-download-failed",
    "quota-exceeded", "session-expired", "permission-denied", "internal-error", "api-timeout",
    "management-node-unavailable", "slow-response", "connection-reset", "empty-reply", "malformed-json",
    "flaky", "fail-twice-then-succeed",
]

#: name: (code, cause code or None, a piece of the details once filled in for a create called "named")
ERRORS: dict[str, tuple[str, str | None, str]] = {
    "backup-storage-disconnected": ("SYS.1002", "SYS.1006",
                                    f"Failed to download image[name:named] on all backup storage[{BS_READY}]."),
    "backup-storage-disabled": ("SYS.1006", None, "current backup storage state[Disabled]"),
    "backup-not-on-storage": ("SYS.1006", None,
                              f"Volume backup[uuid:{BACKUP_WITH_METADATA}] not found on backup storage[uuid:{BS_READY}]"),
    "image-download-failed": ("SYS.1002", "SYS.1016", "Failed to download image[name:named]"),
    "quota-exceeded": ("ID.1003", None, "quota exceeding"),
    "session-expired": ("ID.1001", None, "Session expired"),
    "permission-denied": ("ID.1002", None, f"The resource[uuid: {BACKUP_WITH_METADATA}, type: VolumeBackupVO]"),
    "internal-error": ("SYS.1000", None, f"while handling {CREATE_OPERATION}"),
    "management-node-unavailable": ("SYS.1012", None, f"the management node serving {CREATE_OPERATION}"),
}


def catalogue(live: Live) -> dict[str, dict[str, Any]]:
    response = live.http.get(SCENARIOS)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["header"] == SCENARIO
    return {s["name"]: s for s in body["scenarios"]}


def test_the_catalogue_lists_every_scenario_with_a_one_line_description(live: Live) -> None:
    listed = catalogue(live)

    assert set(REQUIRED) <= set(listed), set(REQUIRED) - set(listed)
    for name, entry in listed.items():
        assert list(entry) == ["name", "description", "effect"], entry
        description = entry["description"]
        assert description and "\n" not in description and len(description) <= 160, (name, description)
        assert entry["effect"], name
    assert listed["quota-exceeded"]["effect"]["error"]["code"] == "ID.1003"
    assert listed["flaky"]["effect"]["probability"] == 0.3
    assert listed["fail-twice-then-succeed"]["effect"]["times"] == 2


def test_each_named_error_scenario_answers_its_code(live: Live) -> None:
    for name, (code, cause, details) in ERRORS.items():
        response = create_call(live.http, live.session, "named", headers=scenario(name))
        error = assert_zstack_error(response, code)
        assert details in error["details"], (name, error)
        assert "{" not in error["details"], (name, error)  # every placeholder filled
        assert (error.get("cause") or {}).get("code") == cause, (name, error)
    assert images_named(live.http, live.session, "named") == []


def test_a_scenario_error_on_an_rpc_message_is_a_failed_reply(live: Live) -> None:
    response = live.http.post("/zstack/api", json={QUERY_IMAGE: {"conditions": [], "session": {"uuid": live.session}}},
                              headers=scenario("management-node-unavailable"))

    assert_rpc_error(response, QUERY_IMAGE_REPLY, "SYS.1012")


def test_a_scenario_applies_to_its_request_only(live: Live) -> None:
    assert_zstack_error(create_call(live.http, live.session, "once", headers=scenario("internal-error")), "SYS.1000")

    response = create_call(live.http, live.session, "once")

    assert response.status_code == 200, response.text
    assert live.http.get("/zstack/v1/images", headers=auth(live.session)).status_code == 200


def test_a_scenario_takes_the_place_of_the_rules(live: Live) -> None:
    rule = add_rule(live.http, marker("rule"))

    assert_zstack_error(create_call(live.http, live.session, headers=scenario("quota-exceeded")), "ID.1003")

    assert counters(live.http, rule["id"])[:2] == (0, 0)
    assert create_call(live.http, live.session).text == "rule"


def test_api_timeout_and_slow_response_answer_late(live: Live) -> None:
    """Run together: api-timeout waits 2 s before SYS.1001; slow-response waits a lognormal draw
    (median 1.5 s) and then answers normally."""

    def timeout_call() -> tuple[httpx.Response, float]:
        return timed(lambda: create_call(live.http, live.session, "timed-out", headers=scenario("api-timeout")))

    def slow_call() -> tuple[httpx.Response, float]:
        with httpx.Client(base_url=live.url, timeout=15) as other:
            return timed(lambda: create_call(other, live.session, "slow", headers=scenario("slow-response")))

    with ThreadPoolExecutor(2) as pool:
        timeout_future, slow_future = pool.submit(timeout_call), pool.submit(slow_call)
        (timed_out, timeout_elapsed), (slow, slow_elapsed) = timeout_future.result(), slow_future.result()

    assert_zstack_error(timed_out, "SYS.1001", f"the API[{CREATE_OPERATION}] did not finish within its timeout")
    assert timeout_elapsed >= 2
    assert slow.status_code == 200 and slow.json()["inventory"]["name"] == "slow"
    assert 0.2 <= slow_elapsed <= 10 + 1, slow_elapsed


@pytest.mark.parametrize(
    ("name", "error", "created"),
    [("connection-reset", httpx.ReadError, False), ("empty-reply", httpx.RemoteProtocolError, False),
     ("lost-reply", httpx.RemoteProtocolError, True), ("truncated-body", httpx.RemoteProtocolError, True)],
)
def test_wire_scenarios(live: Live, name: str, error: type[Exception], created: bool) -> None:
    timed_error(lambda: create_call(live.http, live.session, name, headers=scenario(name)), error)

    assert len(images_named(live.http, live.session, name)) == int(created)


def test_malformed_json_scenario(live: Live) -> None:
    response = create_call(live.http, live.session, "malformed", headers=scenario("malformed-json"))

    assert response.status_code == 200
    assert int(response.headers["content-length"]) == len(response.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


def test_no_answer_scenario_waits_for_the_client_to_give_up(live: Live) -> None:
    _, elapsed = timed_error(
        lambda: create_call(live.http, live.session, "no-answer", headers=scenario("no-answer"), timeout=0.3),
        httpx.ReadTimeout,
    )
    assert elapsed >= 0.3
    assert images_named(live.http, live.session, "no-answer") == []


def test_slow_body_scenario_dribbles_a_small_answer(live: Live) -> None:
    """64 bytes every 200 ms: the session check's answer ({"valid":true}, 14 bytes) comes at once,
    a login's inventory in a few steps."""
    response, elapsed = timed(lambda: live.http.put(
        "/zstack/v1/accounts/login", headers=scenario("slow-body"),
        json={"logInByAccount": {"accountName": "admin", "password": sha512("password")}},
    ))

    assert response.status_code == 200
    assert response.json()["inventory"]["accountUuid"]
    assert elapsed >= 0.2 * ((len(response.content) - 1) // 64) * 0.9


def test_bad_gateway_scenario(live: Live) -> None:
    response = live.http.get("/zstack/v1/images", headers={**auth(live.session), **scenario("bad-gateway")})

    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert "502 Bad Gateway" in response.text


def test_job_stuck_downloading_holds_an_async_create_until_released(live: Live) -> None:
    accepted = create_call(live.http, live.session, "stuck", headers={**ASYNC, **scenario("job-stuck-downloading")})
    assert accepted.status_code == 202, accepted.text
    uuid = accepted.json()["location"].rsplit("/", 1)[1]
    time.sleep(0.1)

    assert live.http.get(f"/zstack/v1/api-jobs/{uuid}").status_code == 202
    assert [i["status"] for i in images_named(live.http, live.session, "stuck")] == ["Downloading"]
    assert [j["uuid"] for j in live.http.post("/_mock/jobs/release").json()["jobs"]] == [uuid]
    assert poll_until_done(live.http, f"/zstack/v1/api-jobs/{uuid}").status_code == 200
    assert [i["status"] for i in images_named(live.http, live.session, "stuck")] == ["Ready"]


def test_job_fails_late_is_due_three_seconds_after_the_accept_and_fails_with_its_error(live: Live) -> None:
    accepted = create_call(live.http, live.session, "late", headers={**ASYNC, **scenario("job-fails-late")})
    uuid = accepted.json()["location"].rsplit("/", 1)[1]
    job = live.http.get(f"/_mock/jobs/{uuid}").json()
    assert job["status"] == "Running"
    assert live.http.get(f"/zstack/v1/api-jobs/{uuid}").status_code == 202
    due = datetime.fromisoformat(job["dueDate"]) - datetime.fromisoformat(job["createDate"])
    assert due.total_seconds() == pytest.approx(3)

    assert live.http.post(f"/_mock/jobs/{uuid}/complete").status_code == 200  # as if its 3 s were up
    error = assert_zstack_error(live.http.get(f"/zstack/v1/api-jobs/{uuid}"), "SYS.1002")
    assert error["cause"]["code"] == "SYS.1016"
    assert images_named(live.http, live.session, "late") == []


def test_a_job_scenario_on_a_sync_call_changes_nothing(live: Live) -> None:
    response = create_call(live.http, live.session, "sync", headers=scenario("job-stuck-downloading"))

    assert response.status_code == 200
    assert response.json()["inventory"]["status"] == "Ready"
    assert entries(live.http, limit=1)[0]["fault"] is None


def test_an_unknown_scenario_is_a_400_listing_the_known_ones_and_nothing_is_created(live: Live) -> None:
    known = list(catalogue(live))

    response = create_call(live.http, live.session, "unknown", headers=scenario("storage-on-fire"))

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert "unknown scenario [storage-on-fire]" in response.text
    for name in known:
        assert name in response.text
    assert images_named(live.http, live.session, "unknown") == []
    rpc = live.http.post("/zstack/api", json={QUERY_IMAGE: {"conditions": [], "session": {"uuid": live.session}}},
                         headers=scenario("storage-on-fire"))
    assert rpc.status_code == 400 and "unknown scenario" in rpc.text


def test_an_inline_scenario_is_a_one_off_effect(live: Live) -> None:
    inline = {"error": {"code": "SYS.1012", "details": "node down while making {name}"}}

    response = create_call(live.http, live.session, "inline", headers=scenario(inline))

    assert_zstack_error(response, "SYS.1012", "node down while making inline")
    assert images_named(live.http, live.session, "inline") == []
    raw = live.http.get("/zstack/v1/images", headers={**auth(live.session),
                                                       **scenario({"http": {"status": 504, "body": "gw"}})})
    assert (raw.status_code, raw.text) == (504, "gw")
    slow, elapsed = timed(lambda: create_call(live.http, live.session, "inline-slow",
                                              headers=scenario({"latency": 0.1})))
    assert slow.status_code == 200 and elapsed >= 0.1


@pytest.mark.parametrize(
    ("header", "fragments"),
    [
        ('{"error": {"code": "SYS.1000"', ["is not valid JSON"]),
        ('{"error": {"code": "bogus"}}', ["is not a valid effect", "error.code"]),
        ('{"error": {"code": "SYS.1000"}, "http": {"status": 502}}', ["is not a valid effect", "at most one of"]),
        ('{"sleep": 1}', ["is not a valid effect", "sleep"]),
        ("{}", ["is not a valid effect", "needs one of"]),
    ],
    ids=["cut-json", "bad-code", "two-effects", "unknown-field", "empty"],
)
def test_a_bad_inline_scenario_is_a_400_and_nothing_is_created(live: Live, header: str, fragments: list[str]) -> None:
    response = create_call(live.http, live.session, "bad-inline", headers={SCENARIO: header})

    assert response.status_code == 400, response.text
    assert "X-Mock-Scenario" in response.text
    for fragment in fragments:
        assert fragment in response.text, response.text
    assert images_named(live.http, live.session, "bad-inline") == []


def test_fail_twice_then_succeed_counts_per_session_and_operation(live: Live) -> None:
    other = login(live.http)
    fail_twice = scenario("fail-twice-then-succeed")

    def code(response: httpx.Response) -> str:
        return response.json()["error"]["code"] if response.status_code == 503 else str(response.status_code)

    first = [code(create_call(live.http, live.session, "retried", headers=fail_twice)) for _ in range(3)]
    second = [code(create_call(live.http, other, "retried", headers=fail_twice)) for _ in range(3)]
    queries = [code(live.http.get("/zstack/v1/images", headers={**auth(live.session), **fail_twice}))
               for _ in range(3)]

    assert first == ["SYS.1012", "SYS.1012", "200"]
    assert second == ["SYS.1012", "SYS.1012", "200"]
    assert queries == ["SYS.1012", "SYS.1012", "200"]
    assert len(images_named(live.http, live.session, "retried")) == 2
    assert code(create_call(live.http, live.session, "retried", headers=fail_twice)) == "200"

    live.http.delete("/_mock/faults").raise_for_status()  # clears the scenario counters too
    assert code(create_call(live.http, live.session, "retried", headers=fail_twice)) == "SYS.1012"


def test_the_journal_names_the_scenario_or_rule_that_fired(live: Live) -> None:
    live.http.delete("/_mock/requests").raise_for_status()
    rule = add_rule(live.http, {"match": {"operation": "QueryVolumeBackup"}, "error": {"code": "SYS.1000"}})
    create_call(live.http, live.session, "journaled", headers=scenario("internal-error"))
    live.http.get("/zstack/v1/volume-backups", headers=auth(live.session))
    create_call(live.http, live.session, "journaled", headers=scenario({"http": {"status": 502}}))
    live.http.get("/zstack/v1/images", headers=auth(live.session))

    fired = entries(live.http, fault="true")

    assert [(e["fault"], e["status"]) for e in fired] == [
        ("scenario:inline", 502), (f"rule:{rule['id']}", 503), ("scenario:internal-error", 503)]
    assert [e["errorCode"] for e in fired] == [None, "SYS.1000", "SYS.1000"]
    assert entries(live.http, limit=1)[0]["fault"] is None
    assert entries(live.http, fault="true", operation=CREATE_OPERATION)[-1]["fault"] == "scenario:internal-error"


def test_the_scenario_header_is_ignored_outside_the_zstack_api(live: Live) -> None:
    for path in ("/_mock/faults", "/_mock/scenarios", "/_mock/health", "/_mock/requests"):
        for value in ("no-such-scenario", "internal-error", "{not json"):
            response = live.http.get(path, headers={SCENARIO: value})
            assert response.status_code == 200, (path, value, response.text)

