"""Query list and by-uuid endpoints: fixture contents, reply shape, schema map (docs/behaviour.md, "Queries")."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from app.zstack.timefmt import java_date
from tests.helpers import BACKUP_NO_METADATA, BACKUP_WITH_METADATA, BS_DISCONNECTED, BS_READY
from tests.query.support import (
    ALL_BACKUPS,
    ALL_IMAGES,
    ALL_STORAGES,
    BACKUP_CLASS,
    BACKUP_REF_CLASS,
    BACKUP_STORAGE,
    IMAGE_CENTOS,
    IMAGE_CLASS,
    IMAGE_REF_CLASS,
    IMAGE_STORE,
    IMAGES,
    STORAGE_CLASS,
    VOLUME_BACKUPS,
    get_ok,
    uuids,
)

LISTS = [
    pytest.param(IMAGES, ALL_IMAGES, id="images"),
    pytest.param(VOLUME_BACKUPS, ALL_BACKUPS, id="volume-backups"),
    pytest.param(BACKUP_STORAGE, ALL_STORAGES, id="backup-storage"),
    pytest.param(IMAGE_STORE, ALL_STORAGES, id="image-store"),
]
NO_SUCH_UUID = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(("path", "expected"), LISTS)
def test_list_returns_the_fixture_inventory(
    client: TestClient, admin: dict[str, str], path: str, expected: list[str]
) -> None:
    body = get_ok(client, path, admin)
    assert [inv["uuid"] for inv in body["inventories"]] == expected
    assert "total" not in body
    assert list(body) == ["schema", "inventories"]  # a java.util.HashMap's order, as RestServer writes it


def test_list_schema__parents_first_as_json_schema_builder_writes_it(client: TestClient, admin: dict[str, str]) -> None:
    """JsonSchemaBuilder records each object after its children, then reverses the list: parents come
    first (the Java SDK needs them first), and the last inventory first."""
    schema = get_ok(client, IMAGES, admin)["schema"]
    expected = []
    for i in reversed(range(3)):
        expected += [
            (f"inventories[{i}]", IMAGE_CLASS),
            (f"inventories[{i}].backupStorageRefs[0]", IMAGE_REF_CLASS),
        ]
    assert list(schema.items()) == expected


def test_list_schema__volume_backups_with_two_refs(client: TestClient, admin: dict[str, str]) -> None:
    body = get_ok(client, f"{VOLUME_BACKUPS}/{BACKUP_WITH_METADATA}", admin)
    assert list(body["schema"].items()) == [
        ("inventories[0]", BACKUP_CLASS),
        ("inventories[0].backupStorageRefs[1]", BACKUP_REF_CLASS),
        ("inventories[0].backupStorageRefs[0]", BACKUP_REF_CLASS),
    ]


@pytest.mark.parametrize("path", [BACKUP_STORAGE, IMAGE_STORE])
def test_list_schema__backup_storages(client: TestClient, admin: dict[str, str], path: str) -> None:
    schema = get_ok(client, path, admin)["schema"]
    assert schema == {f"inventories[{i}]": STORAGE_CLASS for i in range(3)}


@pytest.mark.parametrize(("path", "expected"), LISTS)
def test_list_schema__empty_when_no_results(
    client: TestClient, admin: dict[str, str], path: str, expected: list[str]
) -> None:
    assert get_ok(client, path, admin, {"q": f"uuid={NO_SUCH_UUID}"}) == {"inventories": [], "schema": {}}


@pytest.mark.parametrize(("path", "expected"), LISTS)
def test_get_by_uuid_returns_one_inventory(
    client: TestClient, admin: dict[str, str], path: str, expected: list[str]
) -> None:
    target = expected[1]
    body = get_ok(client, f"{path}/{target}", admin)
    assert list(body) == ["schema", "inventories"]
    assert [inv["uuid"] for inv in body["inventories"]] == [target]
    listed = next(inv for inv in get_ok(client, path, admin)["inventories"] if inv["uuid"] == target)
    assert body["inventories"][0] == listed


@pytest.mark.parametrize(("path", "expected"), LISTS)
def test_get_by_uuid__unknown_is_empty_200(
    client: TestClient, admin: dict[str, str], path: str, expected: list[str]
) -> None:
    assert get_ok(client, f"{path}/{NO_SUCH_UUID}", admin) == {"inventories": [], "schema": {}}


def test_get_by_uuid__image_store_path_is_not_a_uuid(client: TestClient, admin: dict[str, str]) -> None:
    assert uuids(client, IMAGE_STORE, admin) == ALL_STORAGES
    assert uuids(client, f"{IMAGE_STORE}/{BS_DISCONNECTED}", admin) == [BS_DISCONNECTED]


def test_get_by_uuid__ignores_other_parameters(client: TestClient, admin: dict[str, str]) -> None:
    """RestServer.handleQueryApi answers GET /xxx/{uuid} at once, without reading the query string."""
    body = get_ok(
        client, f"{IMAGES}/{IMAGE_CENTOS}", admin, {"fields": "uuid", "limit": "abc", "q": "name=x"}
    )
    assert [inv["uuid"] for inv in body["inventories"]] == [IMAGE_CENTOS]
    assert "backupStorageRefs" in body["inventories"][0]


def test_image_inventory_fields(client: TestClient, admin: dict[str, str]) -> None:
    image = get_ok(client, f"{IMAGES}/{IMAGE_CENTOS}", admin)["inventories"][0]
    assert {k: v for k, v in image.items() if k not in ("createDate", "lastOpDate", "backupStorageRefs")} == {
        "uuid": IMAGE_CENTOS,
        "name": "centos-7-template",
        "description": "CentOS 7.9 root volume template",
        "state": "Enabled",
        "status": "Ready",
        "size": 21474836480,
        "actualSize": 1503238553,
        "md5Sum": "1b2cf8c3a41f0e4c0f2a1c5b9d7e6f30",
        "mediaType": "RootVolumeTemplate",
        "guestOsType": "CentOS 7",
        "type": "zstack",
        "platform": "Linux",
        "architecture": "x86_64",
        "format": "qcow2",
        "system": False,
        "virtio": True,
    }
    assert image["createDate"] == java_date(datetime(2024, 3, 1, 8, 0, 0, tzinfo=UTC))
    [ref] = image["backupStorageRefs"]
    assert ref["imageUuid"] == IMAGE_CENTOS
    assert ref["backupStorageUuid"] == BS_READY
    assert ref["installPath"] == (
        "zstore://74b721499872407893b890a9df8e912e/3c5e7a9b1d2f4e6a8c0b2d4f6a8c0e2b"
    )
    assert isinstance(ref["id"], int)


def test_volume_backup_inventory__metadata_is_a_json_string(
    client: TestClient, admin: dict[str, str]
) -> None:
    backup = get_ok(client, f"{VOLUME_BACKUPS}/{BACKUP_WITH_METADATA}", admin)["inventories"][0]
    assert isinstance(backup["metadata"], str)
    metadata = json.loads(backup["metadata"])
    assert metadata["platform"] == "Linux"
    assert metadata["guestOsType"] == "CentOS 7"
    assert metadata["virtio"] is True
    assert backup["mode"] == "full"
    assert backup["type"] == "Root"
    assert backup["size"] == 21474836480
    assert backup["hypervisorType"] == "KVM"


def test_volume_backup_inventory__no_metadata_omits_the_key(
    client: TestClient, admin: dict[str, str]
) -> None:
    backup = get_ok(client, f"{VOLUME_BACKUPS}/{BACKUP_NO_METADATA}", admin)["inventories"][0]
    assert "metadata" not in backup
    assert backup["mode"] == "incremental"


def test_volume_backup_inventory__backup_storage_refs(client: TestClient, admin: dict[str, str]) -> None:
    backup = get_ok(client, f"{VOLUME_BACKUPS}/{BACKUP_WITH_METADATA}", admin)["inventories"][0]
    refs = backup["backupStorageRefs"]
    assert {ref["backupStorageUuid"] for ref in refs} == {BS_READY, BS_DISCONNECTED}
    for ref in refs:
        assert set(ref) == {
            "volumeBackupUuid",
            "backupStorageUuid",
            "installPath",
            "status",
            "createDate",
            "lastOpDate",
        }
        assert ref["volumeBackupUuid"] == BACKUP_WITH_METADATA
        assert ref["installPath"] == "zstore://volume-backups/4f1f0d8c1a2b4c3d9e8f7a6b5c4d3e2f"
        assert ref["status"] == "Ready"


@pytest.mark.parametrize("path", [BACKUP_STORAGE, IMAGE_STORE])
def test_backup_storage_inventory_fields(client: TestClient, admin: dict[str, str], path: str) -> None:
    storage = get_ok(client, f"{path}/{BS_READY}", admin)["inventories"][0]
    assert storage["name"] == "imagestore-ready"
    assert storage["type"] == "ImageStoreBackupStorage"
    assert storage["state"] == "Enabled"
    assert storage["status"] == "Connected"
    assert storage["url"] == "/zstack_bs"
    assert storage["hostname"] == "192.0.2.10"
    assert storage["username"] == "root"
    assert storage["sshPort"] == 22
    assert storage["totalCapacity"] == 4398046511104
    assert storage["availableCapacity"] == 3298534883328
    assert storage["attachedZoneUuids"] == ["a2c20bf4bfd74d918a6f1b464ef84211"]
    assert "password" not in storage
