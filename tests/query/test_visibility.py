"""Who sees what, and agreement between the create reply and the query APIs."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.helpers import BACKUP_OF_ALICE, BACKUP_WITH_METADATA, BS_READY, create, login
from tests.query.support import (
    ALL_BACKUPS,
    ALL_IMAGES,
    ALL_STORAGES,
    BACKUP_STORAGE,
    IMAGE_CENTOS,
    IMAGE_OF_ALICE,
    IMAGE_STORE,
    IMAGES,
    VOLUME_BACKUPS,
    get_ok,
    uuids,
)

EMPTY = {"inventories": [], "schema": {}}


def test_visibility__normal_account_sees_only_its_images(client: TestClient, alice: dict[str, str]) -> None:
    assert uuids(client, IMAGES, alice) == [IMAGE_OF_ALICE]
    assert uuids(client, f"{IMAGES}/{IMAGE_OF_ALICE}", alice) == [IMAGE_OF_ALICE]
    assert get_ok(client, f"{IMAGES}/{IMAGE_CENTOS}", alice) == EMPTY
    assert get_ok(client, IMAGES, alice, {"count": "true"}) == {"total": 1, "schema": {}}


def test_visibility__normal_account_sees_only_its_volume_backups(
    client: TestClient, alice: dict[str, str]
) -> None:
    assert uuids(client, VOLUME_BACKUPS, alice) == [BACKUP_OF_ALICE]
    assert get_ok(client, f"{VOLUME_BACKUPS}/{BACKUP_WITH_METADATA}", alice) == EMPTY
    assert get_ok(client, VOLUME_BACKUPS, alice, {"replyWithCount": "true"})["total"] == 1


def test_visibility__conditions_cannot_widen_it(client: TestClient, alice: dict[str, str]) -> None:
    assert uuids(client, IMAGES, alice, {"q": f"uuid={IMAGE_CENTOS}"}) == []
    assert uuids(client, IMAGES, alice, {"q": f"backupStorage.uuid={BS_READY}"}) == [IMAGE_OF_ALICE]
    assert uuids(client, VOLUME_BACKUPS, alice, {"q": f"backupStorageRefs.backupStorageUuid={BS_READY}"}) == [
        BACKUP_OF_ALICE
    ]
    assert uuids(client, IMAGES, alice, {"q": "name=x' OR '1'='1"}) == []


@pytest.mark.parametrize("path", [BACKUP_STORAGE, IMAGE_STORE])
def test_visibility__backup_storages_are_global(
    client: TestClient, alice: dict[str, str], bob: dict[str, str], path: str
) -> None:
    assert uuids(client, path, alice) == ALL_STORAGES
    assert uuids(client, path, bob) == ALL_STORAGES
    assert uuids(client, f"{path}/{BS_READY}", bob) == [BS_READY]


def test_visibility__account_owning_nothing_sees_nothing(client: TestClient, bob: dict[str, str]) -> None:
    assert get_ok(client, IMAGES, bob) == EMPTY
    assert get_ok(client, VOLUME_BACKUPS, bob) == EMPTY
    assert get_ok(client, f"{IMAGES}/{IMAGE_OF_ALICE}", bob) == EMPTY
    assert get_ok(client, IMAGES, bob, {"count": "true"}) == {"total": 0, "schema": {}}


def test_visibility__admin_sees_everything(client: TestClient, admin: dict[str, str]) -> None:
    assert uuids(client, IMAGES, admin) == ALL_IMAGES
    assert uuids(client, VOLUME_BACKUPS, admin) == ALL_BACKUPS
    assert uuids(client, f"{IMAGES}/{IMAGE_OF_ALICE}", admin) == [IMAGE_OF_ALICE]
    assert uuids(client, f"{VOLUME_BACKUPS}/{BACKUP_OF_ALICE}", admin) == [BACKUP_OF_ALICE]


def test_created_image_is_queryable_at_once(client: TestClient, admin: dict[str, str]) -> None:
    response = create(client, login(client), description="made by a test")
    assert response.status_code == 200, response.text
    inventory = response.json()["inventory"]
    by_uuid = get_ok(client, f"{IMAGES}/{inventory['uuid']}", admin)
    assert by_uuid["inventories"] == [inventory]
    listed = get_ok(client, IMAGES, admin)["inventories"]
    assert [inv["uuid"] for inv in listed] == [*ALL_IMAGES, inventory["uuid"]]
    assert listed[-1] == inventory
    assert uuids(client, IMAGES, admin, {"q": "description=made by a test"}) == [inventory["uuid"]]


def test_created_image_is_visible_to_its_owner_only(
    client: TestClient, alice: dict[str, str], bob: dict[str, str], admin: dict[str, str]
) -> None:
    response = create(client, login(client, "alice"), BACKUP_OF_ALICE, name="alice-new")
    assert response.status_code == 200, response.text
    inventory = response.json()["inventory"]
    assert get_ok(client, f"{IMAGES}/{inventory['uuid']}", alice)["inventories"] == [inventory]
    assert uuids(client, IMAGES, alice) == [IMAGE_OF_ALICE, inventory["uuid"]]
    assert get_ok(client, f"{IMAGES}/{inventory['uuid']}", bob) == EMPTY
    assert get_ok(client, IMAGES, bob, {"q": "name=alice-new"}) == EMPTY
    assert uuids(client, IMAGES, admin, {"q": "name=alice-new"}) == [inventory["uuid"]]
