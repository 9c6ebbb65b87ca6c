"""Calling the legacy RPC API (`/zstack/api`) in tests: calls, envelopes, replies, errors."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from tests.helpers import PASSWORDS, Client, sha512

API = "/zstack/api"
RESULT = "/zstack/api/result/{}"

IDENTITY = "org.zstack.header.identity"
LOG_IN = f"{IDENTITY}.APILogInByAccountMsg"
LOG_IN_REPLY = f"{IDENTITY}.APILogInReply"
LOG_OUT = f"{IDENTITY}.APILogOutMsg"
LOG_OUT_REPLY = f"{IDENTITY}.APILogOutReply"
VALIDATE = f"{IDENTITY}.APIValidateSessionMsg"
VALIDATE_REPLY = f"{IDENTITY}.APIValidateSessionReply"
READY = "org.zstack.header.apimediator.APIIsReadyToGoMsg"
READY_REPLY = "org.zstack.header.apimediator.APIIsReadyToGoReply"
QUERY_IMAGE = "org.zstack.header.image.APIQueryImageMsg"
QUERY_IMAGE_REPLY = "org.zstack.header.image.APIQueryImageReply"
QUERY_BACKUP = "org.zstack.header.storage.volume.backup.APIQueryVolumeBackupMsg"
QUERY_BACKUP_REPLY = "org.zstack.header.storage.volume.backup.APIQueryVolumeBackupReply"
QUERY_STORAGE = "org.zstack.header.storage.backup.APIQueryBackupStorageMsg"
QUERY_STORAGE_REPLY = "org.zstack.header.storage.backup.APIQueryBackupStorageReply"
GENERIC_REPLY = "org.zstack.header.message.APIReply"

JAVA_DATE = re.compile(r"^\w{3} \d{1,2}, \d{4} \d{1,2}:\d{2}:\d{2} (AM|PM)$")
VALIDATOR = "org.zstack.header.message.ApiMessageParamValidator"


def call(client: Client, message_class: str, fields: dict[str, Any]) -> httpx.Response:
    return client.post(API, json={message_class: fields})


def envelope_of(response: httpx.Response) -> dict[str, Any]:
    """A sync call's envelope: HTTP 200, JSON, Done, both dates, no uuid."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json"), response.text
    envelope: dict[str, Any] = response.json()
    assert list(envelope) == ["state", "createdDate", "finishedDate", "result"], envelope
    assert envelope["state"] == "Done"
    assert JAVA_DATE.match(envelope["createdDate"]) and JAVA_DATE.match(envelope["finishedDate"])
    assert isinstance(envelope["result"], str)
    return envelope


def result_of(response: httpx.Response) -> tuple[str, dict[str, Any]]:
    """The single (class name, fields) pair inside a sync call's ``result`` string."""
    result = json.loads(envelope_of(response)["result"])
    assert len(result) == 1, result
    ((reply_class, fields),) = result.items()
    return reply_class, fields


def reply_of(response: httpx.Response, reply_class: str) -> dict[str, Any]:
    """The fields of a successful reply of ``reply_class`` (``success`` checked and removed)."""
    actual_class, fields = result_of(response)
    assert actual_class == reply_class, fields
    assert fields.pop("success") is True, fields
    return fields


def assert_rpc_error(
    response: httpx.Response, reply_class: str, code: str, details: str | None = None
) -> dict[str, Any]:
    """A failed call: 200, the envelope, ``{reply_class: {"success": false, "error": {code, ...}}}``."""
    actual_class, fields = result_of(response)
    assert actual_class == reply_class, fields
    assert list(fields) == ["success", "error"], fields
    assert fields["success"] is False
    error: dict[str, Any] = fields["error"]
    assert error["code"] == code, error
    assert error["description"], error
    if details is not None:
        assert error["details"] == details, error["details"]
    return error


def rpc_login(client: Client, account: str = "admin") -> str:
    response = call(client, LOG_IN, {"accountName": account, "password": sha512(PASSWORDS[account])})
    return str(reply_of(response, LOG_IN_REPLY)["inventory"]["uuid"])


def query(client: Client, message_class: str, session: str, **fields: Any) -> httpx.Response:
    fields.setdefault("conditions", [])
    return call(client, message_class, {**fields, "session": {"uuid": session}})


def inventories(client: Client, message_class: str, reply_class: str, session: str, **fields: Any) -> list[Any]:
    inventories: list[Any] = reply_of(query(client, message_class, session, **fields), reply_class)["inventories"]
    return inventories


# --- asynchronous messages -----------------------------------------------------------------------


def accept(client: Client, body: dict[str, Any]) -> str:
    response = client.post(API, json=body)
    assert response.status_code == 200, response.text
    envelope = response.json()
    assert list(envelope) == ["uuid", "state", "createdDate"]
    assert envelope["state"] == "Processing"
    assert JAVA_DATE.match(envelope["createdDate"])
    assert len(envelope["uuid"]) == 32
    return str(envelope["uuid"])


def poll(client: Client, uuid: str) -> dict[str, Any]:
    response = client.get(RESULT.format(uuid))
    assert response.status_code == 200, response.text
    envelope: dict[str, Any] = response.json()
    return envelope


def finished(client: Client, uuid: str) -> tuple[str, dict[str, Any]]:
    assert client.post(f"/_mock/jobs/{uuid}/complete").status_code == 200
    envelope = poll(client, uuid)
    assert list(envelope) == ["uuid", "state", "createdDate", "finishedDate", "result"]
    assert envelope["state"] == "Done"
    ((event_class, fields),) = json.loads(envelope["result"]).items()
    return event_class, fields
