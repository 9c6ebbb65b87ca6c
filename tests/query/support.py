"""Shared constants and helpers for the query API tests."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import (
    BACKUP_NO_METADATA,
    BACKUP_OF_ALICE,
    BACKUP_ON_DISABLED_ONLY,
    BACKUP_WINDOWS,
    BACKUP_WITH_METADATA,
    BS_DISABLED,
    BS_DISCONNECTED,
    BS_READY,
    EXISTING_IMAGE,
)

V1 = "/zstack/v1"
IMAGES = f"{V1}/images"
VOLUME_BACKUPS = f"{V1}/volume-backups"
BACKUP_STORAGE = f"{V1}/backup-storage"
IMAGE_STORE = f"{V1}/backup-storage/image-store"

IMAGE_CENTOS = EXISTING_IMAGE  # 2024-03-01, size 21474836480, has a description, virtio
IMAGE_UBUNTU_ISO = "d74da5a8b2094926a9c330f195fba046"  # 2024-03-02, size 1474873344, ISO
IMAGE_OF_ALICE = "7a0f0948e3b64af2949319456c4f74cd"  # 2024-03-03, size 42949672960, aarch64

#: In createDate order, which is the default order.
ALL_IMAGES = [IMAGE_CENTOS, IMAGE_UBUNTU_ISO, IMAGE_OF_ALICE]
ALL_BACKUPS = [
    BACKUP_WITH_METADATA,
    BACKUP_NO_METADATA,
    BACKUP_ON_DISABLED_ONLY,
    BACKUP_OF_ALICE,
    BACKUP_WINDOWS,
]
ALL_STORAGES = [BS_READY, BS_DISABLED, BS_DISCONNECTED]

IMAGE_CLASS = "org.zstack.header.image.ImageInventory"
IMAGE_REF_CLASS = "org.zstack.header.image.ImageBackupStorageRefInventory"
BACKUP_CLASS = "org.zstack.header.storage.volume.backup.VolumeBackupInventory"
BACKUP_REF_CLASS = "org.zstack.header.storage.volume.backup.VolumeBackupStorageRefInventory"
STORAGE_CLASS = "org.zstack.storage.backup.imagestore.ImageStoreBackupStorageInventory"


def get_ok(client: TestClient, path: str, headers: dict[str, str], params: Any = None) -> dict[str, Any]:
    """GET a query endpoint that must answer 200 JSON; returns the body."""
    response = client.get(path, headers=headers, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    return body


def uuids(client: TestClient, path: str, headers: dict[str, str], params: Any = None) -> list[str]:
    """The uuids of the inventories a query answers, in reply order."""
    return [inv["uuid"] for inv in get_ok(client, path, headers, params)["inventories"]]


def images_where(client: TestClient, headers: dict[str, str], *conditions: str) -> list[str]:
    return uuids(client, IMAGES, headers, [("q", c) for c in conditions])
