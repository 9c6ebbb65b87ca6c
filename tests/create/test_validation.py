"""CreateRootVolumeTemplateFromVolumeBackup: every rejection, in the order a real management node applies them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.store.records import Image
from tests.helpers import (
    ADMIN_UUID,
    ALICE_UUID,
    BACKUP_OF_ALICE,
    BACKUP_ON_DISABLED_ONLY,
    BACKUP_WITH_METADATA,
    BOB_UUID,
    BS_DISABLED,
    BS_DISCONNECTED,
    BS_READY,
    CREATE_PATH,
    EXISTING_IMAGE,
    JSON,
    TAG_OF_ALICE,
    TAG_PRODUCTION,
    assert_plain_text,
    assert_zstack_error,
    auth,
    create,
    login,
)

VALIDATOR = "org.zstack.header.message.ApiMessageParamValidator"
MESSAGE = "org.zstack.header.storage.volume.backup.APICreateRootVolumeTemplateFromVolumeBackupMsg"
UUID_REGEX = "[0-9a-f]{8}[0-9a-f]{4}[1-5][0-9a-f]{3}[89ab][0-9a-f]{3}[0-9a-f]{12}"
UNKNOWN = "0123456789ab4def8123456789abcdef"
UNKNOWN_2 = "fedcba9876544321a123456789abcdef"
FREE_UUID = "3f2504e04f8941d39a0c0305e82c3301"


def mandatory(field: str) -> str:
    return f"field[{field}] of message[{VALIDATOR}] is mandatory, can not be null"


def too_long(field: str, limit: int, actual: int) -> str:
    return f"field[{field}] of message[{VALIDATOR}] exceeds max length of string. expected was <= {limit}, actual was {actual}"


def not_a_boolean(field: str, text: str) -> str:
    return f"Invalid value for boolean field [{field}], [{text}] is not a valid boolean string[true, false]."


def not_found(field: str, uuid: str, kind: str) -> str:
    return f"invalid field[{field}], resource[uuid:{uuid}, type:{kind}] not found"


def invalid_uuid(value: str) -> str:
    return (
        f"resourceUuid[{value}] is not a valid uuid. A valid uuid is a UUID(v4 recommended) with '-' stripped. "
        "see http://en.wikipedia.org/wiki/Universally_unique_identifier for format of UUID, the regular "
        f"expression uses to validate a UUID is '{UUID_REGEX}'"
    )


def denied(resource: str, kind: str, owner_name: str, owner_uuid: str, account: str) -> str:
    return (
        f"operation denied. The resource[uuid: {resource}, type: {kind},ownerAccountName:{owner_name}, "
        f"ownerAccountUuid:{owner_uuid}] doesn't belong to the account[uuid: {account}]"
    )


PLATFORM_FOO = (
    f"valid value for field[platform] of message[{VALIDATOR}] are "
    "[Linux, Windows, Other, Paravirtualization, WindowsVirtio], but Foo found"
)
ARCHITECTURE_SPARC = (
    f"valid value for field[architecture] of message[{VALIDATOR}] are "
    "[x86_64, aarch64, mips64el, loongarch64], but sparc found"
)


@pytest.fixture(autouse=True)
def _no_server_errors(client: TestClient) -> Iterator[None]:
    """No response in this module may be a 500 or the simulator's own "unexpected error" reply."""

    def check(response: httpx.Response) -> None:
        response.read()
        assert response.status_code != 500, response.text
        assert "zstack-mock hit an unexpected" not in response.text, response.text

    client.event_hooks["response"].append(check)
    yield
    client.event_hooks["response"].remove(check)


def post_raw(client: TestClient, session: str, content: bytes, **headers: str) -> httpx.Response:
    return client.post(
        CREATE_PATH.format(BACKUP_WITH_METADATA), content=content, headers={**auth(session), **headers}
    )


def owner_of(client: TestClient, image_uuid: str) -> str:
    """The owning account of an image, read from the store (no query API exposes it)."""
    app = cast(FastAPI, client.app)
    image = app.state.server.store.get(Image, uuid=image_uuid)
    assert image is not None
    return str(image.account_uuid)


def valid_params(**params: Any) -> dict[str, Any]:
    return {"backupStorageUuid": BS_READY, "name": "template", **params}


# --- REST layer: Authorization header and body (plain text) ---


def test_create_without_authorization_is_a_400(client: TestClient) -> None:
    response = client.post(
        CREATE_PATH.format(BACKUP_WITH_METADATA), json={"params": valid_params()}, headers=JSON
    )

    assert_plain_text(response, 400, "missing header 'Authorization'")


@pytest.mark.parametrize(
    ("header", "text"),
    [
        ("Basic x", "Authorization type must be 'OAuth'"),
        ("Bearer 0123", "Authorization type must be 'OAuth'"),
        ("ZStack abc", "accessKeyId format is 'ZStack AccessKeyId:Signature'"),
        ("ZStack a:b:c", "accessKeyId format is 'ZStack AccessKeyId:Signature'"),
    ],
)
def test_create_with_malformed_authorization_is_a_400__scheme(
    client: TestClient, header: str, text: str
) -> None:
    response = client.post(
        CREATE_PATH.format(BACKUP_WITH_METADATA),
        json={"params": valid_params()},
        headers={**JSON, "Authorization": header},
    )

    assert_plain_text(response, 400, text)


def test_create_with_body_not_an_object_is_a_400(client: TestClient) -> None:
    response = post_raw(client, login(client), b"[]")

    assert_plain_text(response, 400, "the request body must be a JSON object, but it is a JSON array")


def test_create_with_body_not_json_is_a_400(client: TestClient) -> None:
    response = post_raw(client, login(client), b"not json")

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith("the request body is not valid JSON")


def test_create_with_text_content_type_is_a_400(client: TestClient) -> None:
    response = post_raw(client, login(client), b'{"params": {}}', **{"Content-Type": "text/plain"})

    assert_plain_text(
        response, 400, "unsupported Content-Type [text/plain]: the request body must be application/json"
    )


def test_create_with_body_over_one_mib_is_a_413(client: TestClient) -> None:
    body = b'{"params": {"name": "' + b"a" * (1024 * 1024) + b'"}}'

    response = post_raw(client, login(client), body)

    assert_plain_text(response, 413, "the request body exceeds the limit of 1048576 bytes")


def test_create_with_body_over_one_mib_is_a_413__chunked_without_content_length(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"params": {"name": "'
        for _ in range(17):
            yield b"a" * 65536
        yield b'"}}'

    response = client.post(
        CREATE_PATH.format(BACKUP_WITH_METADATA), content=chunks(), headers=auth(login(client))
    )

    assert "content-length" not in response.request.headers
    assert_plain_text(response, 413, "the request body exceeds the limit of 1048576 bytes")


def test_unknown_path_is_a_404_in_plain_text(client: TestClient) -> None:
    response = client.post("/zstack/v1/images/root-volume-templates/from/nowhere", json={}, headers=JSON)

    assert_plain_text(response, 404, "no api mapping to /v1/images/root-volume-templates/from/nowhere")


# --- SYSTEM: parameter types, required fields, lengths, valid values ---


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"params": {"backupStorageUuid": BS_READY}}, "name"),
        ({"params": {"name": "template"}}, "backupStorageUuid"),
        ({"systemTags": []}, "name"),
        ({"params": None}, "name"),
        ({}, "name"),
    ],
    ids=["name", "backupStorageUuid", "no-params", "null-params", "empty-object"],
)
def test_create_without_a_required_field_is_sys_1007(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    response = create(client, login(client), body=body)

    assert_zstack_error(response, "SYS.1007", mandatory(field))


def test_create_with_empty_body_is_sys_1007_for_name(client: TestClient) -> None:
    response = post_raw(client, login(client), b"")

    assert_zstack_error(response, "SYS.1007", mandatory("name"))


def test_create_with_name_over_255_chars_is_sys_1007(client: TestClient) -> None:
    response = create(client, login(client), name="n" * 256)

    assert_zstack_error(response, "SYS.1007", too_long("name", 255, 256))


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("n" * 255, "n" * 255),
        ("", ""),
        ("  web  ", "web"),
        ("\tweb\n", "web"),
        ("   " + "n" * 255 + "  ", "n" * 255),
    ],
    ids=["255-chars", "empty", "spaces", "tab-newline", "255-chars-padded"],
)
def test_create_accepts_name__trimmed_before_the_length_check(
    client: TestClient, name: str, stored: str
) -> None:
    response = create(client, login(client), name=name)

    assert response.status_code == 200, response.text
    assert response.json()["inventory"]["name"] == stored


def test_create_with_description_over_2048_chars_is_sys_1007(client: TestClient) -> None:
    response = create(client, login(client), description="d" * 2049)

    assert_zstack_error(response, "SYS.1007", too_long("description", 2048, 2049))


def test_create_with_description_of_2048_chars_is_accepted(client: TestClient) -> None:
    response = create(client, login(client), description="d" * 2048)

    assert response.status_code == 200, response.text
    assert response.json()["inventory"]["description"] == "d" * 2048


@pytest.mark.parametrize(
    ("params", "details"),
    [({"platform": "Foo"}, PLATFORM_FOO), ({"architecture": "sparc"}, ARCHITECTURE_SPARC)],
    ids=["platform", "architecture"],
)
def test_create_with_value_outside_valid_values_is_sys_1007(
    client: TestClient, params: dict[str, Any], details: str
) -> None:
    response = create(client, login(client), **params)

    assert_zstack_error(response, "SYS.1007", details)


@pytest.mark.parametrize(
    ("field", "value", "text"),
    [("system", "yes", "yes"), ("virtio", 1, "1"), ("system", "", ""), ("virtio", [True], "[true]")],
)
def test_create_with_non_boolean_flag_is_sys_1007(
    client: TestClient, field: str, value: Any, text: str
) -> None:
    response = create(client, login(client), **{field: value})

    assert_zstack_error(response, "SYS.1007", not_a_boolean(field, text))


@pytest.mark.parametrize(
    ("value", "expected"), [("TRUE", True), ("True", True), ("false", False), (True, True)]
)
def test_create_accepts_boolean_strings_case_blind(client: TestClient, value: Any, expected: bool) -> None:
    response = create(client, login(client), system=value, virtio=value)

    assert response.status_code == 200, response.text
    image = response.json()["inventory"]
    assert (image["system"], image["virtio"]) == (expected, expected)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"params": valid_params(name=123)}, "[name]"),
        ({"params": valid_params(name={"a": 1})}, "[name]"),
        ({"params": valid_params(backupStorageUuid=["x"])}, "[backupStorageUuid]"),
        ({"params": valid_params(tagUuids="x")}, "[tagUuids]"),
        ({"params": valid_params(tagUuids=[1])}, "[tagUuids]"),
        ({"params": valid_params(), "systemTags": "qemuga"}, "[systemTags]"),
        ({"params": []}, "[params]"),
        ({"params": "x"}, "[params]"),
    ],
    ids=[
        "name-number",
        "name-object",
        "bs-list",
        "tags-string",
        "tags-numbers",
        "systemTags-string",
        "params-array",
        "params-string",
    ],
)
def test_create_with_wrong_json_type_is_sys_1007(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    response = create(client, login(client), body=body)

    error = assert_zstack_error(response, "SYS.1007")
    assert field in error["details"]


# --- SYSTEM: resource existence ---


def test_create_from_unknown_backup_is_sys_1003(client: TestClient) -> None:
    response = create(client, login(client), UNKNOWN)

    assert_zstack_error(response, "SYS.1003", not_found("backupUuid", UNKNOWN, "VolumeBackupVO"))


def test_create_on_unknown_backup_storage_is_sys_1003(client: TestClient) -> None:
    response = create(client, login(client), backupStorageUuid=UNKNOWN)

    assert_zstack_error(response, "SYS.1003", not_found("backupStorageUuid", UNKNOWN, "BackupStorageVO"))


def test_create_with_unknown_tags_is_sys_1003(client: TestClient) -> None:
    response = create(client, login(client), tagUuids=[UNKNOWN, UNKNOWN_2])

    assert_zstack_error(
        response,
        "SYS.1003",
        f"invalid field[tagUuids], resource[uuids:[{UNKNOWN}, {UNKNOWN_2}], type:TagPatternVO] not found",
    )


def test_create_with_unknown_tags_is_sys_1003__lists_only_the_missing(client: TestClient) -> None:
    response = create(client, login(client), tagUuids=[TAG_PRODUCTION, UNKNOWN])

    assert_zstack_error(
        response,
        "SYS.1003",
        f"invalid field[tagUuids], resource[uuids:[{UNKNOWN}], type:TagPatternVO] not found",
    )


def test_create_with_empty_tag_list_is_accepted(client: TestClient) -> None:
    response = create(client, login(client), tagUuids=[])

    assert response.status_code == 200, response.text


def test_create_with_known_tags_is_accepted(client: TestClient) -> None:
    response = create(client, login(client), tagUuids=[TAG_PRODUCTION])

    assert response.status_code == 200, response.text


def test_create_with_a_tag_listed_twice_is_accepted(client: TestClient) -> None:
    response = create(client, login(client), tagUuids=[TAG_PRODUCTION, TAG_PRODUCTION])

    assert response.status_code == 200, response.text


def test_create_with_literal_path_template_is_sys_1003_that_says_so(client: TestClient) -> None:
    response = create(client, login(client), "{backupUuid}")

    assert "%7BbackupUuid%7D" in str(response.request.url)
    error = assert_zstack_error(response, "SYS.1003")
    assert error["details"].startswith(not_found("backupUuid", "{backupUuid}", "VolumeBackupVO"))
    assert "was not substituted" in error["details"]


def test_create_takes_backup_uuid_from_the_path_not_from_params(client: TestClient) -> None:
    response = create(client, login(client), UNKNOWN, backupUuid=BACKUP_WITH_METADATA)

    assert_zstack_error(response, "SYS.1003", not_found("backupUuid", UNKNOWN, "VolumeBackupVO"))


# --- the order of checks ---


@pytest.mark.parametrize(
    ("backup", "body", "code", "details"),
    [
        (
            UNKNOWN,
            {"params": {"backupStorageUuid": BS_READY}},
            "SYS.1003",
            not_found("backupUuid", UNKNOWN, "VolumeBackupVO"),
        ),
        (
            BACKUP_WITH_METADATA,
            {"params": {"backupStorageUuid": BS_READY, "platform": "Foo"}},
            "SYS.1007",
            PLATFORM_FOO,
        ),
        (
            BACKUP_WITH_METADATA,
            {"params": {"description": "d" * 2049, "platform": "Foo"}},
            "SYS.1007",
            too_long("description", 2048, 2049),
        ),
        (
            BACKUP_WITH_METADATA,
            {"params": {"tagUuids": [UNKNOWN]}},
            "SYS.1003",
            f"invalid field[tagUuids], resource[uuids:[{UNKNOWN}], type:TagPatternVO] not found",
        ),
        (
            BACKUP_WITH_METADATA,
            {"params": {"name": "t", "backupStorageUuid": UNKNOWN, "architecture": "sparc"}},
            "SYS.1003",
            not_found("backupStorageUuid", UNKNOWN, "BackupStorageVO"),
        ),
        (UNKNOWN, {"params": valid_params(virtio="x")}, "SYS.1007", not_a_boolean("virtio", "x")),
        (UNKNOWN, {"params": valid_params(system="yes")}, "SYS.1007", not_a_boolean("system", "yes")),
        (
            UNKNOWN,
            {"params": valid_params(name=123)},
            "SYS.1007",
            "Invalid value for string field [name], [123] is a JSON number, not a string.",
        ),
    ],
    ids=[
        "backupUuid-before-name",
        "platform-before-name",
        "description-before-platform",
        "tagUuids-before-name",
        "backupStorageUuid-before-architecture",
        "virtio-type-before-backup",
        "system-type-before-backup",
        "name-type-before-backup",
    ],
)
def test_create_reports_the_first_failure_in_zstack_order(
    client: TestClient, backup: str, body: dict[str, Any], code: str, details: str
) -> None:
    response = create(client, login(client), backup, body=body)

    assert_zstack_error(response, code, details)


def test_create_checks_parameters_before_the_session(client: TestClient) -> None:
    response = create(client, UNKNOWN, body={"params": {"backupStorageUuid": BS_READY}})

    assert_zstack_error(response, "SYS.1007", mandatory("name"))


def test_create_with_unknown_session_is_id_1001(client: TestClient) -> None:
    response = create(client, UNKNOWN)

    assert_zstack_error(response, "ID.1001", "Session expired")


def test_create_checks_the_session_before_resource_uuid_format(client: TestClient) -> None:
    response = create(client, UNKNOWN, resourceUuid="not-a-uuid")

    assert_zstack_error(response, "ID.1001", "Session expired")


def test_create_checks_storage_state_before_system_tags(client: TestClient) -> None:
    response = create(
        client, login(client), BACKUP_ON_DISABLED_ONLY, backupStorageUuid=BS_DISABLED, systemTags=["bogus"]
    )

    assert_zstack_error(
        response,
        "SYS.1006",
        f"current backup storage state[Disabled] doesn't allow to proceed message[{MESSAGE}], "
        "allowed states are [Enabled]",
    )


# --- FRONT: resourceUuid ---


@pytest.mark.parametrize(
    "value",
    [
        "not-a-uuid",
        FREE_UUID.upper(),
        "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
        "3f2504e04f8901d39a0c0305e82c3301",
        "3f2504e04f8941d3ca0c0305e82c3301",
        FREE_UUID[:-1],
    ],
    ids=["text", "upper-case", "dashed", "version-0", "variant-c", "31-chars"],
)
def test_create_with_invalid_resource_uuid_is_sys_1007(client: TestClient, value: str) -> None:
    response = create(client, login(client), resourceUuid=value)

    error = assert_zstack_error(response, "SYS.1007", invalid_uuid(value))
    assert error["details"].startswith(f"resourceUuid[{value}] is not a valid uuid.")


def test_create_with_resource_uuid_uses_it_as_the_image_uuid(client: TestClient) -> None:
    response = create(client, login(client), resourceUuid=FREE_UUID)

    assert response.status_code == 200, response.text
    image = response.json()["inventory"]
    assert image["uuid"] == FREE_UUID
    assert image["backupStorageRefs"][0]["imageUuid"] == FREE_UUID


def test_create_with_resource_uuid_already_used_is_sys_1000(client: TestClient) -> None:
    session = login(client)
    assert create(client, session, resourceUuid=FREE_UUID).status_code == 200

    response = create(client, session, resourceUuid=FREE_UUID)

    assert_zstack_error(
        response,
        "SYS.1000",
        f"resource uuid[{FREE_UUID}] conflicts with an existing resource: a resourceUuid must not be used by any "
        "other resource",
    )


@pytest.mark.parametrize(
    "taken",
    [EXISTING_IMAGE, BACKUP_WITH_METADATA, BS_READY, TAG_PRODUCTION, ADMIN_UUID],
    ids=["image", "backup", "backup-storage", "tag", "account"],
)
def test_create_with_resource_uuid_of_a_fixture_resource_is_sys_1000(client: TestClient, taken: str) -> None:
    response = create(client, login(client), resourceUuid=taken)

    error = assert_zstack_error(response, "SYS.1000")
    assert error["details"].startswith(f"resource uuid[{taken}] conflicts with an existing resource")


def test_create_that_fails_does_not_use_up_its_resource_uuid(client: TestClient) -> None:
    session = login(client)
    failed = create(client, session, backupStorageUuid=BS_DISCONNECTED, resourceUuid=FREE_UUID)
    assert_zstack_error(failed, "SYS.1002")

    response = create(client, session, resourceUuid=FREE_UUID)

    assert response.status_code == 200, response.text


# --- FRONT/END and the handler: backup storage and system tags ---


def test_create_on_disabled_backup_storage_is_sys_1006(client: TestClient) -> None:
    response = create(client, login(client), BACKUP_ON_DISABLED_ONLY, backupStorageUuid=BS_DISABLED)

    assert_zstack_error(
        response,
        "SYS.1006",
        f"current backup storage state[Disabled] doesn't allow to proceed message[{MESSAGE}], "
        "allowed states are [Enabled]",
    )


def test_create_on_storage_without_the_backup_is_sys_1006(client: TestClient) -> None:
    response = create(client, login(client), BACKUP_ON_DISABLED_ONLY, backupStorageUuid=BS_READY)

    assert_zstack_error(
        response,
        "SYS.1006",
        f"Volume backup[uuid:{BACKUP_ON_DISABLED_ONLY}] not found on backup storage[uuid:{BS_READY}]",
    )


def test_create_on_disconnected_storage_is_sys_1002_caused_by_sys_1006(client: TestClient) -> None:
    response = create(
        client, login(client), BACKUP_WITH_METADATA, backupStorageUuid=BS_DISCONNECTED, name="web"
    )

    error = assert_zstack_error(
        response, "SYS.1002", f"Failed to download image[name:web] on all backup storage[{BS_DISCONNECTED}]."
    )
    assert error["description"] == "Unable to create a resource"
    cause = error["cause"]
    assert cause["code"] == "SYS.1006"
    assert cause["description"] == "An operation failed"
    assert cause["details"] == (
        "backup storage cannot proceed message[org.zstack.header.image.DownloadImageMsg] because its status is "
        "Disconnected"
    )


def test_create_with_unknown_system_tag_is_sys_1007(client: TestClient) -> None:
    response = create(client, login(client), body={"params": valid_params(), "systemTags": ["bogus"]})

    assert_zstack_error(response, "SYS.1007", "no system tag matches bogus")


def test_create_with_unknown_system_tag_is_sys_1007__inside_params(client: TestClient) -> None:
    response = create(client, login(client), systemTags=["qemuga", "bogus"])

    assert_zstack_error(response, "SYS.1007", "no system tag matches bogus")


def test_create_with_unknown_system_tag_is_sys_1007__ephemeral_checked_beside_a_normal_tag(
    client: TestClient,
) -> None:
    """TagManagerImpl skips the check only when every tag is ephemeral; otherwise it checks them all, in order."""
    response = create(client, login(client), systemTags=["ephemeral::x", "qemuga"])

    assert_zstack_error(response, "SYS.1007", "no system tag matches ephemeral::x")


@pytest.mark.parametrize(
    "tags",
    [["qemuga", "bootMode::UEFI"], ["ephemeral::x"], ["ephemeral::x", "ephemeral::y"], []],
    ids=["known", "ephemeral", "ephemerals", "empty"],
)
def test_create_with_acceptable_system_tags_is_accepted(client: TestClient, tags: list[str]) -> None:
    response = create(client, login(client), body={"params": valid_params(), "systemTags": tags})

    assert response.status_code == 200, response.text


def test_create_takes_top_level_system_tags_over_params(client: TestClient) -> None:
    session = login(client)

    accepted = create(
        client, session, body={"params": valid_params(systemTags=["bogus"]), "systemTags": ["qemuga"]}
    )
    rejected = create(
        client, session, body={"params": valid_params(systemTags=["qemuga"]), "systemTags": ["oops"]}
    )

    assert accepted.status_code == 200, accepted.text
    assert_zstack_error(rejected, "SYS.1007", "no system tag matches oops")


# --- ownership ---


def test_create_by_normal_account_from_its_own_backup_is_owned_by_it(client: TestClient) -> None:
    response = create(client, login(client, "alice"), BACKUP_OF_ALICE, tagUuids=[TAG_OF_ALICE])

    assert response.status_code == 200, response.text
    assert owner_of(client, response.json()["inventory"]["uuid"]) == ALICE_UUID


def test_create_by_admin_from_another_accounts_backup_is_owned_by_admin(client: TestClient) -> None:
    response = create(client, login(client), BACKUP_OF_ALICE, tagUuids=[TAG_OF_ALICE])

    assert response.status_code == 200, response.text
    assert owner_of(client, response.json()["inventory"]["uuid"]) == ADMIN_UUID


@pytest.mark.parametrize(
    ("account", "backup", "details"),
    [
        (
            "alice",
            BACKUP_WITH_METADATA,
            denied(BACKUP_WITH_METADATA, "VolumeBackupVO", "admin", ADMIN_UUID, ALICE_UUID),
        ),
        ("bob", BACKUP_OF_ALICE, denied(BACKUP_OF_ALICE, "VolumeBackupVO", "alice", ALICE_UUID, BOB_UUID)),
    ],
    ids=["alice-uses-admins", "bob-uses-alices"],
)
def test_create_from_another_accounts_backup_is_id_1002(
    client: TestClient, account: str, backup: str, details: str
) -> None:
    response = create(client, login(client, account), backup)

    assert_zstack_error(response, "ID.1002", details)


def test_create_with_another_accounts_tag_is_id_1002(client: TestClient) -> None:
    response = create(
        client, login(client, "alice"), BACKUP_OF_ALICE, tagUuids=[TAG_OF_ALICE, TAG_PRODUCTION]
    )

    assert_zstack_error(
        response, "ID.1002", denied(TAG_PRODUCTION, "TagPatternVO", "admin", ADMIN_UUID, ALICE_UUID)
    )
