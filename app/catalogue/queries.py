"""The query APIs over the inventory: QueryImage, QueryVolumeBackup, QueryBackupStorage, QueryImageStoreBackupStorage.

Every query takes ZStack's query message (``app.zstack.query``) and answers ``{"inventories": [...]}``,
on REST always with the ``schema`` map, and also at ``{path}/{uuid}``. The REST routes add the query syntax
to each description (``app.api.zstack.routes``).
"""

from __future__ import annotations

from ..domain import queries
from ..zstack.inventories import IMAGE, IMAGE_STORE_BACKUP_STORAGE, VOLUME_BACKUP
from ..zstack.schemas import BackupStorageQueryReply, ImageQueryReply, VolumeBackupQueryReply
from .model import Api, Docs, Rest, Rpc

QUERY_IMAGE = Api(
    name="QueryImage",
    kind="query",
    serve=queries.query_image,
    rest=Rest("GET", "/images", by_uuid=True),
    rpc=(Rpc("org.zstack.header.image.APIQueryImageMsg", "org.zstack.header.image.APIQueryImageReply"),),
    reply=ImageQueryReply,
    reply_inventories={"inventories": IMAGE},
    docs=Docs(tag="Queries", summary="QueryImage", description="List images."),
)

QUERY_VOLUME_BACKUP = Api(
    name="QueryVolumeBackup",
    kind="query",
    serve=queries.query_volume_backup,
    rest=Rest("GET", "/volume-backups", by_uuid=True),
    rpc=(Rpc("org.zstack.header.storage.volume.backup.APIQueryVolumeBackupMsg",
             "org.zstack.header.storage.volume.backup.APIQueryVolumeBackupReply"),),
    reply=VolumeBackupQueryReply,
    reply_inventories={"inventories": VOLUME_BACKUP},
    docs=Docs(tag="Queries", summary="QueryVolumeBackup", description="List volume backups."),
)

QUERY_IMAGE_STORE_BACKUP_STORAGE = Api(
    name="QueryImageStoreBackupStorage",
    kind="query",
    serve=queries.query_image_store_backup_storage,
    rest=Rest("GET", "/backup-storage/image-store", by_uuid=True),
    reply=BackupStorageQueryReply,
    reply_inventories={"inventories": IMAGE_STORE_BACKUP_STORAGE},
    docs=Docs(tag="Queries", summary="QueryImageStoreBackupStorage", description="List ImageStore backup storages."),
)

QUERY_BACKUP_STORAGE = Api(
    name="QueryBackupStorage",
    kind="query",
    serve=queries.query_backup_storage,
    rest=Rest("GET", "/backup-storage", by_uuid=True),
    rpc=(Rpc("org.zstack.header.storage.backup.APIQueryBackupStorageMsg",
             "org.zstack.header.storage.backup.APIQueryBackupStorageReply"),),
    reply=BackupStorageQueryReply,
    reply_inventories={"inventories": IMAGE_STORE_BACKUP_STORAGE},
    docs=Docs(tag="Queries", summary="QueryBackupStorage", description="List backup storages."),
)
