"""The RPC endpoint's wire: methods, paths, HTTP statuses, the envelope, and bodies that are no message
(docs/behaviour.md, "Legacy RPC API")."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app import catalogue
from tests.helpers import create, login
from tests.rpc.support import (
    API,
    GENERIC_REPLY,
    LOG_IN,
    QUERY_IMAGE,
    QUERY_IMAGE_REPLY,
    READY,
    READY_REPLY,
    RESULT,
    assert_rpc_error,
    envelope_of,
    query,
    reply_of,
    rpc_login,
)

SUPPORTED = [
    "org.zstack.header.apimediator.APIIsReadyToGoMsg",
    "org.zstack.header.identity.APILogInByAccountMsg",
    "org.zstack.header.identity.APILogOutMsg",
    "org.zstack.header.identity.APIRenewSessionMsg",
    "org.zstack.header.identity.APIValidateSessionMsg",
    "org.zstack.header.image.APIChangeImageStateMsg",
    "org.zstack.header.image.APIDeleteImageMsg",
    "org.zstack.header.image.APIExpungeImageMsg",
    "org.zstack.header.image.APIQueryImageMsg",
    "org.zstack.header.image.APIRecoverImageMsg",
    "org.zstack.header.image.APIUpdateImageMsg",
    "org.zstack.header.managementnode.APIIsReadyToGoMsg",
    "org.zstack.header.storage.backup.APIQueryBackupStorageMsg",
    "org.zstack.header.storage.volume.backup.APICreateRootVolumeTemplateFromVolumeBackupMsg",
    "org.zstack.header.storage.volume.backup.APIDeleteVolumeBackupMsg",
    "org.zstack.header.storage.volume.backup.APIQueryVolumeBackupMsg",
    "org.zstack.header.tag.APIDeleteTagMsg",
    "org.zstack.tag2.APICreateTagMsg",
    "org.zstack.tag2.APIQueryTagMsg",
]


def assert_text(response: Any, status: int, starts_with: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/plain"), response.headers
    assert response.text.startswith(starts_with), response.text
    return str(response.text)


def assert_html(response: Any, status: int, message: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html"), response.headers
    assert response.text.startswith("<!doctype html>")
    assert f"<b>Message</b> {message}" in response.text, response.text


# --- methods and paths ---


@pytest.mark.parametrize("method", ["POST", "PUT"])
@pytest.mark.parametrize("path", [API, f"{API}/"])
def test_call_takes_post_and_put_with_or_without_trailing_slash(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path, json={READY: {}})
    assert reply_of(response, READY_REPLY) == {}


@pytest.mark.parametrize("method", ["GET", "DELETE", "PATCH", "OPTIONS", "HEAD"])
@pytest.mark.parametrize("path", [API, f"{API}/"])
def test_call_with_another_method_is_a_plain_text_405(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST, PUT"
    if method != "HEAD":
        assert_text(response, 405, f"The method[{method}] is not allowed for the path[{path}]: it takes POST or PUT")


@pytest.mark.parametrize("method", ["GET", "PUT"])
@pytest.mark.parametrize("suffix", ["", "/"])
def test_result_of_an_unknown_uuid_is_a_404_html_page(client: TestClient, method: str, suffix: str) -> None:
    uuid = "0123456789abcdef0123456789abcdef"
    response = client.request(method, RESULT.format(uuid) + suffix)
    assert_html(response, 404, f"No api result[uuid:{uuid}] found")


def test_result_of_a_sync_call_is_a_404(client: TestClient) -> None:
    """Sync calls are never stored; their envelope has no uuid to poll with anyway."""
    envelope = envelope_of(client.post(API, json={READY: {}}))
    assert "uuid" not in envelope
    assert client.get(RESULT.format("anything")).status_code == 404


def test_result_page_escapes_the_uuid(client: TestClient) -> None:
    response = client.get(RESULT.format("<img src=x onerror=alert(1)>"))
    assert response.status_code == 404
    assert "<img" not in response.text
    assert "No api result[uuid:&lt;img src=x onerror=alert(1)&gt;] found" in response.text


@pytest.mark.parametrize("method", ["POST", "DELETE", "PATCH"])
def test_result_with_another_method_is_a_plain_text_405(client: TestClient, method: str) -> None:
    response = client.request(method, RESULT.format("abc"))
    assert_text(response, 405, f"The method[{method}] is not allowed for the path[/zstack/api/result/abc]: "
                               "it takes GET or PUT")
    assert response.headers["allow"] == "GET, PUT"


def test_head_on_result_is_answered_like_get(client: TestClient) -> None:
    assert client.head(RESULT.format("abc")).status_code == 404


# --- the envelope ---


def test_sync_envelope_has_no_uuid_and_a_result_string(client: TestClient) -> None:
    response = client.post(API, json={READY: {}})

    envelope = envelope_of(response)  # field order, dates, Done: checked there

    assert response.text.startswith('{"state":"Done","createdDate":"')
    assert json.loads(envelope["result"]) == {READY_REPLY: {"success": True}}


def test_content_type_of_the_request_is_not_checked(client: TestClient) -> None:
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = {"Content-Type": content_type} if content_type else {}
        response = client.post(API, content=json.dumps({READY: {}}), headers=headers)
        assert reply_of(response, READY_REPLY) == {}


def test_result_string_is_written_with_gson_html_escaping(client: TestClient) -> None:
    name = "<b>Tom & Jerry's = \"best\"</b>"
    created = create(client, login(client), name=name)
    assert created.status_code == 200, created.text

    response = query(client, QUERY_IMAGE, rpc_login(client), conditions=[{"name": "name", "op": "=", "value": name}])

    result = envelope_of(response)["result"]
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("=", "\\u003d"), ("'", "\\u0027")):
        assert char not in result, char
        assert escape in result, escape
    assert '\\"best\\"' in result  # quotes keep their ordinary JSON escape
    (inventory,) = reply_of(response, QUERY_IMAGE_REPLY)["inventories"]
    assert inventory["name"] == name


def test_error_details_are_html_escaped_too(client: TestClient) -> None:
    response = query(client, QUERY_IMAGE, rpc_login(client), conditions=[{"name": "name", "op": "?=", "value": "x"}])
    assert "unknown QueryOp type[?\\u003d]" in envelope_of(response)["result"]
    assert_rpc_error(response, GENERIC_REPLY, "SYS.1007", "unknown QueryOp type[?=]")


# --- bodies that are no message ---


def test_unknown_message_class_is_200_plain_text_naming_what_is_supported(client: TestClient) -> None:
    response = client.post(API, json={"org.zstack.header.vm.APIQueryVmInstanceMsg": {}})

    text = assert_text(response, 200, "Unable to deserialize class org.zstack.header.vm.APIQueryVmInstanceMsg: ")

    assert "zstack-mock does not emulate" in text
    assert text.endswith(f"The messages zstack-mock answers are: {', '.join(SUPPORTED)}.")


def test_rest_style_body_is_an_unknown_class(client: TestClient) -> None:
    response = client.post(API, json={"logInByAccount": {"accountName": "admin", "password": "x"}})
    assert_text(response, 200, "Unable to deserialize class logInByAccount: ")


@pytest.mark.parametrize(
    ("body", "starts_with"),
    [
        pytest.param(b"not json", "The request body is not valid JSON (", id="not-json"),
        pytest.param(b'{"org.zstack.header.apimediator.APIIsReadyToGoMsg": {', "The request body is not valid JSON (",
                     id="truncated"),
        pytest.param(b"\xff\xfe", "The request body is not valid JSON (", id="not-utf8"),
        pytest.param(b"[1, 2]", "The request body is a JSON array, not an object.", id="array"),
        pytest.param(b'"text"', "The request body is a JSON string, not an object.", id="string"),
        pytest.param(b"42", "The request body is a JSON number, not an object.", id="number"),
        pytest.param(json.dumps({READY: [1]}).encode(), f"The message {READY} is a JSON array; it must be a JSON "
                     "object", id="message-array"),
        pytest.param(json.dumps({LOG_IN: "admin"}).encode(), f"The message {LOG_IN} is a JSON string", id="message-string"),
    ],
)
def test_undecodable_body_is_200_plain_text(client: TestClient, body: bytes, starts_with: str) -> None:
    text = assert_text(client.post(API, content=body), 200, starts_with)
    if "message" not in starts_with:
        assert "The body must be a JSON object with one key, the full Java class name of the API message" in text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(b"", "The request body is empty.", id="empty"),
        pytest.param(b"  \n ", "The request body is empty.", id="whitespace"),
        pytest.param(b"{}", "The request body is an empty JSON object, so it names no API message.", id="empty-object"),
        pytest.param(b"null", "The request body is JSON null.", id="null"),
        pytest.param(json.dumps({READY: None}).encode(), f"The message {READY} is null: give it as a JSON object",
                     id="null-message"),
    ],
)
def test_body_without_a_message_is_a_500_html_page(client: TestClient, body: bytes, message: str) -> None:
    assert_html(client.post(API, content=body), 500, message)


def test_several_keys__the_first_is_the_message(client: TestClient) -> None:
    """RESTApiDecoder reads the object's first entry and ignores the rest."""
    first_known = client.post(API, content=json.dumps({READY: {}, "org.zstack.Foo": {}}))
    first_unknown = client.post(API, content=json.dumps({"org.zstack.Foo": {}, READY: {}}))

    assert reply_of(first_known, READY_REPLY) == {}
    assert_text(first_unknown, 200, "Unable to deserialize class org.zstack.Foo: ")


def test_body_over_the_limit_is_413(make_app: Any) -> None:
    with TestClient(make_app(max_body_bytes=100), raise_server_exceptions=False) as client:
        response = client.post(API, json={READY: {"padding": "x" * 200}})
    assert_text(response, 413, "the request body exceeds the limit of 100 bytes")


@pytest.fixture
def broken_ready(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def explode(**kwargs: Any) -> dict[str, Any]:
        raise RuntimeError("boom")

    api, message = catalogue.BY_MESSAGE_CLASS[READY]
    monkeypatch.setitem(catalogue.BY_MESSAGE_CLASS, READY, (dataclasses.replace(api, serve=explode), message))
    yield


def test_unexpected_server_fault_is_a_sys_1000_reply_not_a_traceback(client: TestClient, broken_ready: None) -> None:
    response = client.post(API, json={READY: {}})
    error = assert_rpc_error(response, GENERIC_REPLY, "SYS.1000")
    assert error["details"].startswith("zstack-mock hit an unexpected RuntimeError while serving " + READY)
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    "fields",
    [
        {"session": []},
        {"session": {"uuid": ["x"]}},
        {"conditions": [None]},
        {"conditions": [{"name": None, "op": None, "value": {"a": 1}}]},
        {"limit": {"n": 1}, "start": True, "count": 3, "fields": [1]},
        {"sortBy": 1, "sortDirection": None},
        {"conditions": [{"name": "createDate", "op": ">", "value": "not a date"}]},
        {"conditions": [{"name": "size", "op": "in", "value": ",,"}]},
        {"conditions": [{"name": "system", "op": "like", "value": "%"}]},
    ],
)
def test_odd_messages_get_a_reply_never_a_server_error(client: TestClient, fields: dict[str, Any]) -> None:
    session = rpc_login(client)
    response = client.post(API, json={QUERY_IMAGE: {"conditions": [], "session": {"uuid": session}, **fields}})
    assert_rpc_error(response, GENERIC_REPLY, "SYS.1007")
