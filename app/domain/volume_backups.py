"""DeleteVolumeBackup: a volume backup taken off backup storages, or removed altogether.

The handler is premium code (``VolumeBackupManagerImpl``) that is not public; the SDK's
``DeleteVolumeBackupAction`` gives the message (``uuid``, ``backupStorageUuids``, ``deleteMode``,
``handleDependency``). zstack-mock removes the backup's copies on the named storages (all by default) and
the backup once none is left, so a later create from it fails as a real node's does: SYS.1003 from the
``backupUuid`` check once the backup is gone, SYS.1006 ``Volume backup[...] not found on backup storage[...]``
for a storage that no longer holds it. Images already made from it are copies and stay.
"""

from __future__ import annotations

from typing import Any

from ..store.records import VolumeBackup, VolumeBackupStorageRef
from ..zstack.params import CheckedMessage
from .context import Context
from .images import job_will_fail, resource_to_delete
from .job_kinds import JobStart, done_at_start, served_at_once


def start_delete_volume_backup(*, ctx: Context, session_uuid: str | None, message: CheckedMessage) -> JobStart:
    account, backup = resource_to_delete(ctx=ctx, session_uuid=session_uuid, message=message,
                                         resource_type="VolumeBackupVO")
    if backup is None:
        return JobStart(resource_uuid=message.values["uuid"], account_uuid=account.uuid)
    if job_will_fail():
        return JobStart(resource_uuid=backup.uuid, account_uuid=account.uuid)
    store = ctx.store
    storages = message.values.get("backupStorageUuids")
    with store.transaction():
        where: dict[str, Any] = {"volume_backup_uuid": backup.uuid}
        if storages is not None:
            where["backup_storage_uuid__in"] = storages
        store.delete(VolumeBackupStorageRef, where)
        if not store.count(VolumeBackupStorageRef, {"volume_backup_uuid": backup.uuid}):
            store.delete(VolumeBackup, {"uuid": backup.uuid})
    return JobStart(resource_uuid=backup.uuid, account_uuid=account.uuid)


def _deleted(*, ctx: Context, resource_uuid: str) -> dict[str, Any]:
    return {}


DELETE_VOLUME_BACKUP_STEPS = done_at_start(start_delete_volume_backup, _deleted)
delete_volume_backup = served_at_once(DELETE_VOLUME_BACKUP_STEPS)
