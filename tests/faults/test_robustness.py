"""No client input to the fault layer makes the server fail: odd bodies, odd headers, odd rules.

Every test here (as every fault test) also fails if the server logged an unexpected error."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.faults.conftest import Live, StartLive
from tests.faults.support import (
    RULES,
    SCENARIO,
    add_rule,
    list_rules,
    timed,
)
from tests.helpers import BACKUP_WITH_METADATA, BS_READY, CREATE_PATH, assert_control_error, auth
from tests.rpc.support import QUERY_IMAGE

LOG_IN = "org.zstack.header.identity.APILogInByAccountMsg"

#: Rules that make the layer read the body: they name an account, a backup, a storage, a header.
READING_RULES: list[dict[str, Any]] = [
    {"match": {"account": "nobody-at-all"}, "http": {"status": 418}},
    {"match": {"backupUuid": "f" * 32}, "http": {"status": 418}},
    {"match": {"backupStorageUuid": "f" * 32, "headers": {"X-Never": True}}, "http": {"status": 418}},
    {"match": {"operation": "NoSuchOperation"}, "error": {"code": "SYS.1000"}},
]

ODD_RPC_BODIES = [
    b"not json", b"", b"[]", b"{}", b"null", b'"text"', b"\xff\xfe\x00", b"{" * 3000,
    b'{"a": 1}', json.dumps({QUERY_IMAGE: "not an object"}).encode(),
    json.dumps({QUERY_IMAGE: {"session": "not an object"}}).encode(),
    json.dumps({QUERY_IMAGE: {"session": {"uuid": 42}}}).encode(),
    json.dumps({LOG_IN: {"accountName": 5, "password": None}}).encode(),
    json.dumps({LOG_IN: {"accountName": ["a"], "password": "x"}}).encode(),
    json.dumps({"org.zstack.header.storage.volume.backup.APICreateRootVolumeTemplateFromVolumeBackupMsg": {
        "backupUuid": 1, "backupStorageUuid": {"x": 1}, "name": [], "session": []}}).encode(),
]


def test_odd_rpc_bodies_are_answered_as_without_rules(live: Live) -> None:
    """The layer parses RPC bodies to match rules; whatever it finds there, the answer is the app's."""
    without = [_answer(live.http.post("/zstack/api", content=body)) for body in ODD_RPC_BODIES]
    live.http.post(RULES, json=READING_RULES).raise_for_status()

    with_rules = [_answer(live.http.post("/zstack/api", content=body)) for body in ODD_RPC_BODIES]

    assert with_rules == without
    assert all(r["matched"] == 0 for r in list_rules(live.http)[1:])


def _answer(response: httpx.Response) -> tuple[int, str]:
    text = response.text
    try:
        envelope = json.loads(text)
    except ValueError:
        return response.status_code, text
    # Dates and job UUIDs differ from call to call; the rest must not.
    if isinstance(envelope, dict):
        envelope = {k: v for k, v in envelope.items() if "Date" not in k and k != "uuid"}
    return response.status_code, json.dumps(envelope)


@pytest.mark.parametrize(
    "body",
    [b"{{{", b"", b"[1, 2]", b'{"params": "x"}', b'{"params": {"backupStorageUuid": 7, "name": {"a": 1}}}'],
    ids=["cut", "empty", "array", "params-text", "odd-types"],
)
def test_odd_rest_bodies_with_rules_present_are_answered_by_the_app(live: Live, body: bytes) -> None:
    url = CREATE_PATH.format(BACKUP_WITH_METADATA)
    headers = {**auth(live.session), "Content-Type": "application/json"}
    before = live.http.post(url, content=body, headers=headers)
    live.http.post(RULES, json=READING_RULES).raise_for_status()

    after = live.http.post(url, content=body, headers=headers)

    assert (after.status_code, after.text) == (before.status_code, before.text)
    assert after.status_code < 500 or after.json()["error"]["code"] != "SYS.1000"


@pytest.mark.parametrize(
    "value",
    [
        # Long, but within --max-header-bytes (16 KiB of head; beyond it the answer is 431, tests/hostile).
        "x" * 15000,
        '{"error": {"code": "SYS.1000", "details": "' + "x" * 15000 + '"}}',
        "{" * 5000,
        '{"error": ' * 300 + "1" + "}" * 300,
        "",
        "-",
        "Internal-Error",
        "ÿ-latin-1-scenario".encode("latin-1"),
        '{"error": {"code": "SYS.1000", "cause": ' + '{"code": "SYS.1000", "cause": ' * 40 + "null" + "}" * 41 + "}",
        '{"latency": {"lognormal": {"median": 1e300, "sigma": 1e300}, "max": 0.01}}',
        '{"latency": 1e400}',
        '{"wire": {"kind": "hang", "seconds": 1e9}}',
        '{"http": {"status": 502, "headers": {"Bad Header": "x"}}}',
    ],
    ids=["long-name", "long-inline", "deep-braces", "deep-objects", "empty", "dash", "wrong-case", "latin-1",
         "deep-cause", "lognormal-overflow", "latency-infinite", "hang-too-long", "bad-header-name"],
)
def test_odd_scenario_headers_never_make_the_server_fail(live: Live, value: str | bytes) -> None:
    response = live.http.post(
        CREATE_PATH.format(BACKUP_WITH_METADATA), json={"params": {"backupStorageUuid": BS_READY, "name": "odd"}},
        headers=[*((k.encode(), v.encode()) for k, v in auth(live.session).items()),
                 (SCENARIO.encode(), value if isinstance(value, bytes) else value.encode())],
    )

    assert response.status_code in (200, 400, 503), response.text
    if response.status_code == 503:
        assert response.json()["error"]["code"] == "SYS.1000"
        assert "bug in the simulator" not in response.text
    assert live.http.get("/zstack/v1/images", headers=auth(live.session)).status_code == 200


def test_a_lognormal_draw_far_beyond_max_is_capped_not_an_error(live: Live) -> None:
    add_rule(live.http, {"match": {"operation": "QueryImage"},
                         "latency": {"lognormal": {"median": 1e300, "sigma": 1000}, "max": 0.05}})

    for _ in range(5):
        response, elapsed = timed(lambda: live.http.get("/zstack/v1/images", headers=auth(live.session)))
        assert response.status_code == 200, response.text
        assert elapsed < 2  # capped at 0.05 s; the rest is a loaded machine's slack


@pytest.mark.parametrize(
    ("rule", "fragments"),
    [
        ({"http": {"status": 502}, "ttl": 1e308}, ["ttl"]),
        ({"http": {"status": 100}}, ["http.status"]),
        ({"http": {"status": 101}}, ["http.status"]),
        ({"http": {"status": 204, "body": "content"}}, ["http", "204", "no body"]),
        ({"http": {"status": 304, "body": "content"}}, ["http", "304", "no body"]),
        ({"http": {"status": 502, "headers": {"Bad Header": "x"}}}, ["http.headers", "'Bad Header'"]),
        ({"http": {"status": 502, "headers": {"X-Split": "a\r\nInjected: 1"}}}, ["http.headers", "X-Split"]),
        ({"http": {"status": 502, "headers": {"X-Euro": "€"}}}, ["http.headers", "X-Euro"]),
        ({"http": {"status": 502, "contentType": "text/€"}}, ["http.contentType"]),
        ({"http": {"status": 502, "body": "abc", "headers": {"Content-Length": "1"}}},
         ["http.headers", "Content-Length"]),
        ({"http": {"status": 502, "headers": {"Transfer-Encoding": "chunked"}}}, ["http.headers", "Transfer-Encoding"]),
        ({"error": {"code": "SYS.1000", "cause": json.loads(
            '{"code": "SYS.1000", "cause": ' * 251 + '{"code": "SYS.1000"}' + "}" * 251)}}, ["cause"]),
    ],
    ids=["ttl-huge", "status-100", "status-101", "204-with-body", "304-with-body", "header-name-space",
         "header-value-newline", "header-value-not-latin-1", "content-type-not-latin-1", "content-length",
         "transfer-encoding", "cause-chain-too-deep"],
)
def test_a_rule_the_server_could_not_carry_out_is_refused(live: Live, rule: dict[str, Any], fragments: list[str]) -> None:
    """Each of these was once accepted and then failed every request it matched (or failed the POST)."""
    response = live.http.post(RULES, json=rule)

    assert_control_error(response, 400, "SYS.1007", *fragments)
    assert list_rules(live.http) == []


@pytest.mark.parametrize(
    "http",
    [{"status": 204}, {"status": 304}, {"status": 200, "body": "é", "headers": {"X-Latin": "café"}},
     {"status": 599, "body": "odd"}],
    ids=["204", "304", "latin-1-header", "599"],
)
def test_raw_answers_at_the_edges_are_sent_intact(live: Live, http: dict[str, Any]) -> None:
    add_rule(live.http, {"match": {"operation": "QueryImage"}, "http": http})

    response = live.http.get("/zstack/v1/images", headers=auth(live.session))

    assert response.status_code == http["status"]
    assert response.text == http.get("body", "")
    for name, value in http.get("headers", {}).items():
        assert response.headers[name].encode("latin-1") == value.encode("latin-1")


@pytest.mark.parametrize("rule_id", ["9" * 40, "-" + "9" * 19, "9" * 5000, "abc", "1.0", "1e0", "\u0661"],
                         ids=["huge", "below-64-bits", "5000-digits", "letters", "fraction", "exponent", "arabic-one"])
def test_a_rule_id_no_rule_can_have_is_a_404(live: Live, rule_id: str) -> None:
    rule = add_rule(live.http, {"match": {"operation": "QueryImage"}, "error": {"code": "SYS.1000"}})
    assert rule["id"] == 1  # no other spelling of one reaches it
    for method in ("GET", "DELETE"):
        response = live.http.request(method, f"{RULES}/{rule_id}")
        assert_control_error(response, 404, "SYS.1003", "no fault rule with id")


def test_a_rule_on_a_path_no_api_serves_answers_in_zstack_shape(live: Live) -> None:
    add_rule(live.http, {"match": {"path": "/zstack/v1/no-such/**"}, "error": {"code": "SYS.1000", "details": "{operation}"}})

    response = live.http.get("/zstack/v1/no-such/thing")

    assert response.status_code == 503
    assert response.json()["error"]["details"] == "null"


def test_a_big_body_with_rules_present_is_refused_as_without(start_live: StartLive) -> None:
    live = start_live(max_body_bytes=2048)
    url = CREATE_PATH.format(BACKUP_WITH_METADATA)
    body = json.dumps({"params": {"backupStorageUuid": BS_READY, "name": "big", "description": "x" * 10000}})
    headers = {**auth(live.session), "Content-Type": "application/json"}
    before = live.http.post(url, content=body, headers=headers)
    add_rule(live.http, {"match": {"account": "admin", "backupStorageUuid": "f" * 32}, "http": {"status": 418}})

    after = live.http.post(url, content=body, headers=headers)

    assert before.status_code == after.status_code == 413, after.text
