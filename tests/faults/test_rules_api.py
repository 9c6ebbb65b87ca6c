"""/_mock/faults: adding, listing, reading and deleting rules, and refusing bad ones."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.faults.support import RULES, add_rule, list_rules, marker, rule_view
from tests.helpers import BS_READY, assert_control_error, auth, login

DISCONNECTED_STORAGE_RULE = {
    "name": "storage down",
    "match": {"operation": "CreateRootVolumeTemplateFromVolumeBackup", "backupStorageUuid": BS_READY},
    "after": 2,
    "times": 3,
    "error": {"code": "SYS.1002", "details": "Failed to download image[name:{name}]", "cause": {"code": "SYS.1006"}},
}


def test_one_rule_is_answered_201_with_its_view(client: TestClient) -> None:
    response = client.post(RULES, json=DISCONNECTED_STORAGE_RULE)

    assert response.status_code == 201, response.text
    view = response.json()
    assert list(view) == ["id", "name", "rule", "matched", "fired", "spent", "expired", "createDate", "expireDate"]
    assert isinstance(view["id"], int)
    assert view["name"] == "storage down"
    assert view["rule"] == DISCONNECTED_STORAGE_RULE
    assert (view["matched"], view["fired"], view["spent"], view["expired"]) == (0, 0, False, False)
    assert datetime.fromisoformat(view["createDate"])
    assert view["expireDate"] is None


def test_the_view_shows_the_rule_as_accepted(client: TestClient) -> None:
    """Short forms are spelled out, defaults left out."""
    view = add_rule(client, {"wire": "reset", "latency": 0.5, "probability": 1.0, "after": 0,
                             "match": {"method": "get"}})
    assert view["rule"] == {"latency": {"fixed": 0.5}, "wire": {"kind": "reset"}, "match": {"method": "GET"}}

    view = add_rule(client, {"latency": {"uniform": [0.1, 0.5]}, "ttl": 60})
    assert view["rule"] == {"latency": {"uniform": {"low": 0.1, "high": 0.5}}, "ttl": 60.0}
    assert view["expireDate"] is not None
    expires = datetime.fromisoformat(view["expireDate"]) - datetime.fromisoformat(view["createDate"])
    assert expires.total_seconds() == 60


def test_an_array_of_rules_is_appended_in_order(client: TestClient) -> None:
    first = add_rule(client, {"name": "first", **marker("first")})

    response = client.post(RULES, json=[{"name": "second", **marker("second")}, {"name": "third", **marker("third")}])

    assert response.status_code == 201, response.text
    added = response.json()["rules"]
    assert [r["name"] for r in added] == ["second", "third"]
    assert first["id"] < added[0]["id"] < added[1]["id"]
    listed = list_rules(client)
    assert [(r["id"], r["name"]) for r in listed] == [(first["id"], "first"), *((r["id"], r["name"]) for r in added)]
    assert listed[1:] == added


def test_a_rule_posted_as_curl_does_is_accepted(client: TestClient) -> None:
    """``curl -d`` sends application/x-www-form-urlencoded; the body is still read as JSON."""
    response = client.post(RULES, content=b'{"http":{"status":502}}',
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 201, response.text


def test_the_list_counts_matches_and_fires(client: TestClient) -> None:
    session = login(client)
    once = add_rule(client, {"match": {"operation": "QueryImage"}, "times": 1, **marker("once")})
    later = add_rule(client, {"match": {"operation": "QueryImage"}, "after": 1, **marker("later")})
    never = add_rule(client, {"match": {"operation": "QueryVolumeBackup"}, **marker("never")})

    answers = [client.get("/zstack/v1/images", headers=auth(session)).text for _ in range(3)]

    assert answers[0] == "once"
    assert answers[1].startswith('{"schema"')  # the second rule lets its first match through: a real answer
    assert answers[2] == "later"
    views = {r["id"]: r for r in list_rules(client)}
    assert [views[once["id"]][k] for k in ("matched", "fired", "spent")] == [1, 1, True]
    assert [views[later["id"]][k] for k in ("matched", "fired", "spent")] == [2, 1, False]
    assert [views[never["id"]][k] for k in ("matched", "fired", "spent")] == [0, 0, False]
    assert list(views) == [once["id"], later["id"], never["id"]]


def test_one_rule_can_be_read_and_deleted(client: TestClient) -> None:
    session = login(client)
    kept = add_rule(client, {"match": {"operation": "QueryVolumeBackup"}, **marker("kept")})
    doomed = add_rule(client, {"match": {"operation": "QueryImage"}, **marker("doomed")})
    assert client.get("/zstack/v1/images", headers=auth(session)).text == "doomed"

    assert rule_view(client, doomed["id"]) == list_rules(client)[1]
    response = client.delete(f"{RULES}/{doomed['id']}")

    assert response.status_code == 200, response.text
    assert response.json() == {"deleted": 1}
    assert [r["id"] for r in list_rules(client)] == [kept["id"]]
    assert client.get("/zstack/v1/images", headers=auth(session)).status_code == 200
    assert_control_error(client.get(f"{RULES}/{doomed['id']}"), 404, "SYS.1003",
                         f"no fault rule with id {doomed['id']}")


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_an_unknown_rule_id_is_a_404_in_zstack_error_shape(client: TestClient, method: str) -> None:
    add_rule(client, marker("x"))
    response = client.request(method, f"{RULES}/424242")
    details = assert_control_error(response, 404, "SYS.1003", "no fault rule with id 424242")
    assert response.json() == {"error": {"code": "SYS.1003", "description": "A resource can not be found",
                                         "details": details, **_cost(response)}}
    assert len(list_rules(client)) == 1


def _cost(response: Any) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    return {"cost": error["cost"]} if "cost" in error else {}


def test_delete_all_removes_every_rule(client: TestClient) -> None:
    session = login(client)
    add_rule(client, {"match": {"operation": "QueryImage"}, **marker("a")})
    add_rule(client, {"match": {"operation": "QueryVolumeBackup"}, **marker("b")})

    assert client.delete(RULES).json() == {"deleted": 2}

    assert list_rules(client) == []
    assert client.get("/zstack/v1/images", headers=auth(session)).status_code == 200
    assert client.get("/zstack/v1/volume-backups", headers=auth(session)).status_code == 200
    assert client.delete(RULES).json() == {"deleted": 0}


GOOD = {"match": {"operation": "QueryImage"}, "http": {"status": 502}}


@pytest.mark.parametrize(
    ("body", "fragments"),
    [
        ({"error": {"code": "SYS.1000"}, "http": {"status": 502}},
         ["an effect takes at most one of error, http, wire, job; got error, http"]),
        ({"wire": "reset", "job": {"hold": True}}, ["at most one of", "got wire, job"]),
        ({"match": {"operation": "QueryImage"}}, ["an effect needs one of error, http, wire, job or latency"]),
        ({"error": {"code": "sys-1000"}}, ["error.code", "an error code looks like SYS.1002", "'sys-1000'"]),
        ({"error": {"code": "SYS.1000", "cause": {"code": "1002"}}}, ["error.cause.code", "'1002'"]),
        ({"error": {"details": "no code"}}, ["error.code", "Field required"]),
        ({"latency": -1}, ["latency.fixed", "greater than or equal to 0"]),
        ({"latency": {"uniform": [0.5, 0.1]}}, ["latency", "uniform latency needs low <= high"]),
        ({"latency": {"fixed": 1, "uniform": [0, 1]}}, ["latency", "exactly one of fixed"]),
        ({"latency": {"lognormal": {"median": 0, "sigma": 1}}}, ["latency.lognormal.median"]),
        ({"latency": "slow"}, ["latency"]),
        ({"latency": {"fixed": 1, "max": 7200}}, ["latency.max", "less than or equal to 3600"]),
        ({"http": {"status": 502}, "retries": 3}, ["retries", "Extra inputs are not permitted"]),
        ({"http": {"status": 502}, "match": {"operaton": "QueryImage"}}, ["match.operaton", "Extra inputs"]),
        ({"http": {"status": 99}}, ["http.status"]),
        ({"wire": "explode"}, ["wire.kind", "'reset'"]),
        ({"job": {"hold": True, "error": {"code": "SYS.1000"}}}, ["either error", "or hold: true"]),
        ({"job": {"hold": True, "afterSeconds": 2}}, ["afterSeconds goes with error"]),
        ({"http": {"status": 502}, "probability": 1.5}, ["probability", "less than or equal to 1"]),
        ({"http": {"status": 502}, "times": 0}, ["times", "greater than or equal to 1"]),
        ({"http": {"status": 502}, "after": -1}, ["after"]),
        ({"http": {"status": 502}, "ttl": 0}, ["ttl", "greater than 0"]),
        ({"http": {"status": 502}, "match": {"path": "zstack/v1/images"}}, ["match.path", "starts with '/'"]),
        ({"http": {"status": 502}, "match": {"headers": {"X-Foo": 3}}}, ["match.headers.X-Foo"]),
        ([GOOD, {"http": {"status": 502}, "times": "twice"}], ["invalid rule: 1.times"]),
        ("just text", ["invalid rule"]),
        (42, ["invalid rule"]),
    ],
    ids=["error-and-http", "wire-and-job", "no-effect", "bad-code", "bad-cause-code", "no-code",
         "negative-latency", "uniform-backwards", "two-distributions", "lognormal-median-0", "latency-text", "latency-max-over-an-hour",
         "unknown-field", "unknown-match-field", "status-99", "unknown-wire", "job-both", "job-after-no-error",
         "probability-above-1", "times-0", "after-negative", "ttl-0", "relative-path", "header-number",
         "array-with-a-bad-rule", "string", "number"],
)
def test_a_bad_rule_is_a_400_naming_the_problem_and_nothing_is_stored(
    client: TestClient, body: Any, fragments: list[str]
) -> None:
    response = client.post(RULES, json=body)

    assert_control_error(response, 400, "SYS.1007", *fragments)
    assert list_rules(client) == []


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [(b'{"error": ', "the body is not valid JSON"), (b"", "the body is not valid JSON"),
     (b"\xff\xfe", "the body is not valid JSON"), (b"[" * 5000, "the body is not valid JSON"),
     (b"null", "invalid rule: body: Input should be a valid dictionary")],
    ids=["cut", "empty", "not-utf8", "too-deep", "null"],
)
def test_a_body_that_is_not_json_is_a_400(client: TestClient, raw: bytes, fragment: str) -> None:
    response = client.post(RULES, content=raw, headers={"Content-Type": "application/json"})

    assert_control_error(response, 400, "SYS.1007", fragment)
    assert list_rules(client) == []
