"""The rows the domain reads and writes: one slotted dataclass per SQLModel table in ``app.store.tables``.

Generated from the tables by ``make schema`` (``python -m app.store.recordgen``): do not edit this
file; change the table and regenerate it (a test fails when it is stale). Generated, not built at
import, so that serving never imports SQLAlchemy.

Records, not table models, cross the store interface: building a dataclass from a row costs a
fraction of a microsecond, an ORM object thirty, and the create call reads five of them. Build them
with keyword arguments, so that no caller depends on the column order. Each record type carries its
table's name (``__tablename__``), key columns (``__key__``), the integer key the database generates
if any (``__generated_key__``) and its columns (``__columns__``, ``app.store.columns``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from .columns import Column


@dataclass(slots=True)
class Account:
    __tablename__: ClassVar[str] = "account"
    __key__: ClassVar[tuple[str, ...]] = ("uuid",)
    __generated_key__: ClassVar[str | None] = None
    __columns__: ClassVar[tuple[Column, ...]] = (
        Column("uuid", str, False, 32),
        Column("name", str, False, 255),
        Column("description", str, True, 2048),
        Column("type", str, False, 32),
        Column("create_date", datetime, False),
        Column("last_op_date", datetime, False),
        Column("password_sha512", str, False, 128),
    )

    uuid: str
    name: str
    description: str | None
    type: str
    create_date: datetime
    last_op_date: datetime
    password_sha512: str

    @property
    def is_admin(self) -> bool:
        return self.type == "SystemAdmin"


@dataclass(slots=True)
class Session:
    """One B-tree keyed by UUID and no secondary index: a login is one small insert.

    Counting an account's live sessions (ID.1006) and sweeping expired ones scan the table, which
    the session limit and the sweep keep small.
    """

    __tablename__: ClassVar[str] = "session"
    __key__: ClassVar[tuple[str, ...]] = ("uuid",)
    __generated_key__: ClassVar[str | None] = None
    __columns__: ClassVar[tuple[Column, ...]] = (
        Column("uuid", str, False, 32),
        Column("account_uuid", str, False, 32),
        Column("user_uuid", str, False, 32),
        Column("expired_date", datetime, False),
        Column("create_date", datetime, False),
    )

    uuid: str
    account_uuid: str
    user_uuid: str
    expired_date: datetime
    create_date: datetime


@dataclass(slots=True)
class BackupStorage:
    __tablename__: ClassVar[str] = "backup_storage"
    __key__: ClassVar[tuple[str, ...]] = ("uuid",)
    __generated_key__: ClassVar[str | None] = None
    __columns__: ClassVar[tuple[Column, ...]] = (
        Column("uuid", str, False, 32),
        Column("name", str, False, 255),
        Column("url", str, False, 2048),
        Column("description", str, True, 2048),
        Column("total_capacity", int, False),
        Column("available_capacity", int, False),
        Column("type", str, False, 64),
        Column("state", str, False, 32),
        Column("status", str, False, 32),
        Column("create_date", datetime, False),
        Column("last_op_date", datetime, False),
        Column("hostname", str, False, 255),
        Column("username", str, False, 255),
        Column("ssh_port", int, False),
        Column("attached_zone_uuids", str, False),
        Column("account_uuid", str, False, 32),
    )

    uuid: str
    name: str
    url: str
    description: str | None
    total_capacity: int
    available_capacity: int
    type: str
    state: str
    status: str
    create_date: datetime
    last_op_date: datetime
    hostname: str
    username: str
    ssh_port: int
    attached_zone_uuids: str
    account_uuid: str


@dataclass(slots=True)
class VolumeBackup:
    __tablename__: ClassVar[str] = "volume_backup"
    __key__: ClassVar[tuple[str, ...]] = ("uuid",)
    __generated_key__: ClassVar[str | None] = None
    __columns__: ClassVar[tuple[Column, ...]] = (
        Column("uuid", str, False, 32),
        Column("volume_uuid", str, True, 32),
        Column("name", str, False, 255),
        Column("description", str, True, 2048),
        Column("type", str, False, 32),
        Column("state", str, False, 32),
        Column("status", str, False, 32),
        Column("size", int, False),
        Column("metadata_json", str, True, 65535),
        Column("group_uuid", str, True, 32),
        Column("mode", str, False, 32),
        Column("vm_instance_uuid", str, True, 32),
        Column("hypervisor_type", str, True, 32),
        Column("create_date", datetime, False),
        Column("last_op_date", datetime, False),
        Column("account_uuid", str, False, 32),
    )

    uuid: str
    volume_uuid: str | None
    name: str
    description: str | None
    type: str
    state: str
    status: str
    size: int
    metadata_json: str | None
    group_uuid: str | None
    mode: str
    vm_instance_uuid: str | None
    hypervisor_type: str | None
    create_date: datetime
    last_op_date: datetime
    account_uuid: str


@dataclass(slots=True)
class VolumeBackupStorageRef:
    __tablename__: ClassVar[str] = "volume_backup_storage_ref"
    __key__: ClassVar[tuple[str, ...]] = ("volume_backup_uuid", "backup_storage_uuid",)
    __generated_key__: ClassVar[str | None] = None
    __columns__: ClassVar[tuple[Column, ...]] = (
        Column("volume_backup_uuid", str, False, 32),
        Column("backup_storage_uuid", str, False, 32),
        Column("install_path", str, False, 2048),
        Column("status", str, False, 32),
        Column("create_date", datetime, False),
        Column("last_op_date", datetime, False),
    )

    volume_backup_uuid: str
    backup_storage_uuid: str
    install_path: str
    status: str
    create_date: datetime
    last_op_date: datetime


@dataclass(slots=True)
class TagPattern:
    __tablename__: ClassVar[str] = "tag_pattern"
    __key__: ClassVar[tuple[str, ...]] = ("uuid",)
    __generated_key__: ClassVar[str | None] = None
    __columns__: ClassVar[tuple[Column, ...]] = (
        Column("uuid", str, False, 32),
        Column("name", str, False, 255),
        Column("value", str, False, 255),
        Column("description", str, True, 2048),
        Column("color", str, True, 32),
        Column("type", str, False, 32),
        Column("account_uuid", str, False, 32),
        Column("create_date", datetime, False),
        Column("last_op_date", datetime, False),
    )

    uuid: str
    name: str
    value: str
    description: str | None
    color: str | None
    type: str
    account_uuid: str
    create_date: datetime
    last_op_date: datetime


@dataclass(slots=True)
class Image:
    __tablename__: ClassVar[str] = "image"
    __key__: ClassVar[tuple[str, ...]] = ("uuid",)
    __generated_key__: ClassVar[str | None] = None
    __columns__: ClassVar[tuple[Column, ...]] = (
        Column("uuid", str, False, 32),
        Column("name", str, False, 255),
        Column("description", str, True, 2048),
        Column("state", str, False, 32),
        Column("status", str, False, 32),
        Column("size", int, False),
        Column("actual_size", int, False),
        Column("md5_sum", str, True, 255),
        Column("url", str, True, 2048),
        Column("media_type", str, False, 64),
        Column("guest_os_type", str, True, 255),
        Column("type", str, False, 64),
        Column("platform", str, True, 64),
        Column("architecture", str, True, 32),
        Column("format", str, False, 64),
        Column("system", bool, False),
        Column("virtio", bool, True),
        Column("create_date", datetime, False),
        Column("last_op_date", datetime, False),
        Column("account_uuid", str, False, 32),
    )

    uuid: str
    name: str
    description: str | None
    state: str
    status: str
    size: int
    actual_size: int
    md5_sum: str | None
    url: str | None
    media_type: str
    guest_os_type: str | None
    type: str
    platform: str | None
    architecture: str | None
    format: str
    system: bool
    virtio: bool | None
    create_date: datetime
    last_op_date: datetime
    account_uuid: str


@dataclass(slots=True)
class ImageBackupStorageRef:
    __tablename__: ClassVar[str] = "image_backup_storage_ref"
    __key__: ClassVar[tuple[str, ...]] = ("id",)
    __generated_key__: ClassVar[str | None] = "id"
    __columns__: ClassVar[tuple[Column, ...]] = (
        Column("id", int, False),
        Column("image_uuid", str, False, 32),
        Column("backup_storage_uuid", str, False, 32),
        Column("install_path", str, False, 2048),
        Column("export_url", str, True, 2048),
        Column("export_md5_sum", str, True, 255),
        Column("status", str, False, 32),
        Column("create_date", datetime, False),
        Column("last_op_date", datetime, False),
    )

    id: int | None
    image_uuid: str
    backup_storage_uuid: str
    install_path: str
    export_url: str | None
    export_md5_sum: str | None
    status: str
    create_date: datetime
    last_op_date: datetime


@dataclass(slots=True)
class ImageTag:
    """A tag pattern (``tagUuids``) attached to an image."""

    __tablename__: ClassVar[str] = "image_tag"
    __key__: ClassVar[tuple[str, ...]] = ("image_uuid", "tag_uuid",)
    __generated_key__: ClassVar[str | None] = None
    __columns__: ClassVar[tuple[Column, ...]] = (
        Column("image_uuid", str, False, 32),
        Column("tag_uuid", str, False, 32),
    )

    image_uuid: str
    tag_uuid: str


@dataclass(slots=True)
class ApiJob:
    """An asynchronous API call (REST ``api-jobs`` or an RPC ``Processing`` message) and its result.

    ``due_date`` is when the runner must next look at the job: when it finishes, or, if that is
    later or the job is ``held``, its ``deadline_date`` (its apiTimeout), when it fails with
    SYS.1001. One indexed column then answers "what is due?". ``planned_error_json`` is an error
    decided when the job was accepted (a validation failure) and revealed when it finishes, as the
    real server reports validation failures through the job. ``result_json`` is the reply's fields
    on success, the ErrorCode on failure; ``result_class`` the Java class the RPC envelope names.
    """

    __tablename__: ClassVar[str] = "api_job"
    __key__: ClassVar[tuple[str, ...]] = ("uuid",)
    __generated_key__: ClassVar[str | None] = None
    __columns__: ClassVar[tuple[Column, ...]] = (
        Column("uuid", str, False, 32),
        Column("api", str, False, 128),
        Column("protocol", str, False, 8),
        Column("status", str, False, 16),
        Column("account_uuid", str, True, 32),
        Column("resource_uuid", str, True, 32),
        Column("planned_error_json", str, True),
        Column("planned_error_class", str, True, 255),
        Column("result_class", str, True, 255),
        Column("result_json", str, True),
        Column("json_schema", bool, False),
        Column("webhook_url", str, True, 2048),
        Column("api_timeout_ms", int, False),
        Column("held", bool, False),
        Column("create_date", datetime, False),
        Column("due_date", datetime, False),
        Column("deadline_date", datetime, False),
        Column("finish_date", datetime, True),
    )

    uuid: str
    api: str
    protocol: str
    status: str
    account_uuid: str | None
    resource_uuid: str | None
    planned_error_json: str | None
    planned_error_class: str | None
    result_class: str | None
    result_json: str | None
    json_schema: bool
    webhook_url: str | None
    api_timeout_ms: int
    held: bool
    create_date: datetime
    due_date: datetime
    deadline_date: datetime
    finish_date: datetime | None


@dataclass(slots=True)
class WebhookDelivery:
    """The POST of a finished job's result to its ``X-Web-Hook`` URL, retried until it succeeds.

    Only jobs with a webhook have a row, so the runner's scan for due deliveries stays small; the
    index answers it, and how many wait (each instance's queue is bounded), without reading them all.
    """

    __tablename__: ClassVar[str] = "webhook_delivery"
    __key__: ClassVar[tuple[str, ...]] = ("job_uuid",)
    __generated_key__: ClassVar[str | None] = None
    __columns__: ClassVar[tuple[Column, ...]] = (
        Column("job_uuid", str, False, 32),
        Column("url", str, False, 2048),
        Column("status", str, False, 16),
        Column("attempts", int, False),
        Column("next_date", datetime, True),
        Column("last_error", str, True),
    )

    job_uuid: str
    url: str
    status: str
    attempts: int
    next_date: datetime | None
    last_error: str | None


@dataclass(slots=True)
class JournalEntry:
    """One request to the ZStack API, as the request journal recorded it (``app.journal``).

    Keyed by an increasing integer, so "newest first" and "drop the oldest" are rowid ranges. No
    secondary index: the journal is bounded (10,000 entries by default) and written in batches, and
    every index would cost each batch a page write per entry; a filtered read scans the table.
    """

    __tablename__: ClassVar[str] = "journal_entry"
    __key__: ClassVar[tuple[str, ...]] = ("id",)
    __generated_key__: ClassVar[str | None] = "id"
    __columns__: ClassVar[tuple[Column, ...]] = (
        Column("id", int, False),
        Column("create_date", datetime, False),
        Column("method", str, False, 16),
        Column("path", str, False, 2048),
        Column("query", str, False),
        Column("headers_json", str, False),
        Column("body", str, False),
        Column("body_size", int, False),
        Column("body_truncated", bool, False),
        Column("operation", str, True, 128),
        Column("session_uuid", str, True, 255),
        Column("status", int, True),
        Column("verdict", str, True, 16),
        Column("error_code", str, True, 64),
        Column("error_details", str, True),
        Column("fault", str, True, 255),
        Column("duration_ms", float, False),
        Column("job_uuid", str, True, 255),
    )

    id: int | None
    create_date: datetime
    method: str
    path: str
    query: str
    headers_json: str
    body: str
    body_size: int
    body_truncated: bool
    operation: str | None
    session_uuid: str | None
    status: int | None
    verdict: str | None
    error_code: str | None
    error_details: str | None
    fault: str | None
    duration_ms: float
    job_uuid: str | None


@dataclass(slots=True)
class FaultRule:
    """A fault-injection rule (``app.faults``): what it matches, what it does, how often it has fired.

    ``spec_json`` is the rule as the control API accepted it (camelCase JSON); the counters and
    ``spent`` change as requests match. Rules are checked in ``id`` order, so the key is an
    increasing integer.
    """

    __tablename__: ClassVar[str] = "fault_rule"
    __key__: ClassVar[tuple[str, ...]] = ("id",)
    __generated_key__: ClassVar[str | None] = "id"
    __columns__: ClassVar[tuple[Column, ...]] = (
        Column("id", int, False),
        Column("name", str, True, 255),
        Column("spec_json", str, False),
        Column("matched", int, False),
        Column("fired", int, False),
        Column("spent", bool, False),
        Column("create_date", datetime, False),
        Column("expire_date", datetime, True),
    )

    id: int | None
    name: str | None
    spec_json: str
    matched: int
    fired: int
    spent: bool
    create_date: datetime
    expire_date: datetime | None


@dataclass(slots=True)
class FaultCounter:
    """Matches per scenario key: drives seeded draws and "fail the first N" for per-request scenarios."""

    __tablename__: ClassVar[str] = "fault_counter"
    __key__: ClassVar[tuple[str, ...]] = ("key",)
    __generated_key__: ClassVar[str | None] = None
    __columns__: ClassVar[tuple[Column, ...]] = (
        Column("key", str, False, 1024),
        Column("count", int, False),
    )

    key: str
    count: int


@dataclass(slots=True)
class Snapshot:
    """A named copy of the inventory taken by ``POST /_mock/snapshots``, restored by name."""

    __tablename__: ClassVar[str] = "snapshot"
    __key__: ClassVar[tuple[str, ...]] = ("name",)
    __generated_key__: ClassVar[str | None] = None
    __columns__: ClassVar[tuple[Column, ...]] = (
        Column("name", str, False, 255),
        Column("create_date", datetime, False),
        Column("payload", str, False),
    )

    name: str
    create_date: datetime
    payload: str


Record = (
    Account
    | Session
    | BackupStorage
    | VolumeBackup
    | VolumeBackupStorageRef
    | TagPattern
    | Image
    | ImageBackupStorageRef
    | ImageTag
    | ApiJob
    | WebhookDelivery
    | JournalEntry
    | FaultRule
    | FaultCounter
    | Snapshot
)

ALL_RECORD_TYPES: tuple[type[Record], ...] = (
    Account,
    Session,
    BackupStorage,
    VolumeBackup,
    VolumeBackupStorageRef,
    TagPattern,
    Image,
    ImageBackupStorageRef,
    ImageTag,
    ApiJob,
    WebhookDelivery,
    JournalEntry,
    FaultRule,
    FaultCounter,
    Snapshot,
)
