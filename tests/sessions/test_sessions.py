"""LogInByAccount, LogOut, ValidateSession, and the session every authenticated call checks (docs/behaviour.md, "Sessions")."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.zstack.timefmt import java_date
from tests.helpers import (
    ADMIN_UUID,
    ALICE_UUID,
    EXISTING_IMAGE,
    LOGIN_PATH,
    FakeClock,
    assert_zstack_error,
    auth,
    create,
    login,
    sha512,
    use_clock,
)

START = datetime(2025, 1, 15, 10, 0, 0, tzinfo=UTC)
JAVA_DATE = re.compile(r"^\w+ \d{1,2}, \d{4} \d{1,2}:\d{1,2}:\d{1,2} (AM|PM)$")
FREE_UUID = "3f2504e04f8941d39a0c0305e82c3301"
UNKNOWN_SESSION = "0123456789ab4def8123456789abcdef"
VALIDATOR = "org.zstack.header.message.ApiMessageParamValidator"


StartClient = Callable[..., tuple[TestClient, FakeClock]]


def with_fake_clock(app: FastAPI) -> FakeClock:
    clock = FakeClock(START)
    use_clock(app, clock)
    return clock


@pytest.fixture
def start_client(make_app: Callable[..., FastAPI]) -> Iterator[StartClient]:
    """Start a client on a fresh app with a fake clock; settings can be overridden."""
    with ExitStack() as stack:

        def start(**overrides: Any) -> tuple[TestClient, FakeClock]:
            app = make_app(**overrides)
            clock = with_fake_clock(app)
            return stack.enter_context(TestClient(app, raise_server_exceptions=False)), clock

        yield start


def put_login(client: httpx.Client, body: Any) -> httpx.Response:
    """PUT any body to the login path (the negative tests' raw request)."""
    return client.put(LOGIN_PATH, json=body)


def is_valid(client: httpx.Client, session: str) -> bool:
    response = client.get(f"/zstack/v1/accounts/sessions/{session}/valid")
    assert response.status_code == 200, response.text
    valid = response.json()
    assert set(valid) == {"valid"}
    return bool(valid["valid"])


def log_out(client: httpx.Client, session: str) -> httpx.Response:
    return client.delete(f"/zstack/v1/accounts/sessions/{session}")


def parse_java_date(text: str) -> datetime:
    return datetime.strptime(text, "%b %d, %Y %I:%M:%S %p")


# --- login ---


def test_login_returns_a_session_inventory(client: TestClient) -> None:
    response = put_login(client, {"logInByAccount": {"accountName": "admin", "password": sha512("password")}})

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    session = response.json()["inventory"]
    assert set(session) == {"uuid", "accountUuid", "userUuid", "expiredDate", "createDate"}
    assert re.fullmatch(r"[0-9a-f]{32}", session["uuid"])
    assert session["accountUuid"] == session["userUuid"] == ADMIN_UUID
    assert JAVA_DATE.match(session["createDate"]) and JAVA_DATE.match(session["expiredDate"])


def test_login_session_expires_after_the_timeout(start_client: StartClient) -> None:
    client, _ = start_client()

    session = put_login(
        client, {"logInByAccount": {"accountName": "alice", "password": sha512("alice-password")}}
    )

    inventory = session.json()["inventory"]
    assert inventory["accountUuid"] == inventory["userUuid"] == ALICE_UUID
    assert inventory["createDate"] == java_date(START)
    assert inventory["expiredDate"] == java_date(START + timedelta(hours=2))
    created, expires = parse_java_date(inventory["createDate"]), parse_java_date(inventory["expiredDate"])
    assert expires - created == timedelta(hours=2)


def test_login_session_expires_after_the_timeout__configured(
    start_client: StartClient,
) -> None:
    client, _ = start_client(session_timeout=60)

    inventory = put_login(
        client, {"logInByAccount": {"accountName": "admin", "password": sha512("password")}}
    ).json()

    assert inventory["inventory"]["expiredDate"] == java_date(START + timedelta(seconds=60))


@pytest.mark.parametrize(
    ("account", "password"),
    [("admin", sha512("wrong")), ("nobody", sha512("password")), ("admin", "password")],
    ids=["wrong-password", "unknown-account", "plain-text-password"],
)
def test_login_with_bad_credentials_is_id_1000(client: TestClient, account: str, password: str) -> None:
    response = put_login(client, {"logInByAccount": {"accountName": account, "password": password}})

    error = assert_zstack_error(response, "ID.1000", "wrong account name or password")
    assert error["description"] == "Unable to authenticate a user"
    # conf/errorElaborations/Elaboration.json's ACCOUNT 1000, as Platform.generateElaboration sets it.
    assert error["elaboration"] == "Error message: Wrong account name or password."
    assert error["messages"] == {"code": "1000", "message_cn": "错误的帐号或密码。",
                                 "message_en": "Wrong account name or password.", "source": "zstack",
                                 "distance": 0.0, "method": "distance"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "accountName"),
        ({"logInByAccount": {}}, "accountName"),
        ({"logIn": {"accountName": "admin", "password": sha512("password")}}, "accountName"),
        ({"logInByAccount": {"accountName": "admin"}}, "password"),
    ],
    ids=["no-wrapper", "empty-wrapper", "old-wrapper-key", "no-password"],
)
def test_login_without_a_required_field_is_sys_1007(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    response = put_login(client, body)

    assert_zstack_error(
        response, "SYS.1007", f"field[{field}] of message[{VALIDATOR}] is mandatory, can not be null"
    )


def test_login_with_wrapper_of_wrong_type_is_sys_1007(client: TestClient) -> None:
    response = put_login(client, {"logInByAccount": ["admin"]})

    error = assert_zstack_error(response, "SYS.1007")
    assert "logInByAccount" in error["details"]


# --- logout and validate ---


def test_logout_ends_the_session(client: TestClient) -> None:
    session = login(client)

    response = log_out(client, session)

    assert response.status_code == 200
    assert response.json() == {}
    assert is_valid(client, session) is False
    assert_zstack_error(create(client, session), "ID.1001", "Session expired")


def test_logout_of_unknown_session_succeeds(client: TestClient) -> None:
    response = log_out(client, UNKNOWN_SESSION)

    assert response.status_code == 200
    assert response.json() == {}


def test_logout_and_validate_need_no_authorization_header(client: TestClient) -> None:
    session = login(client)

    assert "authorization" not in client.headers
    assert is_valid(client, session) is True
    assert log_out(client, session).status_code == 200
    assert log_out(client, session).json() == {}


def test_logout_ends_only_that_session(client: TestClient) -> None:
    first, second = login(client), login(client)

    log_out(client, first)

    assert (is_valid(client, first), is_valid(client, second)) == (False, True)


def test_validate_tells_live_from_unknown_sessions(client: TestClient) -> None:
    assert is_valid(client, login(client)) is True
    assert is_valid(client, UNKNOWN_SESSION) is False


def test_validate_does_not_renew_the_session(start_client: StartClient) -> None:
    client, clock = start_client()
    session = login(client)

    clock.advance(7000)
    assert is_valid(client, session) is True
    clock.advance(300)

    assert is_valid(client, session) is False


# --- expiry ---


def test_create_with_expired_session_is_id_1001(start_client: StartClient) -> None:
    client, clock = start_client(session_timeout=60)
    session = login(client)

    clock.advance(61)
    response = create(client, session)

    error = assert_zstack_error(response, "ID.1001", "Session expired")
    assert (
        error["description"]
        == "The session is invalid, either wrong session id or the session has been expired"
    )
    assert error["elaboration"] == "Error message: Session expired or wrong session ID."
    assert error["messages"]["message_en"] == "Session expired or wrong session ID."
    assert is_valid(client, session) is False


def test_session_expiry_slides_with_each_call(start_client: StartClient) -> None:
    client, clock = start_client(session_timeout=60)
    session = login(client)

    clock.advance(59)
    assert create(client, session).status_code == 200
    clock.advance(59)

    assert is_valid(client, session) is True
    assert create(client, session).status_code == 200


def test_session_expires_without_calls(start_client: StartClient) -> None:
    client, clock = start_client(session_timeout=60)
    session = login(client)

    clock.advance(59)
    assert is_valid(client, session) is True
    clock.advance(59)

    assert is_valid(client, session) is False


# --- concurrent sessions ---


def test_login_beyond_max_sessions_is_id_1006(start_client: StartClient) -> None:
    client, _ = start_client(max_sessions_per_account=2)
    login(client)
    login(client)

    response = put_login(client, {"logInByAccount": {"accountName": "admin", "password": sha512("password")}})

    error = assert_zstack_error(
        response, "ID.1006", "Login sessions hit limit of max allowed concurrent login sessions"
    )
    assert error["description"] == "Max number of active sessions exceeded"


def test_login_beyond_max_sessions_works_again_after_a_logout(
    start_client: StartClient,
) -> None:
    client, _ = start_client(max_sessions_per_account=2)
    first = login(client)
    login(client)

    log_out(client, first)

    assert is_valid(client, login(client)) is True


def test_login_beyond_max_sessions__expired_sessions_do_not_count(
    start_client: StartClient,
) -> None:
    client, clock = start_client(max_sessions_per_account=2, session_timeout=60)
    login(client)
    login(client)

    clock.advance(61)

    assert is_valid(client, login(client)) is True


def test_login_beyond_max_sessions__counted_per_account(
    start_client: StartClient,
) -> None:
    client, _ = start_client(max_sessions_per_account=2)
    login(client)
    login(client)

    assert is_valid(client, login(client, "alice")) is True


# --- persistence across a restart ---


def test_session_survives_a_restart(make_app: Callable[..., FastAPI]) -> None:
    app1 = make_app()
    with TestClient(app1, raise_server_exceptions=False) as before:
        session = login(before)
        assert create(before, session, resourceUuid=FREE_UUID).status_code == 200
    app1.state.server.store.close()

    with TestClient(make_app(), raise_server_exceptions=False) as after:
        assert is_valid(after, session) is True
        assert create(after, session).status_code == 200
        conflict = create(after, session, resourceUuid=FREE_UUID)
        fixture_image = create(after, session, resourceUuid=EXISTING_IMAGE)

    assert_zstack_error(
        conflict,
        "SYS.1000",
        f"resource uuid[{FREE_UUID}] conflicts with an existing resource: a resourceUuid must not be used by any "
        "other resource",
    )
    assert_zstack_error(fixture_image, "SYS.1000")


def test_every_session_reply_carries_the_schema_map_when_asked(client: TestClient) -> None:
    """RestServer adds JsonSchemaBuilder's map to any reply when X-JSON-Schema is sent."""
    schema = {"X-JSON-Schema": "true"}
    body = {"logInByAccount": {"accountName": "admin", "password": sha512("password")}}
    logged_in = client.put(LOGIN_PATH, json=body, headers=schema).json()
    assert list(logged_in) == ["schema", "inventory"]
    assert logged_in["schema"] == {"inventory": "org.zstack.header.identity.SessionInventory"}
    session = logged_in["inventory"]["uuid"]
    valid = client.get(f"/zstack/v1/accounts/sessions/{session}/valid", headers=schema)
    assert valid.text == '{"valid":true,"schema":{}}'
    assert client.delete(f"/zstack/v1/accounts/sessions/{session}", headers=schema).json() == {"schema": {}}
    assert "schema" not in client.put(LOGIN_PATH, json=body).json()


RENEW = "/zstack/v1/accounts/sessions/{}/renew"


def test_renew_session_sets_its_expiry_from_now(start_client: StartClient) -> None:
    client, clock = start_client()
    session = login(client)
    renewed = client.put(RENEW.format(session), json={"renewSession": {"duration": 60}}, headers=auth(session))
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["inventory"]["uuid"] == session
    assert renewed.json()["inventory"]["expiredDate"] == java_date(START + timedelta(seconds=60))
    clock.advance(61)
    assert is_valid(client, session) is False


def test_renew_session_defaults_to_the_session_timeout(start_client: StartClient) -> None:
    client, _ = start_client(session_timeout=600)
    session = login(client)
    renewed = client.put(RENEW.format(session), json={}, headers=auth(session))
    assert renewed.json()["inventory"]["expiredDate"] == java_date(START + timedelta(seconds=600))


@pytest.mark.parametrize(
    ("body", "code", "details"),
    [
        ({"renewSession": {"duration": 59}}, "SYS.1007", "field[duration] must be in range of [60, 31536000]"),
        ({"renewSession": {"duration": 31536001}}, "SYS.1007", "field[duration] must be in range of [60, 31536000]"),
        ({"renewSession": {"duration": "soon"}}, "SYS.1007",
         "Invalid value for long field [duration], [soon] is not a whole number between -9223372036854775808 and "
         "9223372036854775807."),
    ],
)
def test_renew_session_checks_its_duration(client: TestClient, body: Any, code: str, details: str) -> None:
    session = login(client)
    assert_zstack_error(client.put(RENEW.format(session), json=body, headers=auth(session)), code, details)


def test_renewing_an_unknown_or_expired_session_fails(start_client: StartClient) -> None:
    client, clock = start_client(session_timeout=100)
    caller, other = login(client), login(client)
    unknown = client.put(RENEW.format("0" * 32), json={}, headers=auth(caller))
    assert_zstack_error(unknown, "SYS.1003",
                        f"invalid field[sessionUuid], resource[uuid:{'0' * 32}, type:SessionVO] not found")
    clock.advance(50)
    assert client.put(RENEW.format(caller), json={"renewSession": {"duration": 3600}},
                      headers=auth(caller)).status_code == 200
    clock.advance(60)  # other expired; caller was renewed
    expired = client.put(RENEW.format(other), json={}, headers=auth(caller))
    assert_zstack_error(expired, "ID.1001", "Session expired")


def test_renew_session_with_the_sdks_job_header_answers_through_the_job(client: TestClient) -> None:
    session = login(client)
    accepted = client.put(RENEW.format(session), json={"renewSession": {"duration": 3600}},
                          headers={**auth(session), "X-Job-UUID": "1" * 32})
    assert accepted.status_code == 202, accepted.text
    job = "/zstack/v1/api-jobs/" + "1" * 32
    assert client.post(f"/_mock/jobs/{'1' * 32}/complete").status_code == 200
    assert client.get(job).json()["inventory"]["uuid"] == session


def test_a_path_served_by_one_api_takes_any_method_as_rest_server_does(client: TestClient) -> None:
    """RestServer.handleUniqueApi: POST and PATCH read the body, GET and DELETE the query string."""
    body = {"logInByAccount": {"accountName": "admin", "password": sha512("password")}}
    for method in ("POST", "PATCH"):
        response = client.request(method, LOGIN_PATH, json=body)
        assert response.status_code == 200, (method, response.text)
    by_query = client.get(LOGIN_PATH, params={"accountName": "admin", "password": sha512("password")})
    assert by_query.status_code == 200, by_query.text
    session = by_query.json()["inventory"]["uuid"]
    assert client.post(f"/zstack/v1/accounts/sessions/{session}/valid").json() == {"valid": True}
    twice = client.get(LOGIN_PATH, params=[("accountName", "admin"), ("accountName", "bob")])
    assert twice.status_code == 400
    assert twice.text == ("Invalid query parameter[accountName], only one value is allowed for the parameter but "
                          "multiple values found")
    assert client.request("PATCH", f"/zstack/v1/accounts/sessions/{session}").json() == {}
    assert client.get(f"/zstack/v1/accounts/sessions/{session}/valid").json() == {"valid": False}
