"""Resources an API message names by UUID: finding them for the parameter checks, and whether a UUID is taken."""

from __future__ import annotations

from typing import Any

from ..store.base import Store
from ..store.records import Account, BackupStorage, Image, Session, TagPattern, VolumeBackup

#: ZStack's VO class names (``@APIParam(resourceType=...)``) and the records that hold them.
RESOURCE_RECORDS: dict[str, type[VolumeBackup] | type[BackupStorage] | type[TagPattern] | type[Session] | type[Image]] = {
    "ImageVO": Image,
    "VolumeBackupVO": VolumeBackup,
    "BackupStorageVO": BackupStorage,
    "TagPatternVO": TagPattern,
    "SessionVO": Session,
}

#: Every table whose UUID a new resource must not reuse (ZStack's ResourceVO spans them all).
_RESOURCE_TABLES = (Image, VolumeBackup, BackupStorage, TagPattern, Account)


def find_resources(store: Store, resource_type: str, uuids: list[str]) -> dict[str, Any]:
    """The records of ``resource_type`` among ``uuids``, keyed by UUID (missing ones left out)."""
    record_type = RESOURCE_RECORDS[resource_type]
    if len(uuids) == 1:
        record = store.get(record_type, uuid=uuids[0])
        return {} if record is None else {record.uuid: record}
    return {r.uuid: r for r in store.find(record_type, {"uuid__in": uuids})}


def resource_uuid_taken(store: Store, uuid: str) -> bool:
    """Whether any resource (image, backup, storage, tag, account) has ``uuid``."""
    return any(store.count(table, {"uuid": uuid}) for table in _RESOURCE_TABLES)
