"""The rows the domain reads and writes, as plain slotted dataclasses derived from the SQLModel tables.

``app.store.tables`` defines each table once; each record class here is built from its table at
import: the same fields in column order, slots, the table's docstring and ``__tablename__``, and any
property the table class defines (``Account.is_admin``). Records, not table models, cross the store
interface: building a dataclass from a row costs a fraction of a microsecond, an ORM object thirty,
and the create call reads five of them.

Every field is required. Build records with keyword arguments (``Image(uuid=..., name=..., ...)``),
so that no caller depends on the column order.

The type checker cannot see a class made at run time, so under ``TYPE_CHECKING`` each record name
stands for its table class instead: it has the same fields, with the same types, and the same
properties, so code is checked against the one definition.
"""

from __future__ import annotations

from dataclasses import make_dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

from app.store.tables import (
    AccountTable,
    ApiJobTable,
    BackupStorageTable,
    FaultCounterTable,
    FaultRuleTable,
    ImageBackupStorageRefTable,
    ImageTable,
    ImageTagTable,
    JournalEntryTable,
    SessionTable,
    SnapshotTable,
    TagPatternTable,
    VolumeBackupStorageRefTable,
    VolumeBackupTable,
    WebhookDeliveryTable,
)


def columns_of(table: type[SQLModel]) -> list[Any]:
    """The table's SQLAlchemy columns, in column order."""
    return list(getattr(table, "__table__").columns)  # noqa: B009 - SQLModel adds it at class creation


def python_type(column: Any) -> type:
    """The Python type of a column's values (``str``, ``int``, ``float``, ``bool``, ``datetime``)."""
    sql_type = column.type
    if isinstance(sql_type, TypeDecorator):  # SQLModel's AutoString and UTCDateTime wrap String and DateTime
        sql_type = sql_type.impl_instance
    value_type: type = sql_type.python_type
    return value_type


def record_type(table: type[SQLModel]) -> type[Any]:
    """The slotted dataclass of ``table``'s rows, named after it (``ImageTable`` -> ``Image``)."""
    name = table.__name__.removesuffix("Table")
    namespace: dict[str, Any] = {
        attribute: value for attribute, value in vars(table).items() if isinstance(value, property)
    }
    namespace["__doc__"] = table.__doc__
    namespace["__tablename__"] = table.__tablename__
    namespace["__table_model__"] = table
    record = make_dataclass(
        name,
        [(column.name, table.model_fields[column.name].annotation) for column in columns_of(table)],
        namespace=namespace,
        slots=True,
    )
    # Where pickle and tracebacks look for it.
    record.__module__ = __name__
    record.__qualname__ = name
    return record


# Table classes for the type checker, derived dataclasses at run time (see the module docstring).
if TYPE_CHECKING:
    Account = AccountTable
    Session = SessionTable
    BackupStorage = BackupStorageTable
    VolumeBackup = VolumeBackupTable
    VolumeBackupStorageRef = VolumeBackupStorageRefTable
    TagPattern = TagPatternTable
    Image = ImageTable
    ImageBackupStorageRef = ImageBackupStorageRefTable
    ImageTag = ImageTagTable
    ApiJob = ApiJobTable
    WebhookDelivery = WebhookDeliveryTable
    JournalEntry = JournalEntryTable
    FaultRule = FaultRuleTable
    FaultCounter = FaultCounterTable
    Snapshot = SnapshotTable
else:
    Account = record_type(AccountTable)
    Session = record_type(SessionTable)
    BackupStorage = record_type(BackupStorageTable)
    VolumeBackup = record_type(VolumeBackupTable)
    VolumeBackupStorageRef = record_type(VolumeBackupStorageRefTable)
    TagPattern = record_type(TagPatternTable)
    Image = record_type(ImageTable)
    ImageBackupStorageRef = record_type(ImageBackupStorageRefTable)
    ImageTag = record_type(ImageTagTable)
    ApiJob = record_type(ApiJobTable)
    WebhookDelivery = record_type(WebhookDeliveryTable)
    JournalEntry = record_type(JournalEntryTable)
    FaultRule = record_type(FaultRuleTable)
    FaultCounter = record_type(FaultCounterTable)
    Snapshot = record_type(SnapshotTable)


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

def table_of(record: type[Any]) -> type[SQLModel]:
    """The table a record type was derived from."""
    table: type[SQLModel] = record.__table_model__
    return table


def field_names(record: type[Any]) -> tuple[str, ...]:
    """A record type's field names, in column order."""
    return tuple(column.name for column in columns_of(table_of(record)))
