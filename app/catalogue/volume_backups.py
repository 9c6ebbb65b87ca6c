"""DeleteVolumeBackup: the premium API that removes the backups the create reads (the SDK's
``DeleteVolumeBackupAction``: ``DELETE /volume-backups/{uuid}``, polled)."""

from __future__ import annotations

from ..domain import volume_backups
from ..zstack.params import MessageSpec, Param
from ..zstack.schemas import EmptyReply
from .docs import ASYNC_EVENT_NOTE, EVENT_RESPONSES
from .model import Api, Docs, Rest, Rpc

_BACKUP = "org.zstack.header.storage.volume.backup"

DELETE_VOLUME_BACKUP = Api(
    name="DeleteVolumeBackup",
    kind="action",
    serve=volume_backups.delete_volume_backup,
    job=volume_backups.DELETE_VOLUME_BACKUP_STEPS,
    rest=Rest("DELETE", "/volume-backups/{uuid}"),
    rpc=(Rpc(f"{_BACKUP}.APIDeleteVolumeBackupMsg", f"{_BACKUP}.APIDeleteVolumeBackupEvent"),),
    params=MessageSpec(
        class_name=f"{_BACKUP}.APIDeleteVolumeBackupMsg",
        params=(
            Param("deleteMode"),
            Param("uuid", required=True, resource_type="VolumeBackupVO", missing_ok=True),
            Param("systemTags", kind="string_list"),
            Param("userTags", kind="string_list"),
            Param("handleDependency", kind="boolean"),
            Param("backupStorageUuids", kind="string_list", nonempty=True, resource_type="BackupStorageVO"),
        ),
    ),
    reply=EmptyReply,
    docs=Docs(
        tag="Backup Service Operations",
        summary="DeleteVolumeBackup",
        description="Delete a volume backup from the backup storages named (by default all); once no storage "
        "holds it, it is gone, and a create from it fails (SYS.1003)." + ASYNC_EVENT_NOTE,
        responses=EVENT_RESPONSES,
        path={"uuid": "The UUID of the volume backup."},
        query=(
            ("deleteMode", str | None, "Permissive (default) or Enforcing."),
            ("backupStorageUuids", list[str] | None, "Optional. Delete it only from these backup storages."),
            ("handleDependency", bool | None, "Optional. Accepted; zstack-mock keeps no dependency to handle."),
        ),
    ),
)
