"""Records to ZStack inventories: camelCase fields, Java-style timestamps, nulls left out (as Gson does)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.store.records import (
    Account,
    BackupStorage,
    Image,
    ImageBackupStorageRef,
    Session,
    VolumeBackup,
    VolumeBackupStorageRef,
)
from app.zstack.timefmt import java_date


def _without_nulls(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


def image_backup_storage_ref_inventory(ref: ImageBackupStorageRef) -> dict[str, Any]:
    return _without_nulls(
        {
            "id": ref.id,
            "imageUuid": ref.image_uuid,
            "backupStorageUuid": ref.backup_storage_uuid,
            "installPath": ref.install_path,
            "exportUrl": ref.export_url,
            "exportMd5Sum": ref.export_md5_sum,
            "status": ref.status,
            "createDate": java_date(ref.create_date),
            "lastOpDate": java_date(ref.last_op_date),
        }
    )


def image_inventory(image: Image, refs: Sequence[ImageBackupStorageRef]) -> dict[str, Any]:
    body = _without_nulls(
        {
            "uuid": image.uuid,
            "name": image.name,
            "description": image.description,
            "state": image.state,
            "status": image.status,
            "size": image.size,
            "actualSize": image.actual_size,
            "md5Sum": image.md5_sum,
            "url": image.url,
            "mediaType": image.media_type,
            "guestOsType": image.guest_os_type,
            "type": image.type,
            "platform": image.platform,
            "architecture": image.architecture,
            "format": image.format,
            "system": image.system,
            "virtio": image.virtio,
            "createDate": java_date(image.create_date),
            "lastOpDate": java_date(image.last_op_date),
        }
    )
    body["backupStorageRefs"] = [image_backup_storage_ref_inventory(ref) for ref in refs]
    return body


def account_inventory(account: Account) -> dict[str, Any]:
    """AccountInventory: never the password."""
    return _without_nulls(
        {
            "uuid": account.uuid,
            "name": account.name,
            "description": account.description,
            "type": account.type,
            "createDate": java_date(account.create_date),
            "lastOpDate": java_date(account.last_op_date),
        }
    )


def session_inventory(session: Session) -> dict[str, Any]:
    return {
        "uuid": session.uuid,
        "accountUuid": session.account_uuid,
        "userUuid": session.user_uuid,
        "expiredDate": java_date(session.expired_date),
        "createDate": java_date(session.create_date),
    }


def volume_backup_storage_ref_inventory(ref: VolumeBackupStorageRef) -> dict[str, Any]:
    return {
        "volumeBackupUuid": ref.volume_backup_uuid,
        "backupStorageUuid": ref.backup_storage_uuid,
        "installPath": ref.install_path,
        "status": ref.status,
        "createDate": java_date(ref.create_date),
        "lastOpDate": java_date(ref.last_op_date),
    }


def volume_backup_inventory(backup: VolumeBackup, refs: Sequence[VolumeBackupStorageRef]) -> dict[str, Any]:
    body = _without_nulls(
        {
            "uuid": backup.uuid,
            "volumeUuid": backup.volume_uuid,
            "name": backup.name,
            "description": backup.description,
            "type": backup.type,
            "state": backup.state,
            "status": backup.status,
            "size": backup.size,
            "metadata": backup.metadata_json,
            "groupUuid": backup.group_uuid,
            "mode": backup.mode,
            "vmInstanceUuid": backup.vm_instance_uuid,
            "hypervisorType": backup.hypervisor_type,
            "createDate": java_date(backup.create_date),
            "lastOpDate": java_date(backup.last_op_date),
        }
    )
    body["backupStorageRefs"] = [volume_backup_storage_ref_inventory(ref) for ref in refs]
    return body


def backup_storage_inventory(storage: BackupStorage) -> dict[str, Any]:
    """An ImageStore backup storage: the BackupStorageInventory fields plus hostname, username, sshPort."""
    body = _without_nulls(
        {
            "uuid": storage.uuid,
            "name": storage.name,
            "url": storage.url,
            "description": storage.description,
            "totalCapacity": storage.total_capacity,
            "availableCapacity": storage.available_capacity,
            "type": storage.type,
            "state": storage.state,
            "status": storage.status,
            "createDate": java_date(storage.create_date),
            "lastOpDate": java_date(storage.last_op_date),
            "hostname": storage.hostname,
            "username": storage.username,
            "sshPort": storage.ssh_port,
        }
    )
    body["attachedZoneUuids"] = [z for z in storage.attached_zone_uuids.split(",") if z]
    return body
