"""Responses carry exactly the documentation page's fields, with its types, plus the real server's extras."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from app.zstack.schemas import ErrorReply, ImageInventoryReply, SessionInventoryReply
from tests.helpers import BACKUP_WITH_METADATA, BS_DISCONNECTED, auth, create, login, sha512

JAVA_DATE = re.compile(r"^[A-Z][a-z]{2} \d{1,2}, \d{4} \d{1,2}:\d{2}:\d{2} (AM|PM)$")

# From the documentation page: field -> documented type.
SEED_IMAGE_FIELDS = {
    "uuid": "String", "name": "String", "description": "String", "state": "String", "status": "String",
    "size": "Long", "actualSize": "Long", "md5Sum": "String", "url": "String", "mediaType": "String",
    "guestOsType": "String", "type": "String", "platform": "String", "format": "String", "system": "Boolean",
    "createDate": "Timestamp", "lastOpDate": "Timestamp", "backupStorageRefs": "List",
}
SEED_REF_FIELDS = {
    "imageUuid": "String", "backupStorageUuid": "String", "installPath": "String", "exportUrl": "String",
    "exportMd5Sum": "String", "status": "String", "createDate": "Timestamp", "lastOpDate": "Timestamp",
}
# Fields the real ImageInventory has beyond the page (ZStack's ImageInventory.java), and the ref's database id.
REAL_IMAGE_EXTRAS = {"architecture": "String", "virtio": "Boolean"}
REAL_REF_EXTRAS = {"id": "Long"}
# Null on a fresh template, so omitted as Gson omits nulls.
NULL_REF_FIELDS = {"exportUrl", "exportMd5Sum"}
SEED_ERROR_FIELDS = {"code", "description", "details", "elaboration", "opaque", "cause"}


def _assert_type(value: Any, kind: str) -> None:
    checks = {
        "String": lambda v: isinstance(v, str),
        "Long": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "Boolean": lambda v: isinstance(v, bool),
        "Timestamp": lambda v: isinstance(v, str) and JAVA_DATE.match(v) is not None,
        "List": lambda v: isinstance(v, list),
    }
    assert checks[kind](value), f"{value!r} is not a {kind}"


def test_image_inventory_has_exactly_the_documented_fields_and_types(client: TestClient) -> None:
    response = create(client, login(client), BACKUP_WITH_METADATA, name="n", description="d", guestOsType="CentOS 7")
    body = response.json()
    assert set(body) == {"inventory"}
    image = body["inventory"]
    expected = SEED_IMAGE_FIELDS | REAL_IMAGE_EXTRAS
    assert set(image) == set(expected)
    for field, kind in expected.items():
        _assert_type(image[field], kind)
    (ref,) = image["backupStorageRefs"]
    expected_ref = {k: v for k, v in (SEED_REF_FIELDS | REAL_REF_EXTRAS).items() if k not in NULL_REF_FIELDS}
    assert set(ref) == set(expected_ref)
    for field, kind in expected_ref.items():
        _assert_type(ref[field], kind)
    ImageInventoryReply.model_validate(body)


def test_error_body_uses_the_documented_error_code_fields(client: TestClient) -> None:
    session = login(client)
    response = client.post(
        f"/zstack/v1/images/root-volume-templates/from/volume-template/{BACKUP_WITH_METADATA}",
        json={"params": {"backupStorageUuid": BS_DISCONNECTED, "name": "n"}},
        headers=auth(session),
    )
    body = response.json()
    assert set(body) == {"error"}
    ErrorReply.model_validate(body)
    error = body["error"]
    assert set(error) - {"cost"} <= SEED_ERROR_FIELDS
    assert set(error["cause"]) - {"cost"} <= SEED_ERROR_FIELDS
    for value in (error["code"], error["description"], error["details"]):
        assert isinstance(value, str) and value


def test_login_reply_matches_the_session_inventory_schema(client: TestClient) -> None:
    response = client.put(
        "/zstack/v1/accounts/login",
        json={"logInByAccount": {"accountName": "admin", "password": sha512("password")}},
    )
    SessionInventoryReply.model_validate(response.json())

