"""The query APIs, through HTTP: ZStack's q= syntax, paging, counting, fields, schema, visibility."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import (
    BACKUP_OF_ALICE,
    BACKUP_WITH_METADATA,
    BS_DISABLED,
    BS_READY,
    EXISTING_IMAGE,
    assert_plain_text,
    assert_zstack_error,
    create,
    login,
)

ALICE_IMAGE = "7a0f0948e3b64af2949319456c4f74cd"
ISO_IMAGE = "d74da5a8b2094926a9c330f195fba046"
VALID_OPERATORS = "[!=, >=, <=, !?=, !~=, ~=, ?=, =, >, <, is null, not null]"


def get(client: TestClient, path: str, session: str, query: str = "") -> Any:
    return client.get(f"/zstack/v1/{path}" + (f"?{query}" if query else ""), headers={"Authorization": f"OAuth {session}"})


def uuids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["uuid"] for item in response.json()["inventories"]]


@pytest.fixture
def admin(client: TestClient) -> str:
    return login(client)


@pytest.mark.parametrize(
    ("path", "count"),
    [("images", 3), ("volume-backups", 5), ("backup-storage", 3), ("backup-storage/image-store", 3)],
)
def test_lists_return_the_fixture_inventory(client: TestClient, admin: str, path: str, count: int) -> None:
    body = get(client, path, admin).json()
    assert len(body["inventories"]) == count
    assert "total" not in body
    assert len(body["schema"]) >= count


def test_schema_names_every_object_children_first(client: TestClient, admin: str) -> None:
    body = get(client, "images", admin, f"q=uuid={EXISTING_IMAGE}").json()
    assert list(body["schema"].items()) == [
        ("inventories[0].backupStorageRefs[0]", "org.zstack.header.image.ImageBackupStorageRefInventory"),
        ("inventories[0]", "org.zstack.header.image.ImageInventory"),
    ]


def test_by_uuid_answers_a_list_of_one__or_none_never_404(client: TestClient, admin: str) -> None:
    assert uuids(get(client, f"images/{EXISTING_IMAGE}", admin)) == [EXISTING_IMAGE]
    unknown = get(client, "images/00000000000040008000000000000000", admin)
    assert unknown.status_code == 200
    assert unknown.json() == {"inventories": [], "schema": {}}
    assert uuids(get(client, f"backup-storage/image-store/{BS_READY}", admin)) == [BS_READY]
    assert uuids(get(client, f"volume-backups/{BACKUP_WITH_METADATA}", admin)) == [BACKUP_WITH_METADATA]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=name=centos-7-template", {EXISTING_IMAGE}),
        ("q=mediaType!=ISO", {EXISTING_IMAGE, ALICE_IMAGE}),
        ("q=size>21474836480", {ALICE_IMAGE}),
        ("q=size<21474836480", {ISO_IMAGE}),
        ("q=size>=21474836480", {EXISTING_IMAGE, ALICE_IMAGE}),
        ("q=size<=21474836480", {EXISTING_IMAGE, ISO_IMAGE}),
        ("q=architecture?=aarch64,mips64el", {ALICE_IMAGE}),
        ("q=architecture!?=aarch64,mips64el", {EXISTING_IMAGE, ISO_IMAGE}),
        ("q=name~=%25template", {EXISTING_IMAGE, ALICE_IMAGE}),
        ("q=name!~=%25template", {ISO_IMAGE}),
        ("q=description%20is%20null", {ISO_IMAGE, ALICE_IMAGE}),
        ("q=description%20not%20null", {EXISTING_IMAGE}),
        ("q=platform=Linux&q=mediaType=RootVolumeTemplate&q=architecture=x86_64", {EXISTING_IMAGE}),
        ("q=system=false&q=virtio=true", {EXISTING_IMAGE}),
        (f"q=backupStorageRefs.backupStorageUuid={BS_READY}", {EXISTING_IMAGE, ISO_IMAGE, ALICE_IMAGE}),
        (f"q=backupStorage.uuid={BS_DISABLED}", set()),
        ("q=createDate>2024-03-01T12:00:00Z", {ISO_IMAGE, ALICE_IMAGE}),
        ("q=createDate<1709294400000", {EXISTING_IMAGE}),
    ],
)
def test_conditions(client: TestClient, admin: str, query: str, expected: set[str]) -> None:
    assert set(uuids(get(client, "images", admin, query))) == expected


def test_a_value_may_contain_the_operator(client: TestClient, admin: str) -> None:
    session = admin
    create(client, session, name="a=b")
    assert [i["name"] for i in get(client, "images", session, "q=name=a=b").json()["inventories"]] == ["a=b"]


def test_paging_and_sorting(client: TestClient, admin: str) -> None:
    assert uuids(get(client, "images", admin)) == [EXISTING_IMAGE, ISO_IMAGE, ALICE_IMAGE]  # creation order
    assert uuids(get(client, "images", admin, "sort=-createDate")) == [ALICE_IMAGE, ISO_IMAGE, EXISTING_IMAGE]
    assert uuids(get(client, "images", admin, "sort=%2Bsize")) == [ISO_IMAGE, EXISTING_IMAGE, ALICE_IMAGE]
    assert uuids(get(client, "images", admin, "sort=+size")) == [ISO_IMAGE, EXISTING_IMAGE, ALICE_IMAGE]
    assert uuids(get(client, "images", admin, "sort=-size&limit=1&start=1")) == [EXISTING_IMAGE]


def test_counting(client: TestClient, admin: str) -> None:
    assert get(client, "images", admin, "count=true&q=platform=Linux").json() == {"total": 3, "schema": {}}
    page = get(client, "images", admin, "replyWithCount=true&limit=1").json()
    assert page["total"] == 3
    assert len(page["inventories"]) == 1


def test_fields_selects_keys(client: TestClient, admin: str) -> None:
    body = get(client, "images", admin, "fields=uuid,name").json()
    assert all(set(item) == {"uuid", "name"} for item in body["inventories"])


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("q=platform", f"Invalid query parameter. The 'platform' in the parameter[q] doesn't contain any query "
                       f"operator. Valid query operators are {VALID_OPERATORS}"),
        ("q=name=", "Invalid query parameter. The 'name=' in parameter[q] is not a key-value pair split by ="),
        ("limit=abc", "Invalid query parameter. 'limit' must be an integer"),
        ("start=1.5", "Invalid query parameter. 'start' must be an integer"),
        ("fields=,", "Invalid query parameter. 'fields' contains zero field"),
    ],
)
def test_malformed_parameters_are_plain_text_400s(client: TestClient, admin: str, query: str, text: str) -> None:
    assert_plain_text(get(client, "images", admin, query), 400, text)


@pytest.mark.parametrize(
    ("query", "details_start"),
    [
        ("q=foo=1", "condition[foo] of QueryImage: ImageInventory has no queryable field [foo]; queryable fields"),
        ("sort=colour", "sortBy[colour] of QueryImage is not a field of ImageInventory"),
        ("q=size>big", "condition[size]: [big] is not an integer"),
        ("q=system=maybe", "condition[system]: [maybe] is not a boolean"),
        ("q=createDate>yesterday", "condition[createDate]: [yesterday] is not a date"),
        ("q=size~=1%25", "condition[size]: 'like' applies to text fields only"),
        ("fields=uuid,colour", "fields [colour] of QueryImage are not fields of ImageInventory"),
    ],
)
def test_bad_conditions_are_sys_1007(client: TestClient, admin: str, query: str, details_start: str) -> None:
    error = assert_zstack_error(get(client, "images", admin, query), "SYS.1007")
    assert error["details"].startswith(details_start), error["details"]


def test_queries_need_a_live_session(client: TestClient) -> None:
    assert_plain_text(client.get("/zstack/v1/images"), 400, "missing header 'Authorization'")
    assert_zstack_error(get(client, "images", "0123456789ab4def8123456789abcdef"), "ID.1001", "Session expired")


def test_unknown_parameters_are_ignored(client: TestClient, admin: str) -> None:
    assert len(uuids(get(client, "images", admin, "foo=bar&groupBy=x&filterName=y"))) == 3


@pytest.mark.parametrize("query", ["q=name=x' OR '1'='1", "q=name~=%25'; DROP TABLE image; --", "q=uuid?=a','b"])
def test_conditions_cannot_change_the_sql(client: TestClient, admin: str, query: str) -> None:
    assert uuids(get(client, "images", admin, query)) == []
    assert len(uuids(get(client, "images", admin))) == 3


def test_a_normal_account_sees_only_what_it_owns(client: TestClient) -> None:
    alice = login(client, "alice")
    assert uuids(get(client, "images", alice)) == [ALICE_IMAGE]
    assert uuids(get(client, "volume-backups", alice)) == [BACKUP_OF_ALICE]
    assert uuids(get(client, f"images/{EXISTING_IMAGE}", alice)) == []
    assert len(uuids(get(client, "backup-storage", alice))) == 3
    assert uuids(get(client, "images", login(client, "bob"))) == []


def test_created_images_are_listed_as_the_create_call_returned_them(client: TestClient, admin: str) -> None:
    created = create(client, admin, description="listed").json()["inventory"]
    (listed,) = get(client, f"images/{created['uuid']}", admin).json()["inventories"]
    assert listed == created
    assert created["uuid"] in uuids(get(client, "images", admin))
    alice = login(client, "alice")
    mine = create(client, alice, BACKUP_OF_ALICE).json()["inventory"]
    assert uuids(get(client, f"images/{mine['uuid']}", alice)) == [mine["uuid"]]
    assert uuids(get(client, f"images/{mine['uuid']}", login(client, "bob"))) == []


def test_volume_backup_and_backup_storage_inventories(client: TestClient, admin: str) -> None:
    (backup,) = get(client, f"volume-backups/{BACKUP_WITH_METADATA}", admin).json()["inventories"]
    assert json.loads(backup["metadata"])["platform"] == "Linux"
    assert {r["backupStorageUuid"] for r in backup["backupStorageRefs"]} == {BS_READY, "05b9749991f34b4a9d0d61a2fddaaf18"}
    assert set(backup["backupStorageRefs"][0]) == {
        "volumeBackupUuid", "backupStorageUuid", "installPath", "status", "createDate", "lastOpDate",
    }
    (storage,) = get(client, f"backup-storage/{BS_READY}", admin).json()["inventories"]
    assert storage["type"] == "ImageStoreBackupStorage"
    assert (storage["hostname"], storage["username"], storage["sshPort"]) == ("192.0.2.10", "root", 22)
    assert storage["attachedZoneUuids"] == ["a2c20bf4bfd74d918a6f1b464ef84211"]
