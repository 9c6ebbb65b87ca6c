"""An RPC client over a real socket: log in, query, check the session on REST, log out."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from tests.helpers import BS_READY, sha512
from tests.query.support import ALL_IMAGES
from tests.rpc.support import (
    LOG_IN,
    LOG_IN_REPLY,
    LOG_OUT,
    LOG_OUT_REPLY,
    QUERY_IMAGE,
    QUERY_IMAGE_REPLY,
    VALIDATE,
    VALIDATE_REPLY,
    reply_of,
)


def send(http: httpx.Client, message_class: str, fields: dict[str, Any]) -> httpx.Response:
    """As Python clients send it: json.dumps of the whole message, POSTed to /zstack/api."""
    return http.post("/zstack/api", content=json.dumps({message_class: fields}),
                     headers={"Content-Type": "application/json"})


def test_rpc_client_logs_in_queries_and_logs_out_over_a_socket(live_server: Callable[..., Any]) -> None:
    server = live_server()
    with httpx.Client(base_url=server.url, timeout=10) as http:
        login = send(http, LOG_IN, {"accountName": "admin", "password": sha512("password"), "session": None})
        session = reply_of(login, LOG_IN_REPLY)["inventory"]["uuid"]

        page = reply_of(send(http, QUERY_IMAGE, {
            "conditions": [{"name": "backupStorageRefs.backupStorageUuid", "op": "=", "value": BS_READY}],
            "replyWithCount": True, "sortBy": "createDate", "sortDirection": "desc",
            "session": {"uuid": session},
        }), QUERY_IMAGE_REPLY)
        rest = http.get("/zstack/v1/images", headers={"Authorization": f"OAuth {session}"})
        valid = reply_of(send(http, VALIDATE, {"sessionUuid": session}), VALIDATE_REPLY)
        logged_out = reply_of(send(http, LOG_OUT, {"sessionUuid": session}), LOG_OUT_REPLY)
        after = reply_of(send(http, VALIDATE, {"sessionUuid": session}), VALIDATE_REPLY)

    assert login.headers["content-type"] == "application/json; charset=utf-8"
    assert [i["uuid"] for i in page["inventories"]] == ALL_IMAGES[::-1]
    assert page["total"] == 3
    assert rest.status_code == 200 and len(rest.json()["inventories"]) == 3
    assert valid == {"validSession": True}
    assert logged_out == {}
    assert after == {"validSession": False}


def test_trailing_slash_and_unknown_result_over_a_socket(live_server: Callable[..., Any]) -> None:
    server = live_server()
    with httpx.Client(base_url=server.url, timeout=10) as http:
        ready = http.put("/zstack/api/", content='{"org.zstack.header.apimediator.APIIsReadyToGoMsg": {}}')
        missing = http.get("/zstack/api/result/0123456789abcdef0123456789abcdef/")
        empty = http.post("/zstack/api", content=b"")

    assert ready.status_code == 200 and 'success\\":true' in ready.text
    assert missing.status_code == 404 and "No api result[uuid:0123456789abcdef0123456789abcdef] found" in missing.text
    assert empty.status_code == 500 and empty.headers["content-type"].startswith("text/html")
