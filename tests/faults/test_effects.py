"""What each effect does to a request, seen by httpx over a real socket."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from tests.faults.conftest import Live, StartLive
from tests.faults.support import (
    ASYNC,
    CREATE_OPERATION,
    RPC_CREATE,
    RPC_CREATE_EVENT,
    add_rule,
    counters,
    create_call,
    images_named,
    marker,
    rpc_result,
    timed,
    timed_error,
)
from tests.helpers import BACKUP_WITH_METADATA, BS_READY, assert_zstack_error, auth, sha512
from tests.jobs.support import poll_until_done
from tests.rpc.support import (
    GENERIC_REPLY,
    LOG_IN,
    LOG_IN_REPLY,
    QUERY_IMAGE,
    QUERY_IMAGE_REPLY,
    RESULT,
    assert_rpc_error,
    call,
)

ON_CREATE = {"operation": CREATE_OPERATION}


def job_uuid_of(accepted: httpx.Response) -> str:
    assert accepted.status_code == 202, accepted.text
    return str(accepted.json()["location"].rsplit("/", 1)[1])


def control_job(live: Live, uuid: str) -> dict[str, Any]:
    response = live.http.get(f"/_mock/jobs/{uuid}")
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    return job


def image_status(live: Live, image_uuid: str) -> str | None:
    found = live.http.get(f"/zstack/v1/images/{image_uuid}", headers=auth(live.session)).json()["inventories"]
    return str(found[0]["status"]) if found else None


# --- ZStack errors ------------------------------------------------------------------------------


def test_error_on_a_sync_call_is_a_503_with_the_catalogue_description_filled_details_and_cause(live: Live) -> None:
    add_rule(live.http, {"match": ON_CREATE, "error": {
        "code": "SYS.1002",
        "details": "Failed to download image[name:{name}] from {backupUuid} on [{backupStorageUuid}] "
                   "for {operation} in session {sessionUuid}; {unknown} stays",
        "cause": {"code": "SYS.1006", "details": "storage of {backupStorageUuid} is Disconnected"},
    }})

    response = create_call(live.http, live.session, "doomed")

    error = assert_zstack_error(
        response, "SYS.1002",
        f"Failed to download image[name:doomed] from {BACKUP_WITH_METADATA} on [{BS_READY}] for {CREATE_OPERATION} "
        f"in session {live.session}; {{unknown}} stays",
    )
    assert error["description"] == "Unable to create a resource"
    assert error["cause"]["code"] == "SYS.1006"
    assert error["cause"]["description"] == "An operation failed"
    assert error["cause"]["details"] == f"storage of {BS_READY} is Disconnected"
    assert images_named(live.http, live.session, "doomed") == []


def test_error_without_details_says_it_was_injected_and_missing_values_are_null(live: Live) -> None:
    add_rule(live.http, {"match": {"operation": "QueryImage"}, "error": {"code": "SYS.1012"}})
    add_rule(live.http, {"match": {"operation": "QueryVolumeBackup"},
                         "error": {"code": "ID.1001", "details": "backup {backupUuid} of {name}"}})

    error = assert_zstack_error(live.http.get("/zstack/v1/images", headers=auth(live.session)), "SYS.1012")
    assert error["description"] == "The management node is unavailable"
    assert "SYS.1012" in error["details"] and "injected" in error["details"]
    assert_zstack_error(live.http.get("/zstack/v1/volume-backups", headers=auth(live.session)), "ID.1001",
                        "backup null of null")


def test_error_on_an_async_create_comes_through_the_job_and_the_image_is_removed(live: Live) -> None:
    add_rule(live.http, {"match": ON_CREATE, "error": {"code": "SYS.1002", "details": "disk full for {name}",
                                                        "cause": {"code": "SYS.1016"}}})

    accepted = create_call(live.http, live.session, "async-doomed", headers=ASYNC)

    uuid = job_uuid_of(accepted)
    done = poll_until_done(live.http, f"/zstack/v1/api-jobs/{uuid}")
    error = assert_zstack_error(done, "SYS.1002", "disk full for async-doomed")
    assert error["cause"]["code"] == "SYS.1016"
    assert control_job(live, uuid)["status"] == "Failed"
    assert images_named(live.http, live.session, "async-doomed") == []


def test_error_on_an_rpc_message_is_a_failed_reply_in_the_envelope(live: Live) -> None:
    add_rule(live.http, {"match": {"operation": ["QueryImage", "LogInByAccount"]},
                         "error": {"code": "SYS.1000", "details": "boom in {operation}"}})

    queried = call(live.http, QUERY_IMAGE, {"conditions": [], "session": {"uuid": live.session}})
    logged_in = call(live.http, LOG_IN, {"accountName": "admin", "password": sha512("password")})
    unknown = call(live.http, "org.zstack.header.NoSuchMsg", {})

    assert_rpc_error(queried, QUERY_IMAGE_REPLY, "SYS.1000", "boom in QueryImage")
    assert_rpc_error(logged_in, LOG_IN_REPLY, "SYS.1000", "boom in LogInByAccount")
    assert unknown.status_code == 200 and "boom" not in unknown.text  # not the rule's operation


def test_error_on_an_unknown_rpc_message_is_a_generic_failed_reply(live: Live) -> None:
    add_rule(live.http, {"match": {"path": "/zstack/api"}, "error": {"code": "SYS.1000", "details": "boom"}})

    assert_rpc_error(call(live.http, "org.zstack.header.NoSuchMsg", {}), GENERIC_REPLY, "SYS.1000", "boom")


def test_error_on_the_rpc_create_comes_through_its_result(live: Live) -> None:
    add_rule(live.http, {"match": ON_CREATE, "error": {"code": "SYS.1002", "details": "no space for {name}"}})

    accepted = call(live.http, RPC_CREATE, {"backupUuid": BACKUP_WITH_METADATA, "backupStorageUuid": BS_READY,
                                            "name": "rpc-doomed", "session": {"uuid": live.session}})

    assert accepted.status_code == 200 and accepted.json()["state"] == "Processing", accepted.text
    event_class, fields = rpc_result(live.http, accepted.json()["uuid"])
    assert event_class == RPC_CREATE_EVENT
    assert fields["success"] is False
    assert (fields["error"]["code"], fields["error"]["details"]) == ("SYS.1002", "no space for rpc-doomed")
    assert images_named(live.http, live.session, "rpc-doomed") == []


# --- raw HTTP ---------------------------------------------------------------------------------


def test_raw_http_answer_with_its_status_body_content_type_and_headers(live: Live) -> None:
    page = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    add_rule(live.http, {"match": ON_CREATE, "http": {
        "status": 502, "body": page, "contentType": "text/html", "headers": {"Server": "nginx", "X-Proxy": "edge-1"},
    }})

    response = create_call(live.http, live.session, "behind-a-proxy")

    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["x-proxy"] == "edge-1"
    assert "nginx" in response.headers.get_list("server")
    assert response.text == page
    assert int(response.headers["content-length"]) == len(page)
    assert images_named(live.http, live.session, "behind-a-proxy") == []


# --- latency ---------------------------------------------------------------------------------


def test_fixed_latency_delays_the_normal_answer(live: Live) -> None:
    # A second: far above what a loaded machine adds to a call, so the unaffected call cannot reach it by chance.
    add_rule(live.http, {"match": ON_CREATE, "latency": 1.0})

    response, elapsed = timed(lambda: create_call(live.http, live.session, "late"))

    assert response.status_code == 200, response.text
    assert response.json()["inventory"]["name"] == "late"
    assert elapsed >= 1.0
    _, unaffected = timed(lambda: live.http.get("/zstack/v1/images", headers=auth(live.session)))
    assert unaffected < 1.0


def test_uniform_latency_stays_within_its_bounds(live: Live) -> None:
    add_rule(live.http, {"match": {"operation": "QueryImage"}, "latency": {"uniform": [0.05, 0.15]}})

    for _ in range(4):
        response, elapsed = timed(lambda: live.http.get("/zstack/v1/images", headers=auth(live.session)))
        assert response.status_code == 200
        assert 0.05 <= elapsed < 0.15 + 0.5, elapsed  # the slack is a loaded machine's, not the rule's


def test_lognormal_latency_is_capped_by_max(live: Live) -> None:
    add_rule(live.http, {"match": {"operation": "QueryImage"},
                         "latency": {"lognormal": {"median": 30, "sigma": 0.1}, "max": 0.15}})

    response, elapsed = timed(lambda: live.http.get("/zstack/v1/images", headers=auth(live.session)))

    assert response.status_code == 200
    assert 0.15 <= elapsed < 0.15 + 1, elapsed  # capped (the median is 30 s); the slack is a loaded machine's


def test_latency_then_an_error(live: Live) -> None:
    add_rule(live.http, {"match": {"operation": "QueryImage"}, "latency": 0.1, "error": {"code": "SYS.1001"}})

    response, elapsed = timed(lambda: live.http.get("/zstack/v1/images", headers=auth(live.session)))

    assert_zstack_error(response, "SYS.1001")
    assert elapsed >= 0.1


# --- wire faults -----------------------------------------------------------------------------


def test_reset_is_a_connection_reset_and_nothing_is_created(live: Live) -> None:
    add_rule(live.http, {"match": ON_CREATE, "wire": "reset", "times": 1})

    exc, _ = timed_error(lambda: create_call(live.http, live.session, "reset"), httpx.ReadError)

    assert "reset" in str(exc).lower()
    assert images_named(live.http, live.session, "reset") == []
    assert create_call(live.http, live.session, "after-reset").status_code == 200  # the server still serves


def test_close_is_no_reply_at_all_and_nothing_is_created(live: Live) -> None:
    add_rule(live.http, {"match": ON_CREATE, "wire": "close"})

    exc, _ = timed_error(lambda: create_call(live.http, live.session, "closed"), httpx.RemoteProtocolError)

    assert "without sending a response" in str(exc)
    assert images_named(live.http, live.session, "closed") == []


def test_truncate_sends_headers_and_part_of_the_body(live: Live) -> None:
    add_rule(live.http, {"match": ON_CREATE, "wire": "truncate"})

    exc, _ = timed_error(lambda: create_call(live.http, live.session, "truncated"), httpx.RemoteProtocolError)

    assert "without sending complete message body" in str(exc)
    assert [i["status"] for i in images_named(live.http, live.session, "truncated")] == ["Ready"]


def test_truncate_seen_while_streaming_gives_the_first_half(live: Live) -> None:
    add_rule(live.http, {"match": ON_CREATE, "wire": "truncate"})
    received = bytearray()

    with pytest.raises(httpx.RemoteProtocolError), live.http.stream(
        "POST", f"/zstack/v1/images/root-volume-templates/from/volume-template/{BACKUP_WITH_METADATA}",
        json={"params": {"backupStorageUuid": BS_READY, "name": "streamed"}}, headers=auth(live.session),
    ) as response:
        assert response.status_code == 200
        length = int(response.headers["content-length"])
        for chunk in response.iter_raw():
            received += chunk

    assert 0 < len(received) < length
    assert received.startswith(b'{"inventory":{')


def test_malformed_is_a_200_whose_body_is_cut_mid_json_with_a_matching_length(live: Live) -> None:
    add_rule(live.http, {"match": ON_CREATE, "wire": "malformed"})

    response = create_call(live.http, live.session, "malformed")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.content.startswith(b'{"inventory":{')
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    assert [i["status"] for i in images_named(live.http, live.session, "malformed")] == ["Ready"]


def test_dribble_delivers_the_whole_body_over_time(live: Live) -> None:
    add_rule(live.http, {"match": ON_CREATE, "wire": {"kind": "dribble", "chunkBytes": 128, "intervalSeconds": 0.03}})
    arrivals: list[float] = []
    body = bytearray()

    started = time.monotonic()
    with live.http.stream(
        "POST", f"/zstack/v1/images/root-volume-templates/from/volume-template/{BACKUP_WITH_METADATA}",
        json={"params": {"backupStorageUuid": BS_READY, "name": "dribbled"}}, headers=auth(live.session),
    ) as response:
        assert response.status_code == 200
        for chunk in response.iter_raw():
            arrivals.append(time.monotonic() - started)
            body += chunk

    assert int(response.headers["content-length"]) == len(body)
    assert json.loads(body)["inventory"]["name"] == "dribbled"
    intervals = -(-len(body) // 128) - 1
    assert intervals >= 4
    assert arrivals[-1] - arrivals[0] >= 0.03 * intervals * 0.8, arrivals
    assert len(arrivals) > 1


def test_hang_gives_no_answer_until_the_client_gives_up(live: Live) -> None:
    add_rule(live.http, {"match": ON_CREATE, "wire": "hang"})

    _, elapsed = timed_error(lambda: create_call(live.http, live.session, "hung", timeout=0.5), httpx.ReadTimeout)

    assert elapsed >= 0.5
    assert images_named(live.http, live.session, "hung") == []


def test_hang_with_seconds_closes_the_connection_after_them(live: Live) -> None:
    add_rule(live.http, {"match": ON_CREATE, "wire": {"kind": "hang", "seconds": 0.2}})

    exc, elapsed = timed_error(lambda: create_call(live.http, live.session, "hung"), httpx.RemoteProtocolError)

    assert "without sending a response" in str(exc)
    assert 0.2 <= elapsed < 2


@pytest.mark.parametrize(("kind", "error"), [("close", httpx.RemoteProtocolError), ("reset", httpx.ReadError)])
def test_after_handling_the_call_takes_effect_and_only_the_answer_is_lost(
    live: Live, kind: str, error: type[Exception]
) -> None:
    add_rule(live.http, {"match": ON_CREATE, "wire": {"kind": kind, "afterHandling": True}})

    timed_error(lambda: create_call(live.http, live.session, f"lost-{kind}"), error)

    assert [i["status"] for i in images_named(live.http, live.session, f"lost-{kind}")] == ["Ready"]


def test_hang_after_handling_makes_the_image_and_never_answers(live: Live) -> None:
    add_rule(live.http, {"match": ON_CREATE, "wire": {"kind": "hang", "afterHandling": True}})

    timed_error(lambda: create_call(live.http, live.session, "lost-hang", timeout=0.3), httpx.ReadTimeout)

    assert [i["status"] for i in images_named(live.http, live.session, "lost-hang")] == ["Ready"]


# --- job faults ------------------------------------------------------------------------------


def test_job_hold_keeps_the_image_downloading_until_the_job_is_released(live: Live) -> None:
    add_rule(live.http, {"match": ON_CREATE, "job": {"hold": True}})

    uuid = job_uuid_of(create_call(live.http, live.session, "held", headers=ASYNC))
    time.sleep(0.1)

    assert live.http.get(f"/zstack/v1/api-jobs/{uuid}").status_code == 202
    job = control_job(live, uuid)
    assert (job["status"], job["held"], job["dueDate"]) == ("Running", True, None)
    assert image_status(live, job["resourceUuid"]) == "Downloading"

    released = live.http.post(f"/_mock/jobs/{uuid}/release")
    assert released.status_code == 200, released.text
    done = poll_until_done(live.http, f"/zstack/v1/api-jobs/{uuid}")
    assert done.status_code == 200, done.text
    assert done.json()["inventory"]["status"] == "Ready"
    assert image_status(live, job["resourceUuid"]) == "Ready"


def test_release_all_lets_every_held_job_finish(live: Live) -> None:
    add_rule(live.http, {"match": ON_CREATE, "job": {"hold": True}})
    uuids = [job_uuid_of(create_call(live.http, live.session, f"held-{n}", headers=ASYNC)) for n in range(2)]
    assert all(control_job(live, uuid)["held"] for uuid in uuids)

    released = live.http.post("/_mock/jobs/release")

    assert released.status_code == 200, released.text
    assert sorted(j["uuid"] for j in released.json()["jobs"]) == sorted(uuids)
    for uuid in uuids:
        assert poll_until_done(live.http, f"/zstack/v1/api-jobs/{uuid}").status_code == 200


def test_job_error_fails_the_job_after_the_given_seconds(start_live: StartLive) -> None:
    live = start_live(job_duration="10")
    add_rule(live.http, {"match": ON_CREATE, "job": {"afterSeconds": 0.3, "error": {
        "code": "SYS.1002", "details": "lost the image store while exporting {backupUuid}",
        "cause": {"code": "SYS.1016", "details": "i/o timeout"}}}})

    started = time.monotonic()
    uuid = job_uuid_of(create_call(live.http, live.session, "fails-late", headers=ASYNC))
    image = control_job(live, uuid)["resourceUuid"]
    assert image_status(live, image) == "Downloading"
    done = poll_until_done(live.http, f"/zstack/v1/api-jobs/{uuid}", interval=0.02)
    elapsed = time.monotonic() - started

    error = assert_zstack_error(done, "SYS.1002", f"lost the image store while exporting {BACKUP_WITH_METADATA}")
    assert (error["cause"]["code"], error["cause"]["details"]) == ("SYS.1016", "i/o timeout")
    assert 0.3 <= elapsed < 5
    assert image_status(live, image) is None


def test_a_job_fault_does_not_match_a_sync_call(live: Live) -> None:
    hold = add_rule(live.http, {"match": ON_CREATE, "job": {"hold": True}})
    fail = add_rule(live.http, {"job": {"error": {"code": "SYS.1000"}}})

    response = create_call(live.http, live.session, "sync")

    assert response.status_code == 200, response.text
    assert response.json()["inventory"]["status"] == "Ready"
    assert live.http.get("/zstack/v1/images", headers=auth(live.session)).status_code == 200
    assert counters(live.http, hold["id"])[:2] == (0, 0)
    assert counters(live.http, fail["id"])[:2] == (0, 0)


def test_a_job_fault_holds_the_rpc_create(live: Live) -> None:
    add_rule(live.http, {"match": ON_CREATE, "job": {"hold": True}})

    accepted = call(live.http, RPC_CREATE, {"backupUuid": BACKUP_WITH_METADATA, "backupStorageUuid": BS_READY,
                                            "name": "rpc-held", "session": {"uuid": live.session}})

    uuid = accepted.json()["uuid"]
    time.sleep(0.1)
    assert live.http.get(RESULT.format(uuid)).json()["state"] == "Processing"
    assert control_job(live, uuid)["held"] is True
    live.http.post(f"/_mock/jobs/{uuid}/release").raise_for_status()
    event_class, fields = rpc_result(live.http, uuid)
    assert (event_class, fields["success"]) == (RPC_CREATE_EVENT, True)


def test_the_http_marker_still_answers_when_the_rule_is_async(live: Live) -> None:
    """A non-job effect on an async call answers the call itself: no job is made."""
    add_rule(live.http, {"match": ON_CREATE, **marker("proxy says no")})
    jobs_before = live.http.get("/_mock/jobs").json()["jobs"]

    response = create_call(live.http, live.session, "no-job", headers=ASYNC)

    assert (response.status_code, response.text) == (502, "proxy says no")
    assert live.http.get("/_mock/jobs").json()["jobs"] == jobs_before
    assert images_named(live.http, live.session, "no-job") == []
