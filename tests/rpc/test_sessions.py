"""Sessions over RPC: login, logout, validation, IsReadyToGo, the session check and where each error is
placed (docs/behaviour.md, "Legacy RPC API"); sessions shared with the REST API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.helpers import (
    ADMIN_UUID,
    ALICE_UUID,
    FakeClock,
    assert_zstack_error,
    create,
    login,
    sha512,
    use_clock,
)
from tests.query.support import IMAGES
from tests.rpc.support import (
    API,
    GENERIC_REPLY,
    JAVA_DATE,
    LOG_IN,
    LOG_IN_REPLY,
    LOG_OUT,
    LOG_OUT_REPLY,
    QUERY_BACKUP,
    QUERY_IMAGE,
    QUERY_IMAGE_REPLY,
    QUERY_STORAGE,
    READY,
    READY_REPLY,
    VALIDATE,
    VALIDATE_REPLY,
    VALIDATOR,
    assert_rpc_error,
    call,
    query,
    reply_of,
    rpc_login,
)

UNKNOWN_SESSION = "0123456789ab4def8123456789abcdef"
ELABORATION = "Error message: Session expired or wrong session ID."


def is_valid(client: TestClient, session: str) -> bool:
    return bool(reply_of(call(client, VALIDATE, {"sessionUuid": session}), VALIDATE_REPLY)["validSession"])


def rest_is_valid(client: TestClient, session: str) -> bool:
    return bool(client.get(f"/zstack/v1/accounts/sessions/{session}/valid").json()["valid"])


# --- LogInByAccount ---


def test_login_replies_with_a_session_inventory(client: TestClient) -> None:
    response = call(client, LOG_IN, {"accountName": "alice", "password": sha512("alice-password")})

    reply = reply_of(response, LOG_IN_REPLY)

    session = reply["inventory"]
    assert list(reply) == ["inventory"]
    assert set(session) == {"uuid", "accountUuid", "userUuid", "expiredDate", "createDate"}
    assert session["accountUuid"] == session["userUuid"] == ALICE_UUID
    assert JAVA_DATE.match(session["createDate"]) and JAVA_DATE.match(session["expiredDate"])


def test_login_as_python_apibinding_sends_it(client: TestClient) -> None:
    """apibinding sends every field of the message, null when unset, and a timeout."""
    fields = {"accountName": "admin", "password": sha512("password"), "accountType": None, "timeout": 15000,
              "session": None, "systemTags": None, "userTags": None}
    reply = reply_of(call(client, LOG_IN, fields), LOG_IN_REPLY)
    assert reply["inventory"]["accountUuid"] == ADMIN_UUID


@pytest.mark.parametrize(
    ("account", "password"),
    [("admin", "wrong"), ("nobody", "password"), ("alice", "password")],
)
def test_login_with_bad_credentials_is_id_1000_in_the_login_reply(client: TestClient, account: str, password: str) -> None:
    """Raised by the identity service, so named by the API's own reply class."""
    response = call(client, LOG_IN, {"accountName": account, "password": sha512(password)})
    assert_rpc_error(response, LOG_IN_REPLY, "ID.1000", "wrong account name or password")


@pytest.mark.parametrize("missing", ["accountName", "password"])
def test_login_without_a_field_is_sys_1007_in_the_generic_reply(client: TestClient, missing: str) -> None:
    """Refused by the parameter validator before the service sees it: the generic APIReply."""
    fields = {"accountName": "admin", "password": sha512("password")}
    del fields[missing]
    assert_rpc_error(
        call(client, LOG_IN, fields), GENERIC_REPLY, "SYS.1007",
        f"field[{missing}] of message[{VALIDATOR}] is mandatory, can not be null",
    )


def test_login_with_a_number_for_password_is_sys_1007(client: TestClient) -> None:
    assert_rpc_error(
        call(client, LOG_IN, {"accountName": "admin", "password": 42}), GENERIC_REPLY, "SYS.1007",
        "Invalid value for string field [password], [42] is a JSON number, not a string.",
    )


def test_login_beyond_max_sessions_is_id_1006_in_the_login_reply(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app(max_sessions_per_account=1), raise_server_exceptions=False) as client:
        rpc_login(client, "bob")
        response = call(client, LOG_IN, {"accountName": "bob", "password": sha512("bob-password")})
    assert_rpc_error(response, LOG_IN_REPLY, "ID.1006", "Login sessions hit limit of max allowed concurrent login sessions")


# --- LogOut, ValidateSession ---


def test_logout_ends_the_session_on_both_surfaces(client: TestClient) -> None:
    session = rpc_login(client)
    assert is_valid(client, session) and rest_is_valid(client, session)

    assert reply_of(call(client, LOG_OUT, {"sessionUuid": session}), LOG_OUT_REPLY) == {}

    assert not is_valid(client, session)
    assert not rest_is_valid(client, session)


def test_logout_of_an_unknown_session_succeeds(client: TestClient) -> None:
    assert reply_of(call(client, LOG_OUT, {"sessionUuid": UNKNOWN_SESSION}), LOG_OUT_REPLY) == {}


def test_logout_and_validate_need_no_session_object(client: TestClient) -> None:
    session = rpc_login(client)
    assert is_valid(client, session)
    assert reply_of(call(client, LOG_OUT, {"sessionUuid": session, "session": None}), LOG_OUT_REPLY) == {}
    assert not is_valid(client, session)


@pytest.mark.parametrize("message_class", [LOG_OUT, VALIDATE])
def test_logout_and_validate_without_session_uuid_are_sys_1007(client: TestClient, message_class: str) -> None:
    assert_rpc_error(
        call(client, message_class, {}), GENERIC_REPLY, "SYS.1007",
        f"field[sessionUuid] of message[{VALIDATOR}] is mandatory, can not be null",
    )


def test_validate_tells_live_from_unknown_sessions(client: TestClient) -> None:
    assert is_valid(client, rpc_login(client)) is True
    assert is_valid(client, UNKNOWN_SESSION) is False


# --- IsReadyToGo ---


@pytest.mark.parametrize(
    ("message_class", "reply_class"),
    [
        pytest.param(READY, READY_REPLY, id="real-class"),
        pytest.param("org.zstack.header.managementnode.APIIsReadyToGoMsg",
                     "org.zstack.header.managementnode.APIIsReadyToGoReply", id="as-the-reference-names-it"),
    ],
)
def test_is_ready_to_go_needs_no_session(client: TestClient, message_class: str, reply_class: str) -> None:
    response = call(client, message_class, {"managementNodeId": None})
    assert reply_of(response, reply_class) == {}
    assert 'success\\":true' in response.text  # what zstack-ctl's status check greps for


def test_is_ready_to_go_as_zstack_ctl_sends_it(client: TestClient) -> None:
    response = client.post(API, content='{"org.zstack.header.apimediator.APIIsReadyToGoMsg": {}}',
                           headers={"Content-Type": "application/json"})
    assert reply_of(response, READY_REPLY) == {}


# --- the session check of authenticated messages ---


@pytest.mark.parametrize("message_class", [QUERY_IMAGE, QUERY_BACKUP, QUERY_STORAGE])
@pytest.mark.parametrize("session", [pytest.param("absent", id="absent"), pytest.param(None, id="null")])
def test_message_without_session_is_id_1001_naming_the_message(
    client: TestClient, message_class: str, session: Any
) -> None:
    fields: dict[str, Any] = {"conditions": []}
    if session != "absent":
        fields["session"] = session
    error = assert_rpc_error(call(client, message_class, fields), GENERIC_REPLY, "ID.1001",
                             f"session of message[{message_class}] is null")
    assert error["description"] == "The session is invalid, either wrong session id or the session has been expired"


@pytest.mark.parametrize("session", [{}, {"uuid": None}])
def test_session_without_uuid_is_id_1001(client: TestClient, session: dict[str, Any]) -> None:
    response = call(client, QUERY_IMAGE, {"conditions": [], "session": session})
    assert_rpc_error(response, GENERIC_REPLY, "ID.1001", "session uuid is null")


def test_unknown_session_is_id_1001_session_expired(client: TestClient) -> None:
    error = assert_rpc_error(query(client, QUERY_IMAGE, UNKNOWN_SESSION), GENERIC_REPLY, "ID.1001", "Session expired")
    assert error["elaboration"] == ELABORATION


@pytest.mark.parametrize(
    ("session", "details"),
    [
        pytest.param("abc", "Invalid value for field [session], a JSON object was expected, but got a JSON string.",
                     id="string"),
        pytest.param({"uuid": 12}, "Invalid value for string field [session.uuid], [12] is a JSON number, not a string.",
                     id="uuid-number"),
    ],
)
def test_malformed_session_is_sys_1007(client: TestClient, session: Any, details: str) -> None:
    response = call(client, QUERY_IMAGE, {"conditions": [], "session": session})
    assert_rpc_error(response, GENERIC_REPLY, "SYS.1007", details)


def test_session_expires_and_slides_with_rpc_calls(make_app: Callable[..., FastAPI]) -> None:
    app = make_app(session_timeout=100)
    clock = FakeClock(datetime(2025, 1, 15, 10, 0, 0, tzinfo=UTC))
    use_clock(app, clock)
    with TestClient(app, raise_server_exceptions=False) as client:
        session = rpc_login(client)
        clock.advance(90)
        reply_of(query(client, QUERY_IMAGE, session), QUERY_IMAGE_REPLY)  # renews: now +100 s
        clock.advance(90)
        reply_of(query(client, QUERY_IMAGE, session), QUERY_IMAGE_REPLY)
        clock.advance(101)
        expired = query(client, QUERY_IMAGE, session)
    assert_rpc_error(expired, GENERIC_REPLY, "ID.1001", "Session expired")


# --- one set of sessions for both surfaces ---


def test_rpc_session_works_on_the_rest_api(client: TestClient) -> None:
    session = rpc_login(client)
    created = create(client, session, name="from-an-rpc-session")
    assert created.status_code == 200, created.text
    assert created.json()["inventory"]["name"] == "from-an-rpc-session"


def test_rest_session_works_on_the_rpc_api(client: TestClient) -> None:
    session = login(client, "alice")
    assert is_valid(client, session)
    images = reply_of(query(client, QUERY_IMAGE, session), QUERY_IMAGE_REPLY)["inventories"]
    assert {i["uuid"] for i in images} == {"7a0f0948e3b64af2949319456c4f74cd"}


def test_rest_logout_ends_the_session_for_rpc(client: TestClient) -> None:
    session = rpc_login(client)
    assert client.delete(f"/zstack/v1/accounts/sessions/{session}").status_code == 200
    assert_rpc_error(query(client, QUERY_IMAGE, session), GENERIC_REPLY, "ID.1001", "Session expired")


def test_rpc_logout_ends_the_session_for_rest(client: TestClient) -> None:
    session = login(client)
    reply_of(call(client, LOG_OUT, {"sessionUuid": session}), LOG_OUT_REPLY)
    response = client.get(IMAGES, headers={"Authorization": f"OAuth {session}"})
    assert_zstack_error(response, "ID.1001", "Session expired")
