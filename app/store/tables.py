"""The inventory schema as SQLModel tables: the one definition of every stored row.

The database's DDL is compiled from these classes (``app.store.ddl``), the records the domain uses
are derived from them (``app.store.records``), and so are the inventories' JSON fields
(``app.zstack.inventories``). No column has a default: a record is built with every field named.

Column names are snake_case versions of ZStack's inventory fields, in the order ZStack's Java
inventory class declares them (the order clients see the JSON keys in); columns that are no
inventory field (``account_uuid``, ``password_sha512``) come last. Timestamps are UTC.
Every resource row carries ``account_uuid``, the owning account (ZStack's AccountResourceRefVO
folded into the row).

Tables keyed by UUID are SQLite ``WITHOUT ROWID`` tables: the row lives in the primary-key B-tree,
so a lookup is one B-tree search and an insert touches one tree fewer. Secondary indexes are kept
to those a request needs; each one costs every insert a page write.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel


class StoreMetaTable(SQLModel, table=True):
    """Store bookkeeping, e.g. whether the fixtures were loaded."""

    __tablename__ = "store_meta"
    key: str = Field(primary_key=True)
    value: str


class AccountTable(SQLModel, table=True):
    __tablename__ = "account"
    uuid: str = Field(primary_key=True, max_length=32)
    name: str = Field(index=True, unique=True, max_length=255)
    description: str | None = Field(max_length=2048)
    type: str = Field(max_length=32)
    create_date: datetime
    last_op_date: datetime
    password_sha512: str = Field(max_length=128)

    @property
    def is_admin(self) -> bool:
        return self.type == "SystemAdmin"


class SessionTable(SQLModel, table=True):
    """One B-tree keyed by UUID and no secondary index: a login is one small insert.

    Counting an account's live sessions (ID.1006) and sweeping expired ones scan the table, which
    the session limit and the sweep keep small.
    """

    __tablename__ = "session"
    __table_args__ = {"sqlite_with_rowid": False}
    uuid: str = Field(primary_key=True, max_length=32)
    account_uuid: str = Field(max_length=32)
    user_uuid: str = Field(max_length=32)
    expired_date: datetime
    create_date: datetime


class BackupStorageTable(SQLModel, table=True):
    __tablename__ = "backup_storage"
    uuid: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=255)
    url: str = Field(max_length=2048)
    description: str | None = Field(max_length=2048)
    total_capacity: int
    available_capacity: int
    type: str = Field(max_length=64)
    state: str = Field(max_length=32)
    status: str = Field(max_length=32)
    create_date: datetime
    last_op_date: datetime
    hostname: str = Field(max_length=255)
    username: str = Field(max_length=255)
    ssh_port: int
    attached_zone_uuids: str = Field(description="comma-separated zone UUIDs")
    account_uuid: str = Field(index=True, max_length=32)


class VolumeBackupTable(SQLModel, table=True):
    __tablename__ = "volume_backup"
    __table_args__ = (Index("ix_volume_backup_create_date", "create_date"),)
    uuid: str = Field(primary_key=True, max_length=32)
    volume_uuid: str | None = Field(max_length=32)
    name: str = Field(max_length=255)
    description: str | None = Field(max_length=2048)
    type: str = Field(max_length=32)
    state: str = Field(max_length=32)
    status: str = Field(max_length=32)
    size: int
    metadata_json: str | None = Field(
        max_length=65535, description="the backup's metadata JSON document (VolumeBackupVO.metadata: a MySQL TEXT)"
    )
    group_uuid: str | None = Field(max_length=32)
    mode: str = Field(max_length=32)
    vm_instance_uuid: str | None = Field(max_length=32)
    hypervisor_type: str | None = Field(max_length=32)
    create_date: datetime
    last_op_date: datetime
    account_uuid: str = Field(index=True, max_length=32)


class VolumeBackupStorageRefTable(SQLModel, table=True):
    __tablename__ = "volume_backup_storage_ref"
    __table_args__ = {"sqlite_with_rowid": False}
    volume_backup_uuid: str = Field(primary_key=True, max_length=32)
    backup_storage_uuid: str = Field(primary_key=True, max_length=32, index=True)
    install_path: str = Field(max_length=2048)
    status: str = Field(max_length=32)
    create_date: datetime
    last_op_date: datetime


class TagPatternTable(SQLModel, table=True):
    __tablename__ = "tag_pattern"
    uuid: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=255)
    value: str = Field(max_length=255)
    description: str | None = Field(max_length=2048)
    color: str | None = Field(max_length=32)
    type: str = Field(max_length=32)
    account_uuid: str = Field(index=True, max_length=32)
    create_date: datetime
    last_op_date: datetime


class ImageTable(SQLModel, table=True):
    __tablename__ = "image"
    __table_args__ = (
        # Default listing order, and sorting by creation time.
        Index("ix_image_create_date", "create_date"),
        # The filters a UI applies first (Ready images of a platform); also makes their counts cheap.
        Index("ix_image_status_platform", "status", "platform", "create_date"),
        {"sqlite_with_rowid": False},
    )
    uuid: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=255)
    description: str | None = Field(max_length=2048)
    state: str = Field(max_length=32)
    status: str = Field(max_length=32)
    size: int
    actual_size: int
    md5_sum: str | None = Field(max_length=255)
    url: str | None = Field(max_length=2048)
    media_type: str = Field(max_length=64)
    guest_os_type: str | None = Field(max_length=255)
    type: str = Field(max_length=64)
    platform: str | None = Field(max_length=64)
    architecture: str | None = Field(max_length=32)
    format: str = Field(max_length=64)
    system: bool
    virtio: bool | None
    create_date: datetime
    last_op_date: datetime
    account_uuid: str = Field(index=True, max_length=32)


class ImageBackupStorageRefTable(SQLModel, table=True):
    __tablename__ = "image_backup_storage_ref"
    id: int | None = Field(primary_key=True)
    image_uuid: str = Field(index=True, max_length=32)
    backup_storage_uuid: str = Field(max_length=32)
    install_path: str = Field(max_length=2048)
    export_url: str | None = Field(max_length=2048)
    export_md5_sum: str | None = Field(max_length=255)
    status: str = Field(max_length=32)
    create_date: datetime
    last_op_date: datetime


class ImageTagTable(SQLModel, table=True):
    """A tag pattern (``tagUuids``) attached to an image."""

    __tablename__ = "image_tag"
    __table_args__ = {"sqlite_with_rowid": False}
    image_uuid: str = Field(primary_key=True, max_length=32)
    tag_uuid: str = Field(primary_key=True, max_length=32)


class ApiJobTable(SQLModel, table=True):
    """An asynchronous API call (REST ``api-jobs`` or an RPC ``Processing`` message) and its result.

    ``due_date`` is when the runner must next look at the job: when it finishes, or, if that is
    later or the job is ``held``, its ``deadline_date`` (its apiTimeout), when it fails with
    SYS.1001. One indexed column then answers "what is due?". ``planned_error_json`` is an error
    decided when the job was accepted (a validation failure) and revealed when it finishes, as the
    real server reports validation failures through the job. ``result_json`` is the reply's fields
    on success, the ErrorCode on failure; ``result_class`` the Java class the RPC envelope names.
    """

    __tablename__ = "api_job"
    __table_args__ = (
        # The runner's one question: which running jobs are due (to finish or to time out).
        Index("ix_api_job_status_due_date", "status", "due_date"),
        {"sqlite_with_rowid": False},
    )
    uuid: str = Field(primary_key=True, max_length=32)
    api: str = Field(max_length=128)
    protocol: str = Field(max_length=8, description="rest or rpc")
    status: str = Field(max_length=16, description="Running, Succeeded or Failed")
    account_uuid: str | None = Field(max_length=32)
    resource_uuid: str | None = Field(max_length=32)
    planned_error_json: str | None
    planned_error_class: str | None = Field(max_length=255)
    result_class: str | None = Field(max_length=255)
    result_json: str | None
    json_schema: bool
    webhook_url: str | None = Field(max_length=2048)
    api_timeout_ms: int
    held: bool = Field(description="Waits for a release; its due_date is then its deadline")
    create_date: datetime
    due_date: datetime = Field(description="When the runner must next act: finish, or time out")
    deadline_date: datetime
    finish_date: datetime | None


class WebhookDeliveryTable(SQLModel, table=True):
    """The POST of a finished job's result to its ``X-Web-Hook`` URL, retried until it succeeds.

    Only jobs with a webhook have a row, so the runner's scan for due deliveries stays small; the
    index answers it, and how many wait (each instance's queue is bounded), without reading them all.
    """

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        Index("ix_webhook_delivery_status_next_date", "status", "next_date"),
        {"sqlite_with_rowid": False},
    )
    job_uuid: str = Field(primary_key=True, max_length=32)
    url: str = Field(max_length=2048)
    status: str = Field(max_length=16, description="Pending, Delivered or Failed")
    attempts: int
    next_date: datetime | None
    last_error: str | None


class JournalEntryTable(SQLModel, table=True):
    """One request to the ZStack API, as the request journal recorded it (``app.journal``).

    Keyed by an increasing integer, so "newest first" and "drop the oldest" are rowid ranges. No
    secondary index: the journal is bounded (10,000 entries by default) and written in batches, and
    every index would cost each batch a page write per entry; a filtered read scans the table.
    """

    __tablename__ = "journal_entry"
    id: int | None = Field(primary_key=True)
    create_date: datetime = Field(description="When the request arrived (the server's clock)")
    method: str = Field(max_length=16)
    path: str = Field(max_length=2048)
    query: str = Field(description="The raw query string")
    headers_json: str = Field(description="Request headers, names lower-cased, Authorization redacted")
    body: str = Field(description="The request body, passwords redacted, cut at the journal's body limit")
    body_size: int
    body_truncated: bool
    operation: str | None = Field(max_length=128)
    session_uuid: str | None = Field(max_length=255)
    status: int | None = Field(description="Null when no complete answer was sent")
    verdict: str | None = Field(max_length=16, description="ok, error, rejected, aborted; null: pending")
    error_code: str | None = Field(max_length=64)
    error_details: str | None
    fault: str | None = Field(max_length=255, description="rule:<id> or scenario:<name>")
    duration_ms: float
    job_uuid: str | None = Field(max_length=255)


class FaultRuleTable(SQLModel, table=True):
    """A fault-injection rule (``app.faults``): what it matches, what it does, how often it has fired.

    ``spec_json`` is the rule as the control API accepted it (camelCase JSON); the counters and
    ``spent`` change as requests match. Rules are checked in ``id`` order, so the key is an
    increasing integer.
    """

    __tablename__ = "fault_rule"
    id: int | None = Field(primary_key=True)
    name: str | None = Field(max_length=255)
    spec_json: str = Field(description="The rule as accepted by POST /_mock/faults (camelCase JSON)")
    matched: int = Field(description="Requests that met the rule's conditions")
    fired: int = Field(description="Requests the rule's effect was applied to")
    spent: bool = Field(description="Fired its 'times' already, or expired: never fires again")
    create_date: datetime
    expire_date: datetime | None = Field(description="End of its ttl, if it has one")


class FaultCounterTable(SQLModel, table=True):
    """Matches per scenario key: drives seeded draws and "fail the first N" for per-request scenarios."""

    __tablename__ = "fault_counter"
    __table_args__ = {"sqlite_with_rowid": False}
    key: str = Field(primary_key=True, max_length=1024)
    count: int


class SnapshotTable(SQLModel, table=True):
    """A named copy of the inventory taken by ``POST /_mock/snapshots``, restored by name."""

    __tablename__ = "snapshot"
    __table_args__ = {"sqlite_with_rowid": False}
    name: str = Field(primary_key=True, max_length=255)
    create_date: datetime
    payload: str = Field(description="The inventory's records as JSON")


INVENTORY_TABLES = (
    AccountTable,
    SessionTable,
    BackupStorageTable,
    VolumeBackupTable,
    VolumeBackupStorageRefTable,
    TagPatternTable,
    ImageTable,
    ImageBackupStorageRefTable,
    ImageTagTable,
    ApiJobTable,
    WebhookDeliveryTable,
    JournalEntryTable,
    FaultRuleTable,
    FaultCounterTable,
    SnapshotTable,
)
