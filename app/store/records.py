"""The rows the domain reads and writes, as plain slotted dataclasses.

Each record mirrors one SQLModel table in ``app.store.tables`` field for field (a test holds them
together). Records, not table models, cross the store interface: building a dataclass from a row
costs a fraction of a microsecond, an ORM object thirty, and the create call reads five of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar


@dataclass(slots=True)
class Account:
    __tablename__: ClassVar[str] = "account"
    uuid: str
    name: str
    password_sha512: str
    type: str
    description: str | None
    create_date: datetime
    last_op_date: datetime

    @property
    def is_admin(self) -> bool:
        return self.type == "SystemAdmin"


@dataclass(slots=True)
class Session:
    __tablename__: ClassVar[str] = "session"
    uuid: str
    account_uuid: str
    user_uuid: str
    create_date: datetime
    expired_date: datetime


@dataclass(slots=True)
class BackupStorage:
    __tablename__: ClassVar[str] = "backup_storage"
    uuid: str
    name: str
    description: str | None
    url: str
    hostname: str
    username: str
    ssh_port: int
    type: str
    state: str
    status: str
    total_capacity: int
    available_capacity: int
    attached_zone_uuids: str
    account_uuid: str
    create_date: datetime
    last_op_date: datetime


@dataclass(slots=True)
class VolumeBackup:
    __tablename__: ClassVar[str] = "volume_backup"
    uuid: str
    name: str
    description: str | None
    volume_uuid: str | None
    vm_instance_uuid: str | None
    group_uuid: str | None
    type: str
    mode: str
    state: str
    status: str
    size: int
    metadata_json: str | None
    hypervisor_type: str | None
    account_uuid: str
    create_date: datetime
    last_op_date: datetime


@dataclass(slots=True)
class VolumeBackupStorageRef:
    __tablename__: ClassVar[str] = "volume_backup_storage_ref"
    volume_backup_uuid: str
    backup_storage_uuid: str
    install_path: str
    status: str
    create_date: datetime
    last_op_date: datetime


@dataclass(slots=True)
class TagPattern:
    __tablename__: ClassVar[str] = "tag_pattern"
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
    account_uuid: str
    create_date: datetime
    last_op_date: datetime


@dataclass(slots=True)
class ImageBackupStorageRef:
    __tablename__: ClassVar[str] = "image_backup_storage_ref"
    id: int | None
    image_uuid: str
    backup_storage_uuid: str
    install_path: str
    status: str
    export_url: str | None
    export_md5_sum: str | None
    create_date: datetime
    last_op_date: datetime


@dataclass(slots=True)
class ImageTag:
    """A tag pattern (``tagUuids``) attached to an image."""

    __tablename__: ClassVar[str] = "image_tag"
    image_uuid: str
    tag_uuid: str


@dataclass(slots=True)
class ApiJob:
    """An asynchronous API call (REST ``api-jobs`` or an RPC ``Processing`` message) and its result.

    ``due_date`` is when the runner must next look at the job: when it finishes, or, if that is
    later or the job is ``held``, its ``deadline_date`` (its apiTimeout), when it fails with
    SYS.1001. One indexed column then answers "what is due?". ``planned_error_json`` is an error decided when the job was
    accepted (a validation failure) and revealed when it finishes, as the real server reports
    validation failures through the job. ``result_json`` is the reply's fields on success, the
    ErrorCode on failure; ``result_class`` the Java class the RPC envelope names.
    """

    __tablename__: ClassVar[str] = "api_job"
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
    """The POST of a finished job's result to its ``X-Web-Hook`` URL, retried until it succeeds."""

    __tablename__: ClassVar[str] = "webhook_delivery"
    job_uuid: str
    url: str
    status: str
    attempts: int
    next_date: datetime | None
    last_error: str | None


@dataclass(slots=True)
class JournalEntry:
    """One request to the ZStack API as the journal recorded it; see ``app.journal``."""

    __tablename__: ClassVar[str] = "journal_entry"
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
    ``spent`` change as requests match. Rules are checked in ``id`` order.
    """

    __tablename__: ClassVar[str] = "fault_rule"
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
    """How many requests have matched a per-request scenario, per key (seeded draws, "fail N times")."""

    __tablename__: ClassVar[str] = "fault_counter"
    key: str
    count: int


@dataclass(slots=True)
class Snapshot:
    """A named copy of the inventory (``POST /_mock/snapshots``), restored by name."""

    __tablename__: ClassVar[str] = "snapshot"
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
