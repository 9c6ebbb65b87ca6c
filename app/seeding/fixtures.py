"""Fixture files: a hand-editable YAML inventory, validated whole before anything is written.

``load_fixtures`` reads and checks a file and returns the records to insert; ``apply_fixtures``
writes them in one transaction. Any problem raises ``FixtureError`` naming the file, the entry
and the field, and the database is left untouched.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from operator import attrgetter
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

import orjson
import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from ..store.base import Store
from ..store.columns import field_names, max_length
from ..store.records import (
    Account,
    BackupStorage,
    Image,
    ImageBackupStorageRef,
    Record,
    TagPattern,
    VolumeBackup,
    VolumeBackupStorageRef,
)
from ..zstack.inventories import (
    ACCOUNT,
    IMAGE,
    IMAGE_BACKUP_STORAGE_REF,
    IMAGE_STORE_BACKUP_STORAGE,
    VOLUME_BACKUP,
    VOLUME_BACKUP_STORAGE_REF,
    InventoryView,
)
from ..zstack.passwords import hash_password

R = TypeVar("R", bound=Record)

FIXTURES_META_KEY = "fixtures"
DEFAULT_OWNER = "admin"
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
_UUID_PATTERN = r"^[0-9a-f]{32}$"
#: libyaml's loader when PyYAML has it (ten times faster on large generated files).
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: What an account name or UUID that names an owner may be at most.
_ACCOUNT_NAME = max_length(Account, "name")
_DESCRIPTION = max_length(Account, "description")
_UUID_LENGTH = max_length(VolumeBackup, "uuid")
#: The image columns a volume backup's metadata fills in when an image is made from it.
METADATA_FIELDS = {
    "platform": max_length(Image, "platform"),
    "guestOsType": max_length(Image, "guest_os_type"),
    "architecture": max_length(Image, "architecture"),
}


class FixtureError(Exception):
    """A fixtures file that cannot be loaded; the message says where and why."""


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    uuid: str = Field(pattern=_UUID_PATTERN)
    createDate: datetime | None = None
    lastOpDate: datetime | None = None

    def dates(self) -> dict[str, datetime]:
        """createDate and lastOpDate in UTC, by column; a date without a zone is UTC."""
        created = _utc(self.createDate) if self.createDate else _EPOCH
        return {"create_date": created, "last_op_date": _utc(self.lastOpDate) if self.lastOpDate else created}


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is UTC:
        return moment
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class _Owned(_Entry):
    owner: str = Field(DEFAULT_OWNER, max_length=_ACCOUNT_NAME)


class AccountFixture(_Entry):
    name: str = Field(min_length=1, max_length=255)
    password: str | None = Field(None, min_length=1, description="Plain text, stored as its SHA-512 digest.")
    passwordSha512: str | None = Field(None, pattern=r"^[0-9a-fA-F]{128}$", description="Or the digest itself.")
    type: Literal["SystemAdmin", "Normal"] = "Normal"
    description: str | None = Field(None, max_length=_DESCRIPTION)

    @model_validator(mode="after")
    def _one_password(self) -> AccountFixture:
        if (self.password is None) == (self.passwordSha512 is None):
            raise ValueError("give exactly one of password and passwordSha512")
        return self

    def password_digest(self) -> str:
        return self.passwordSha512.lower() if self.passwordSha512 is not None else hash_password(self.password or "")


class BackupStorageFixture(_Owned):
    name: str = Field(max_length=255)
    description: str | None = None
    hostname: str
    url: str = "/zstack_bs"
    username: str = "root"
    sshPort: int = Field(22, ge=1, le=65535)
    type: Literal["ImageStoreBackupStorage"] = "ImageStoreBackupStorage"
    state: Literal["Enabled", "Disabled"] = "Enabled"
    status: Literal["Connecting", "Connected", "Disconnected"] = "Connected"
    totalCapacity: int = Field(ge=0)
    availableCapacity: int = Field(ge=0)
    attachedZoneUuids: list[str] = []


class BackupRefFixture(BaseModel):
    model_config = ConfigDict(extra="forbid")
    backupStorageUuid: str = Field(pattern=_UUID_PATTERN)
    installPath: str = Field(
        pattern=r"^zstore://[^/]+/[^/]+$", max_length=max_length(VolumeBackupStorageRef, "install_path")
    )
    status: Literal["Creating", "Ready", "Deleted"] = "Ready"


class VolumeBackupFixture(_Owned):
    name: str = Field(max_length=255)
    description: str | None = Field(None, max_length=_DESCRIPTION)
    volumeUuid: str | None = Field(None, max_length=_UUID_LENGTH)
    vmInstanceUuid: str | None = Field(None, max_length=_UUID_LENGTH)
    groupUuid: str | None = Field(None, max_length=_UUID_LENGTH)
    type: Literal["Root", "Data"] = "Root"
    mode: Literal["full", "incremental", "auto"] = "full"
    state: Literal["Enabled", "Disabled"] = "Enabled"
    status: Literal["Creating", "Ready", "Deleted"] = "Ready"
    size: int = Field(ge=0)
    hypervisorType: str | None = Field("KVM", max_length=max_length(VolumeBackup, "hypervisor_type"))
    metadata: dict[str, Any] | None = Field(
        None, description="Read at its top level when an image is made from the backup: platform, guestOsType, "
        "architecture (strings that fit the image's fields) and virtio.",
    )
    backupStorageRefs: list[BackupRefFixture] = []

    @model_validator(mode="after")
    def _metadata_fits_an_image(self) -> VolumeBackupFixture:
        for key, length in METADATA_FIELDS.items():
            value = (self.metadata or {}).get(key)
            if value is not None and not (isinstance(value, str) and len(value) <= length):
                raise ValueError(f"metadata.{key} must be a string of at most {length} characters")
        return self


class TagFixture(_Owned):
    name: str = Field(max_length=255)
    value: str | None = None
    description: str | None = None
    color: str | None = None
    type: Literal["simple", "withToken"] = "simple"


class ImageRefFixture(BaseModel):
    model_config = ConfigDict(extra="forbid")
    backupStorageUuid: str = Field(pattern=_UUID_PATTERN)
    installPath: str
    status: Literal["Creating", "Downloading", "Ready", "Error", "Deleted", "Migrating"] = "Ready"


class ImageFixture(_Owned):
    name: str = Field(max_length=255)
    description: str | None = None
    state: Literal["Enabled", "Disabled"] = "Enabled"
    status: Literal["Creating", "Downloading", "Ready", "Error", "Deleted", "Migrating"] = "Ready"
    size: int = Field(ge=0)
    actualSize: int | None = Field(None, ge=0)
    md5Sum: str | None = None
    url: str | None = None
    mediaType: Literal["RootVolumeTemplate", "DataVolumeTemplate", "ISO"] = "RootVolumeTemplate"
    guestOsType: str | None = None
    type: str = "zstack"
    platform: Literal["Linux", "Windows", "Other", "Paravirtualization", "WindowsVirtio"] | None = None
    architecture: Literal["x86_64", "aarch64", "mips64el", "loongarch64"] | None = None
    format: str = "qcow2"
    system: bool = False
    virtio: bool | None = None
    backupStorageRefs: list[ImageRefFixture] = []


_SECTIONS: dict[str, type[_Entry]] = {
    "accounts": AccountFixture,
    "backupStorages": BackupStorageFixture,
    "volumeBackups": VolumeBackupFixture,
    "tags": TagFixture,
    "images": ImageFixture,
}
_SECTION_ADAPTERS: dict[str, TypeAdapter[list[Any]]] = {
    section: TypeAdapter(list[model]) for section, model in _SECTIONS.items()  # type: ignore[valid-type]
}


def load_fixtures(path: Path) -> list[Record]:
    """Read and validate a fixtures file; return the records to insert, in dependency order."""
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except OSError as exc:
        raise FixtureError(f"{path}: cannot read the fixtures file: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise FixtureError(f"{path}: not valid YAML: {exc}") from None
    return fixture_records(document, source=str(path))


def fixture_records(document: Any, *, source: str) -> list[Record]:
    """Validate a fixtures document (as read from YAML) and convert it to records.

    Every fixture, hand-written or generated, goes through here. ``source`` names it in errors.
    """
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise FixtureError(f"{source}: the top level must be a mapping of sections {sorted(_SECTIONS)}")
    unknown = sorted(set(document) - set(_SECTIONS))
    if unknown:
        raise FixtureError(f"{source}: unknown section(s) {unknown}; known sections are {sorted(_SECTIONS)}")
    entries = {section: _parse_section(source, section, document.get(section) or []) for section in _SECTIONS}
    return _FixtureBuilder(source, entries).records()


def _parse_section(source: str, section: str, items: Any) -> list[Any]:
    if not isinstance(items, list):
        raise FixtureError(f"{source}: section '{section}' must be a list of entries")
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise FixtureError(f"{_where(source, section, index, item)}: an entry must be a mapping of fields")
    try:
        # One call for the whole section: per-entry calls cost a third more on 100,000 entries.
        return _SECTION_ADAPTERS[section].validate_python(items)
    except ValidationError as exc:
        problem = exc.errors()[0]
        position, *path = problem["loc"]
        field = ".".join(str(p) for p in path) or "(entry)"
        where = _where(source, section, int(position), items[int(position)])
        raise FixtureError(f"{where}: field '{field}': {problem['msg']}") from None


def _where(source: str, section: str, index: int, item: Any) -> str:
    where = f"{source}: {section}[{index}]"
    if isinstance(item, dict) and "uuid" in item:
        where += f" (uuid {item['uuid']})"
    return where


class _FromEntry(Generic[R]):
    """Makes records of one type from fixture entries.

    An entry's fields are named as the inventory's JSON fields (``actualSize``), so each column is
    read from the field its inventory view maps it to (camelCase where the table has no view).
    The columns named in ``computed`` are not read: the caller gives their values.
    """

    def __init__(self, record_type: type[R], view: InventoryView | None, computed: Collection[str]) -> None:
        columns = field_names(record_type)
        if view is None:
            entry_fields = {column: to_camel(column) for column in columns}
        else:
            entry_fields = {field.column: field.name for field in view.fields.values()}
        self.record_type = record_type
        self.columns = tuple(column for column in columns if column not in computed)
        self.read = attrgetter(*(entry_fields[column] for column in self.columns))

    def record(self, entry: BaseModel, computed: dict[str, Any]) -> R:
        """The record of ``entry``; ``computed`` holds the values of the computed columns."""
        values = dict(zip(self.columns, self.read(entry), strict=True))
        values.update(computed)
        return self.record_type(**values)


_DATE_COLUMNS = ("create_date", "last_op_date")
_ACCOUNT = _FromEntry(Account, ACCOUNT, computed=("password_sha512", *_DATE_COLUMNS))
_BACKUP_STORAGE = _FromEntry(
    BackupStorage, IMAGE_STORE_BACKUP_STORAGE, computed=("attached_zone_uuids", "account_uuid", *_DATE_COLUMNS)
)
_VOLUME_BACKUP = _FromEntry(VolumeBackup, VOLUME_BACKUP, computed=("metadata_json", "account_uuid", *_DATE_COLUMNS))
_VOLUME_BACKUP_REF = _FromEntry(
    VolumeBackupStorageRef, VOLUME_BACKUP_STORAGE_REF, computed=("volume_backup_uuid", *_DATE_COLUMNS)
)
_TAG_PATTERN = _FromEntry(TagPattern, None, computed=("value", "account_uuid", *_DATE_COLUMNS))
_IMAGE = _FromEntry(Image, IMAGE, computed=("actual_size", "account_uuid", *_DATE_COLUMNS))
_IMAGE_REF = _FromEntry(
    ImageBackupStorageRef,
    IMAGE_BACKUP_STORAGE_REF,
    computed=("id", "image_uuid", "export_url", "export_md5_sum", *_DATE_COLUMNS),
)


class _FixtureBuilder:
    """Cross-entry checks (unique UUIDs and names, known owners and storages) and conversion."""

    def __init__(self, source: str, entries: dict[str, list[Any]]) -> None:
        self.source = source
        self.entries = entries
        self.seen: dict[str, tuple[str, int]] = {}
        self.account_uuids: dict[str, str] = {}
        self.storage_uuids: set[str] = set()

    def fail(self, section: str, index: int, entry: _Entry, field: str, problem: str) -> FixtureError:
        return FixtureError(f"{self.source}: {section}[{index}] (uuid {entry.uuid}): field '{field}': {problem}")

    def claim(self, section: str, index: int, entry: _Entry) -> None:
        if entry.uuid in self.seen:
            first_section, first_index = self.seen[entry.uuid]
            raise self.fail(section, index, entry, "uuid", f"already used by {first_section}[{first_index}]")
        self.seen[entry.uuid] = (section, index)

    def owner(self, section: str, index: int, entry: _Owned) -> str:
        if entry.owner not in self.account_uuids:
            raise self.fail(section, index, entry, "owner", f"no account named '{entry.owner}' in 'accounts'")
        return self.account_uuids[entry.owner]

    def storage(self, section: str, index: int, entry: _Entry, uuid: str, ref_index: int) -> str:
        if uuid not in self.storage_uuids:
            raise self.fail(
                section, index, entry, f"backupStorageRefs.{ref_index}.backupStorageUuid",
                f"no backup storage {uuid} in 'backupStorages'",
            )
        return uuid

    def records(self) -> list[Record]:
        records: list[Record] = []
        for index, account in enumerate(self.entries["accounts"]):
            self.claim("accounts", index, account)
            if account.name in self.account_uuids:
                raise self.fail("accounts", index, account, "name", f"'{account.name}' is used twice")
            self.account_uuids[account.name] = account.uuid
            records.append(account_record(account))
        for index, bs in enumerate(self.entries["backupStorages"]):
            self.claim("backupStorages", index, bs)
            self.storage_uuids.add(bs.uuid)
            computed = {
                "attached_zone_uuids": ",".join(bs.attachedZoneUuids),
                "account_uuid": self.owner("backupStorages", index, bs),
                **bs.dates(),
            }
            records.append(_BACKUP_STORAGE.record(bs, computed))
        for index, vb in enumerate(self.entries["volumeBackups"]):
            self.claim("volumeBackups", index, vb)
            owner = self.owner("volumeBackups", index, vb)
            for ref_index, ref in enumerate(vb.backupStorageRefs):
                self.storage("volumeBackups", index, vb, ref.backupStorageUuid, ref_index)
            records.extend(volume_backup_records(vb, owner))
        for index, tag in enumerate(self.entries["tags"]):
            self.claim("tags", index, tag)
            computed = {"value": tag.value or tag.name, "account_uuid": self.owner("tags", index, tag), **tag.dates()}
            records.append(_TAG_PATTERN.record(tag, computed))
        for index, image in enumerate(self.entries["images"]):
            self.claim("images", index, image)
            dates = image.dates()
            computed = {
                "actual_size": image.actualSize if image.actualSize is not None else image.size,
                "account_uuid": self.owner("images", index, image),
                **dates,
            }
            records.append(_IMAGE.record(image, computed))
            for ref_index, ref in enumerate(image.backupStorageRefs):
                self.storage("images", index, image, ref.backupStorageUuid, ref_index)
                computed = {"id": None, "image_uuid": image.uuid, "export_url": None, "export_md5_sum": None, **dates}
                records.append(_IMAGE_REF.record(ref, computed))
        return records


def account_record(account: AccountFixture) -> Account:
    return _ACCOUNT.record(account, {"password_sha512": account.password_digest(), **account.dates()})


def volume_backup_records(vb: VolumeBackupFixture, owner_uuid: str) -> list[Record]:
    """The backup and its storage refs; the caller has checked the owner and the storages exist."""
    dates = vb.dates()
    metadata = None if vb.metadata is None else orjson.dumps(vb.metadata).decode()
    records: list[Record] = [
        _VOLUME_BACKUP.record(vb, {"metadata_json": metadata, "account_uuid": owner_uuid, **dates})
    ]
    records.extend(
        _VOLUME_BACKUP_REF.record(ref, {"volume_backup_uuid": vb.uuid, **dates}) for ref in vb.backupStorageRefs
    )
    return records


class FixtureCache:
    """The records of the fixtures file a server started with, parsed once and kept.

    The file is configuration, not state: ``POST /_mock/reset`` reloads these records without
    reading it again. Callers must not change the records (the store copies them).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._records: list[Record] | None = None

    def records(self) -> list[Record]:
        if self._records is None:
            self._records = load_fixtures(self.path)
        return self._records


def apply_fixtures(store: Store, records: Sequence[Record], source: str) -> None:
    """Replace the whole inventory with ``records`` in one transaction."""
    with store.transaction():
        store.replace_inventory(records)
        store.set_meta(FIXTURES_META_KEY, source)
