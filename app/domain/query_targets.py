"""What a query can name, resolved as ZStack's ZQL resolves it (``search/.../zql/ast/ZQLMetadata.java``).

Every inventory class is a ``Target``: the field names the Java class has (what ZQL's field check
accepts), the ones stored here with their columns, its expanded queries (``@ExpandedQuery`` and the
``@Queryable`` lists: a name that joins another inventory on a key) and its aliases
(``@ExpandedQueryAlias``: ``backupStorage`` stands for ``backupStorageRef.backupStorage``). A
condition name ``a.b.field`` walks expansions ``a`` then ``b`` and names ``field`` of the last
inventory reached; ``resolve`` does that walk, with ZQL's alias rewriting and its shortcut (a last
expansion whose key is the field asked for is skipped), and fails with ZQL's own texts.

Zones, volumes and volume snapshots are inventories a real node has and this one does not store:
``Target.stored`` is False, so a condition through them matches nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ..zstack.inventories import (
    IMAGE,
    IMAGE_BACKUP_STORAGE_REF,
    IMAGE_STORE_BACKUP_STORAGE,
    TAG_PATTERN,
    VOLUME_BACKUP,
    VOLUME_BACKUP_STORAGE_REF,
    InventoryView,
)
from ..zstack.zql import no_expanded_query, not_having_field

SYSTEM_TAG = "__systemTag__"
USER_TAG = "__userTag__"
TAG_PATTERN_UUID = "__tagUuid__"
#: Names every inventory accepts (``InventoryMetadata.hasInventoryField``).
TAG_NAMES = frozenset({SYSTEM_TAG, USER_TAG, TAG_PATTERN_UUID})


@dataclass(frozen=True, slots=True)
class Expansion:
    """``self_key`` of this inventory equals ``target_key`` of the ``target`` inventory."""

    target: str
    self_key: str
    target_key: str


@dataclass(slots=True)
class Target:
    """One inventory class as ZQL sees it."""

    java_class: str
    #: The stored fields, when this kind of inventory is stored here.
    view: InventoryView | None
    #: Every field name of the Java class (without ``@APINoSee`` ones), stored or not.
    names: frozenset[str]
    expansions: dict[str, Expansion] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    #: Set where a real node's answer depends on records this one keeps another way (zones): why.
    unemulated: str | None = None

    @property
    def stored(self) -> bool:
        return self.view is not None

    @property
    def simple_name(self) -> str:
        return self.java_class.rsplit(".", 1)[-1]

    def has_field(self, name: str) -> bool:
        """ZQL's field check: a field of the class, a tag name, or the key of one of its expansions."""
        return (
            name in self.names
            or name in TAG_NAMES
            or any(e.self_key == name for e in self.expansions.values())
        )


@dataclass(frozen=True, slots=True)
class Resolved:
    """A condition name resolved: the expansions to walk from the query's inventory, then a field."""

    steps: tuple[tuple[Target, Expansion], ...]
    target: Target
    field: str


def _view_names(view: InventoryView, *extra: str) -> frozenset[str]:
    return frozenset({*view.fields, *view.children, *extra})


_IMAGE = "org.zstack.header.image.ImageInventory"
_IMAGE_REF = "org.zstack.header.image.ImageBackupStorageRefInventory"
_BACKUP_STORAGE = "org.zstack.header.storage.backup.BackupStorageInventory"
_IMAGE_STORE = "org.zstack.storage.backup.imagestore.ImageStoreBackupStorageInventory"
_VOLUME_BACKUP = "org.zstack.header.storage.volume.backup.VolumeBackupInventory"
_VOLUME_BACKUP_REF = "org.zstack.header.storage.volume.backup.VolumeBackupStorageRefInventory"
_VOLUME = "org.zstack.header.volume.VolumeInventory"
_ZONE_REF = "org.zstack.header.storage.backup.BackupStorageZoneRefInventory"
_SNAPSHOT_REF = "org.zstack.header.storage.snapshot.VolumeSnapshotBackupStorageRefInventory"
_TAG_PATTERN = "org.zstack.header.tag.TagPatternInventory"
_USER_TAG = "org.zstack.header.tag.UserTagInventory"

#: ImageStore's own fields, which BackupStorageInventory does not have.
_IMAGE_STORE_ONLY = frozenset({"hostname", "username", "sshPort"})

_BACKUP_STORAGE_EXPANSIONS = {
    "zoneRef": Expansion(_ZONE_REF, "uuid", "backupStorageUuid"),
    "imageRef": Expansion(_IMAGE_REF, "uuid", "backupStorageUuid"),
    "volumeSnapshotRef": Expansion(_SNAPSHOT_REF, "uuid", "backupStorageUuid"),
}
_BACKUP_STORAGE_ALIASES = {
    "zone": "zoneRef.zone",
    "image": "imageRef.image",
    "volumeSnapshot": "volumeSnapshotRef.volumeSnapshot",
}

TARGETS: dict[str, Target] = {
    target.java_class: target
    for target in (
        Target(
            _IMAGE,
            IMAGE,
            _view_names(IMAGE, "systemTags"),
            expansions={
                "backupStorageRefs": Expansion(_IMAGE_REF, "uuid", "imageUuid"),
                "backupStorageRef": Expansion(_IMAGE_REF, "uuid", "imageUuid"),
                "volume": Expansion(_VOLUME, "uuid", "rootImageUuid"),
            },
            aliases={"backupStorage": "backupStorageRef.backupStorage"},
        ),
        Target(
            _IMAGE_REF,
            IMAGE_BACKUP_STORAGE_REF,
            _view_names(IMAGE_BACKUP_STORAGE_REF) - {"id"},
            expansions={
                "image": Expansion(_IMAGE, "imageUuid", "uuid"),
                "backupStorage": Expansion(_BACKUP_STORAGE, "backupStorageUuid", "uuid"),
            },
        ),
        Target(
            _BACKUP_STORAGE,
            IMAGE_STORE_BACKUP_STORAGE,
            _view_names(IMAGE_STORE_BACKUP_STORAGE) - _IMAGE_STORE_ONLY,
            expansions=_BACKUP_STORAGE_EXPANSIONS,
            aliases=_BACKUP_STORAGE_ALIASES,
        ),
        Target(
            _IMAGE_STORE,
            IMAGE_STORE_BACKUP_STORAGE,
            _view_names(IMAGE_STORE_BACKUP_STORAGE),
            expansions=_BACKUP_STORAGE_EXPANSIONS,
            aliases=_BACKUP_STORAGE_ALIASES,
        ),
        Target(
            _VOLUME_BACKUP,
            VOLUME_BACKUP,
            _view_names(VOLUME_BACKUP),
            expansions={
                "backupStorageRefs": Expansion(_VOLUME_BACKUP_REF, "uuid", "volumeBackupUuid"),
                "backupStorageRef": Expansion(_VOLUME_BACKUP_REF, "uuid", "volumeBackupUuid"),
            },
            aliases={"backupStorage": "backupStorageRef.backupStorage"},
        ),
        Target(
            _VOLUME_BACKUP_REF,
            VOLUME_BACKUP_STORAGE_REF,
            _view_names(VOLUME_BACKUP_STORAGE_REF),
            expansions={
                "volumeBackup": Expansion(_VOLUME_BACKUP, "volumeBackupUuid", "uuid"),
                "backupStorage": Expansion(_BACKUP_STORAGE, "backupStorageUuid", "uuid"),
            },
        ),
        Target(
            _VOLUME,
            None,
            frozenset({
                "uuid", "name", "description", "primaryStorageUuid", "vmInstanceUuid", "diskOfferingUuid",
                "rootImageUuid", "installPath", "type", "format", "size", "actualSize", "deviceId", "state",
                "status", "createDate", "lastOpDate", "isShareable", "volumeQos", "lastDetachDate",
                "lastVmInstanceUuid", "lastAttachDate", "protocol",
            }),
        ),
        Target(
            _ZONE_REF,
            None,
            frozenset({"backupStorageUuid", "zoneUuid", "createDate", "lastOpDate"}),
            unemulated="zones are kept as attachedZoneUuids, not as ZStack's zone refs",
        ),
        Target(_SNAPSHOT_REF, None, frozenset({"volumeSnapshotUuid", "backupStorageUuid", "installPath"})),
        Target(
            _TAG_PATTERN,
            TAG_PATTERN,
            _view_names(TAG_PATTERN),
            expansions={"tag": Expansion(_USER_TAG, "uuid", "tagPatternUuid")},
        ),
        # A tag pattern's attachments to resources: kept here as image_tag rows, not as ZStack's user tags.
        Target(
            _USER_TAG,
            None,
            frozenset({"uuid", "resourceUuid", "resourceType", "tag", "type", "createDate", "lastOpDate",
                       "tagPatternUuid", "tagPattern"}),
            unemulated="a tag's attachments are kept as the images' tagUuids, not as ZStack's user tags",
        ),
    )
}

IMAGE_TARGET = TARGETS[_IMAGE]
VOLUME_BACKUP_TARGET = TARGETS[_VOLUME_BACKUP]
BACKUP_STORAGE_TARGET = TARGETS[_BACKUP_STORAGE]
IMAGE_STORE_TARGET = TARGETS[_IMAGE_STORE]
TAG_PATTERN_TARGET = TARGETS[_TAG_PATTERN]


def resolve(target: Target, name: str) -> Resolved:
    """Resolve the condition name ``name`` on ``target`` (``ChainQueryStructGetter``): aliases
    rewritten, the redundant last expansion dropped, then the field checked on the inventory reached.

    Past an inventory this node does not store, names are not checked: such a condition matches
    nothing whatever it names.
    """
    names = name.split(".")
    if len(names) > 1:
        path, field_name = _compress(target, iter(names[:-1]), [], names[-1])
    else:
        path, field_name = [], name
    steps: list[tuple[Target, Expansion]] = []
    current = target
    for step in path:
        expansion = current.expansions[step]
        steps.append((current, expansion))
        current = TARGETS[expansion.target]
    if "." not in field_name and not current.has_field(field_name):
        raise not_having_field(current.java_class, field_name)
    return Resolved(tuple(steps), current, field_name)


def _compress(
    current: Target, names: Iterable[str], path: list[str], field_name: str
) -> tuple[list[str], str]:
    """``resolveAliasAndCompressCondition``: the expansions to walk and the field at their end."""
    remaining = iter(names)
    for name in remaining:
        alias = current.aliases.get(name)
        if alias is not None:
            return _compress(current, [*alias.split("."), *remaining], path, field_name)
        expansion = current.expansions.get(name)
        if expansion is None:
            # ZQL names what is left of the path after this name (its iterator has moved past it).
            raise no_expanded_query(".".join(remaining), current.java_class, name)
        after = TARGETS[expansion.target]
        rest = list(remaining)
        if not rest and field_name == expansion.target_key:
            return path, expansion.self_key
        path.append(name)
        if not after.stored and not after.expansions:
            # Not stored here: whatever follows is taken as it comes.
            return path, ".".join([*rest, field_name])
        return _compress(after, rest, path, field_name)
    return path, field_name
