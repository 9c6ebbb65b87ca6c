"""ZStack inventories: one declaration per inventory, a view over its table, and one renderer.

An ``InventoryView``'s JSON fields are its table's columns (``app.store.tables``) in column order,
which is the order ZStack's Java inventory class declares them and clients see them in, named in
camelCase (``actual_size`` -> ``actualSize``), less the hidden columns, with a few renamed or
converted. Timestamps render as ZStack renders them (``java_date``), null fields are left out (as
Gson does), child lists (``backupStorageRefs``) are always present.

The views also tell the query APIs which fields there are and of what kind
(``app.domain.queries``), and name the Java class of every object of a reply (the ``schema`` maps).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any, Literal

from pydantic.alias_generators import to_camel

from ..store.columns import columns_of
from ..store.records import (
    Account,
    BackupStorage,
    Image,
    ImageBackupStorageRef,
    Session,
    TagPattern,
    VolumeBackup,
    VolumeBackupStorageRef,
)
from .timefmt import java_date

Kind = Literal["string", "int", "bool", "date"]
_KINDS: dict[type, Kind] = {str: "string", int: "int", bool: "bool", datetime: "date"}


@dataclass(frozen=True, slots=True)
class InventoryField:
    """One JSON field of an inventory and the column it comes from."""

    name: str
    column: str
    kind: Kind
    #: Left out of the JSON when null (the column is nullable).
    optional: bool
    #: The query APIs can filter, sort and select on it.
    queryable: bool


@dataclass(frozen=True, slots=True)
class Child:
    """A list field of an inventory: the rows of another view's table whose ``link`` is the parent's uuid."""

    name: str
    view: InventoryView
    link: str
    #: The order the query APIs list them in.
    order_by: tuple[str, ...]


class InventoryView:
    """What one inventory's JSON holds, read off its record type's table.

    ``hidden``: columns that are no inventory field. ``renames``: column -> JSON name where camelCase
    is not it. ``converters``: column -> function of its (non-null) value where the JSON value is
    not the stored one; date columns default to ``java_date``. ``unqueryable``: columns the query
    APIs do not offer.
    """

    def __init__(
        self,
        record_type: type[Any],
        java_class: str,
        *,
        hidden: Collection[str] = (),
        renames: Mapping[str, str] | None = None,
        converters: Mapping[str, Callable[[Any], Any]] | None = None,
        unqueryable: Collection[str] = (),
        children: Sequence[Child] = (),
    ) -> None:
        renames = renames or {}
        converters = converters or {}
        columns = columns_of(record_type)
        unknown = {*hidden, *renames, *converters, *unqueryable} - {column.name for column in columns}
        if unknown:
            raise ValueError(f"{java_class}: {record_type.__tablename__} has no columns {sorted(unknown)}")
        self.record_type = record_type
        self.java_class = java_class
        self.fields: dict[str, InventoryField] = {}
        for column in columns:
            if column.name in hidden:
                continue
            field = InventoryField(
                name=renames.get(column.name, to_camel(column.name)),
                column=column.name,
                kind=_KINDS[column.type],
                optional=bool(column.nullable),
                queryable=column.name not in unqueryable,
            )
            self.fields[field.name] = field
        self.children: dict[str, Child] = {child.name: child for child in children}
        # Precomputed for ``render``: one C call reads every shown column of a record.
        self._values = attrgetter(*(field.column for field in self.fields.values()))
        self._names = tuple(self.fields)
        self._converters = tuple(
            converters.get(field.column, java_date if field.kind == "date" else None)
            for field in self.fields.values()
        )
        self._children = tuple((child.name, child.view) for child in children)

    def render(self, record: Any, children: Sequence[Any] = ()) -> dict[str, Any]:
        """The inventory of ``record``; ``children`` are the rows of its child lists, in the order to list them."""
        body: dict[str, Any] = {}
        for name, convert, value in zip(self._names, self._converters, self._values(record), strict=True):
            if value is not None:
                body[name] = value if convert is None else convert(value)
        for name, view in self._children:
            body[name] = [view.render(row) for row in children if type(row) is view.record_type]
        return body


def _zone_list(uuids: str) -> list[str]:
    """``attached_zone_uuids`` is stored comma-separated."""
    return [uuid for uuid in uuids.split(",") if uuid]


IMAGE_BACKUP_STORAGE_REF = InventoryView(
    ImageBackupStorageRef, "org.zstack.header.image.ImageBackupStorageRefInventory"
)
IMAGE = InventoryView(
    Image,
    "org.zstack.header.image.ImageInventory",
    hidden=("account_uuid",),
    children=[Child("backupStorageRefs", IMAGE_BACKUP_STORAGE_REF, link="image_uuid", order_by=("id",))],
)
VOLUME_BACKUP_STORAGE_REF = InventoryView(
    VolumeBackupStorageRef, "org.zstack.header.storage.volume.backup.VolumeBackupStorageRefInventory"
)
VOLUME_BACKUP = InventoryView(
    VolumeBackup,
    "org.zstack.header.storage.volume.backup.VolumeBackupInventory",
    hidden=("account_uuid",),
    renames={"metadata_json": "metadata"},
    children=[
        Child(
            "backupStorageRefs", VOLUME_BACKUP_STORAGE_REF, link="volume_backup_uuid", order_by=("backup_storage_uuid",)
        )
    ],
)
#: An ImageStore backup storage: BackupStorageInventory's fields plus hostname, username, sshPort.
IMAGE_STORE_BACKUP_STORAGE = InventoryView(
    BackupStorage,
    "org.zstack.storage.backup.imagestore.ImageStoreBackupStorageInventory",
    hidden=("account_uuid",),
    converters={"attached_zone_uuids": _zone_list},
    unqueryable=("attached_zone_uuids",),
)
TAG_PATTERN = InventoryView(TagPattern, "org.zstack.header.tag.TagPatternInventory", hidden=("account_uuid",))
SESSION = InventoryView(Session, "org.zstack.header.identity.SessionInventory")
#: Never the password.
ACCOUNT = InventoryView(Account, "org.zstack.header.identity.AccountInventory", hidden=("password_sha512",))


def reply_schema(
    reply: Mapping[str, Any], views: Mapping[str, InventoryView], *, classes: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The ``schema`` map of a REST reply, as ZStack's ``JsonSchemaBuilder`` writes it: the Java class of
    every object in the reply by JSON path, ``views`` naming the inventory each reply field holds
    (``classes``: reply field -> the class its objects are, where not their view's).

    The builder records each object after its children, walking the reply's fields in the order the
    reply map iterates them, then reverses the whole list: parents come before their children, and
    the last element of a list comes first. The Java SDK applies the map in that order, so a parent
    listed after its children would be rebuilt untyped over them.
    """
    recorded: list[tuple[str, str]] = []
    for name, value in reply.items():
        view = views.get(name)
        if view is None:
            continue
        java_class = (classes or {}).get(name, view.java_class)
        if isinstance(value, list):
            for index, item in enumerate(value):
                _record_schema(view, java_class, f"{name}[{index}]", item, recorded)
        elif isinstance(value, Mapping):
            _record_schema(view, java_class, name, value, recorded)
    return dict(reversed(recorded))


def _record_schema(
    view: InventoryView, java_class: str, path: str, inventory: Mapping[str, Any], recorded: list[tuple[str, str]]
) -> None:
    for name, child in view.children.items():
        for index, item in enumerate(inventory.get(name, ())):
            _record_schema(child.view, child.view.java_class, f"{path}.{name}[{index}]", item, recorded)
    recorded.append((path, java_class))


def image_inventory(image: Image, refs: Sequence[ImageBackupStorageRef]) -> dict[str, Any]:
    return IMAGE.render(image, refs)


def volume_backup_inventory(backup: VolumeBackup, refs: Sequence[VolumeBackupStorageRef]) -> dict[str, Any]:
    return VOLUME_BACKUP.render(backup, refs)


def backup_storage_inventory(storage: BackupStorage) -> dict[str, Any]:
    return IMAGE_STORE_BACKUP_STORAGE.render(storage)


def session_inventory(session: Session) -> dict[str, Any]:
    return SESSION.render(session)


def account_inventory(account: Account) -> dict[str, Any]:
    return ACCOUNT.render(account)


def tag_pattern_inventory(tag: TagPattern) -> dict[str, Any]:
    return TAG_PATTERN.render(tag)
