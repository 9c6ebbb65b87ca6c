"""Query conditions (`q=`): every operator, AND, nested fields, types, dates, injection (docs/behaviour.md, "Queries")."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.helpers import (
    BACKUP_NO_METADATA,
    BACKUP_ON_DISABLED_ONLY,
    BACKUP_WINDOWS,
    BACKUP_WITH_METADATA,
    BS_DISABLED,
    BS_DISCONNECTED,
    BS_READY,
    create,
    login,
)
from tests.query.support import (
    ALL_IMAGES,
    ALL_STORAGES,
    BACKUP_STORAGE,
    IMAGE_CENTOS,
    IMAGE_OF_ALICE,
    IMAGE_STORE,
    IMAGE_UBUNTU_ISO,
    IMAGES,
    VOLUME_BACKUPS,
    get_ok,
    images_where,
    uuids,
)

CENTOS, UBUNTU, ALICES = IMAGE_CENTOS, IMAGE_UBUNTU_ISO, IMAGE_OF_ALICE
CENTOS_SIZE = 21474836480  # UBUNTU is smaller, ALICES larger


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        pytest.param("name=ubuntu-22.04-iso", [UBUNTU], id="eq"),
        pytest.param("name!=ubuntu-22.04-iso", [CENTOS, ALICES], id="ne"),
        pytest.param(f"size>{CENTOS_SIZE}", [ALICES], id="gt"),
        pytest.param(f"size<{CENTOS_SIZE}", [UBUNTU], id="lt"),
        pytest.param(f"size>={CENTOS_SIZE}", [CENTOS, ALICES], id="ge"),
        pytest.param(f"size<={CENTOS_SIZE}", [CENTOS, UBUNTU], id="le"),
        pytest.param(f"uuid?={CENTOS},{ALICES}", [CENTOS, ALICES], id="in"),
        pytest.param("size?=1474873344,42949672960", [UBUNTU, ALICES], id="in-int"),
        pytest.param(f"uuid!?={CENTOS},{UBUNTU}", [ALICES], id="not-in"),
        pytest.param("name~=%template", [CENTOS, ALICES], id="like-percent"),
        pytest.param("name~=ubuntu-22.04_iso", [UBUNTU], id="like-underscore"),
        pytest.param("name~=centos", [], id="like-without-wildcard-is-whole"),
        pytest.param("name!~=%template", [UBUNTU], id="not-like"),
        pytest.param("description is null", [UBUNTU, ALICES], id="is-null"),
        pytest.param("description not null", [CENTOS], id="not-null"),
        pytest.param("virtio is null", [UBUNTU, ALICES], id="is-null-bool"),
    ],
)
def test_condition_operator(
    client: TestClient, admin: dict[str, str], condition: str, expected: list[str]
) -> None:
    assert images_where(client, admin, condition) == expected


def test_condition_operator__boundaries_distinguish_strict_and_inclusive(
    client: TestClient, admin: dict[str, str]
) -> None:
    assert images_where(client, admin, f"size>{CENTOS_SIZE - 1}") == [CENTOS, ALICES]
    assert images_where(client, admin, f"size>={CENTOS_SIZE + 1}") == [ALICES]
    assert images_where(client, admin, f"size<{CENTOS_SIZE + 1}") == [CENTOS, UBUNTU]
    assert images_where(client, admin, f"size<={CENTOS_SIZE - 1}") == [UBUNTU]


def test_conditions_are_anded(client: TestClient, admin: dict[str, str]) -> None:
    assert images_where(client, admin, "platform=Linux") == ALL_IMAGES
    assert images_where(client, admin, "platform=Linux", "architecture=x86_64") == [CENTOS, UBUNTU]
    assert images_where(client, admin, "platform=Linux", "architecture=x86_64", "mediaType=ISO") == [UBUNTU]
    assert images_where(client, admin, "mediaType=ISO", "architecture=aarch64") == []


def test_condition_value_may_contain_the_operator(client: TestClient, admin: dict[str, str]) -> None:
    response = create(client, login(client), name="a=b")
    assert response.status_code == 200, response.text
    created = response.json()["inventory"]["uuid"]
    assert images_where(client, admin, "name=a=b") == [created]
    assert images_where(client, admin, "name=a") == []
    assert images_where(client, admin, "name~=%=b") == [created]


def test_condition_name_is_trimmed_but_value_is_not(client: TestClient, admin: dict[str, str]) -> None:
    assert images_where(client, admin, "  name =ubuntu-22.04-iso") == [UBUNTU]
    assert images_where(client, admin, "name= ubuntu-22.04-iso") == []
    assert images_where(client, admin, "name=ubuntu-22.04-iso ") == []


def test_condition_nested__images_backup_storage_refs(client: TestClient, admin: dict[str, str]) -> None:
    assert images_where(client, admin, f"backupStorageRefs.backupStorageUuid={BS_READY}") == ALL_IMAGES
    assert images_where(client, admin, f"backupStorageRefs.backupStorageUuid={BS_DISABLED}") == []
    assert images_where(client, admin, "backupStorageRefs.installPath~=%3c5e7a9b%") == [CENTOS]


def test_condition_nested__alias_backup_storage_uuid(client: TestClient, admin: dict[str, str]) -> None:
    assert images_where(client, admin, f"backupStorage.uuid={BS_READY}") == ALL_IMAGES
    assert images_where(client, admin, f"backupStorage.uuid={BS_DISCONNECTED}") == []


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        pytest.param(
            f"backupStorageRefs.backupStorageUuid={BS_DISCONNECTED}", [BACKUP_WITH_METADATA], id="nested"
        ),
        pytest.param(f"backupStorage.uuid={BS_DISABLED}", [BACKUP_ON_DISABLED_ONLY], id="alias"),
        pytest.param(
            f"backupStorageRefs.backupStorageUuid?={BS_DISABLED},{BS_DISCONNECTED}",
            [BACKUP_WITH_METADATA, BACKUP_ON_DISABLED_ONLY],
            id="nested-in",
        ),
        pytest.param("mode=incremental", [BACKUP_NO_METADATA], id="mode"),
        pytest.param("metadata~=%WindowsVirtio%", [BACKUP_WINDOWS], id="metadata-like"),
        pytest.param("metadata is null", [BACKUP_NO_METADATA], id="metadata-null"),
    ],
)
def test_condition_on_volume_backups(
    client: TestClient, admin: dict[str, str], condition: str, expected: list[str]
) -> None:
    assert uuids(client, VOLUME_BACKUPS, admin, {"q": condition}) == expected


@pytest.mark.parametrize("path", [BACKUP_STORAGE, IMAGE_STORE])
@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        pytest.param("state=Disabled", [BS_DISABLED], id="state"),
        pytest.param("status!=Connected", [BS_DISCONNECTED], id="status"),
        pytest.param("availableCapacity>2000000000000", [BS_READY], id="capacity"),
        pytest.param("type=ImageStoreBackupStorage", ALL_STORAGES, id="type"),
    ],
)
def test_condition_on_backup_storages(
    client: TestClient, admin: dict[str, str], path: str, condition: str, expected: list[str]
) -> None:
    assert uuids(client, path, admin, {"q": condition}) == expected


def test_condition_on_image_store_fields(client: TestClient, admin: dict[str, str]) -> None:
    assert uuids(client, IMAGE_STORE, admin, {"q": "hostname=192.0.2.11"}) == [BS_DISABLED]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        pytest.param("system=false", ALL_IMAGES, id="system-false"),
        pytest.param("system=true", [], id="system-true"),
        pytest.param("virtio=true", [CENTOS], id="virtio-true"),
        pytest.param("system=FALSE", ALL_IMAGES, id="case-insensitive"),
    ],
)
def test_condition_bool(
    client: TestClient, admin: dict[str, str], condition: str, expected: list[str]
) -> None:
    assert images_where(client, admin, condition) == expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        pytest.param("createDate>2024-03-01T12:00:00Z", [UBUNTU, ALICES], id="iso-gt"),
        pytest.param("createDate<2024-03-01T12:00:00Z", [CENTOS], id="iso-lt"),
        pytest.param("createDate=2024-03-02T08:00:00Z", [UBUNTU], id="iso-eq"),
        pytest.param("createDate>=2024-03-02T08:00:00Z", [UBUNTU, ALICES], id="iso-ge"),
        pytest.param("createDate<2024-03-02T16:00:00+08:00", [CENTOS], id="iso-offset"),
        pytest.param("createDate>1709294400000", [UBUNTU, ALICES], id="epoch-millis-gt"),
        pytest.param("createDate=1709366400000", [UBUNTU], id="epoch-millis-eq"),
        pytest.param("createDate<=1709366400000", [CENTOS, UBUNTU], id="epoch-millis-le"),
        pytest.param("lastOpDate>2024-03-02T12:00:00Z", [ALICES], id="last-op-date"),
    ],
)
def test_condition_date(
    client: TestClient, admin: dict[str, str], condition: str, expected: list[str]
) -> None:
    assert images_where(client, admin, condition) == expected


@pytest.mark.parametrize(
    "condition",
    [
        pytest.param("name=x' OR '1'='1", id="quote-or"),
        pytest.param("name~=%'; DROP TABLE image; --", id="drop-table-like"),
        pytest.param("name=x'; DROP TABLE image; --", id="drop-table-eq"),
        pytest.param("name?=x') OR ('1'='1", id="in-paren"),
        pytest.param('name="x" OR 1=1', id="double-quote"),
    ],
)
def test_condition_injection_is_a_plain_value(
    client: TestClient, admin: dict[str, str], condition: str
) -> None:
    assert get_ok(client, IMAGES, admin, {"q": condition}) == {"inventories": [], "schema": {}}
    assert uuids(client, IMAGES, admin) == ALL_IMAGES
    assert get_ok(client, IMAGES, admin, {"count": "true"})["total"] == 3


def test_condition_injection__by_uuid_path(client: TestClient, admin: dict[str, str]) -> None:
    assert get_ok(client, f"{IMAGES}/x%27%20OR%20%271%27%3D%271", admin) == {"inventories": [], "schema": {}}
    assert uuids(client, IMAGES, admin) == ALL_IMAGES


def test_condition_date__zstack_format_round_trips(client: TestClient, admin: dict[str, str]) -> None:
    """A createDate as the API renders it (local time, `MMM d, yyyy h:mm:ss a`) is accepted back."""
    rendered = get_ok(client, f"{IMAGES}/{UBUNTU}", admin)["inventories"][0]["createDate"]
    assert images_where(client, admin, f"createDate={rendered}") == [UBUNTU]
    assert images_where(client, admin, f"createDate>{rendered}") == [ALICES]
