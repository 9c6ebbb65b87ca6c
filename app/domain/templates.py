"""CreateRootVolumeTemplateFromVolumeBackup: a root-volume image from a volume backup.

The checks run in the real management node's order (see docs/behaviour.md):

1. parameter types, then each field's value and existence, in the message's HashMap order (SYS.1007,
   SYS.1003);
2. the session (ID.1001), renewed when live; ownership of the backup and tags (ID.1002);
3. ``resourceUuid`` format (SYS.1007); backup-storage state must be Enabled (SYS.1006);
   system tags must match a known pattern (SYS.1007);
4. in the handler: the storage must hold the backup (SYS.1006); ``resourceUuid`` must be free
   (SYS.1000); the storage must be Connected, else the download fails (SYS.1002, cause SYS.1006).

Step 1 runs before this module is called (the API catalogue checks the message against its
``@APIParam`` spec); ``message`` holds the checked values and the records its fields name.

Quotas: only zstack-mock's own bound on the images one fake cloud holds (``app.domain.quotas``,
ID.1003 after the ownership checks), not ZStack's per-account quotas. Not emulated: the image's
``image::cert::`` system tag, syncing VM system tags from the backup's metadata.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from ..store.base import Store
from ..store.records import (
    Account,
    BackupStorage,
    Image,
    ImageBackupStorageRef,
    ImageTag,
    TagPattern,
    VolumeBackup,
    VolumeBackupStorageRef,
)
from ..zstack.errors import (
    CREATE_FAILED,
    INTERNAL_ERROR,
    OPERATION_FAILED,
    ErrorCode,
    ZStackError,
    invalid_argument,
    operation_failed,
    zstack_error,
)
from ..zstack.inventories import image_inventory
from ..zstack.params import RESOURCE_UUID, CheckedMessage
from ..zstack.system_tags import unmatched_system_tag
from . import quotas
from .context import Context
from .job_kinds import JobStart, JobSteps
from .resources import resource_uuid_taken
from .sessions import authenticate, check_owner

#: The message class, as the storage-state error names it.
MESSAGE_CLASS = "org.zstack.header.storage.volume.backup.APICreateRootVolumeTemplateFromVolumeBackupMsg"

DEFAULT_PLATFORM = "Other"
DEFAULT_ARCHITECTURE = "x86_64"



@dataclass(frozen=True, slots=True)
class CreatedImage:
    image: Image
    refs: list[ImageBackupStorageRef]


@dataclass(frozen=True, slots=True)
class _Plan:
    """A request that passed every check but the download: the image to store and where from."""

    created: CreatedImage
    storage: BackupStorage
    tag_uuids: list[str]


def create_root_volume_template_from_volume_backup(
    *, ctx: Context, session_uuid: str | None, message: CheckedMessage
) -> dict[str, Any]:
    """The synchronous form: every check, the download, and the image added Ready; returns the reply."""
    plan = _plan(ctx=ctx, session_uuid=session_uuid, message=message)
    failure = _download_failure(plan.created.image.name, plan.storage, plan.storage.uuid)
    if failure is not None:
        raise failure
    _store(ctx, plan, status="Ready")
    return {"inventory": image_inventory(plan.created.image, plan.created.refs)}


def start_root_volume_template(*, ctx: Context, session_uuid: str | None, message: CheckedMessage) -> JobStart:
    """The asynchronous form's first half: every check, then the image stored as ``Downloading``."""
    plan = _plan(ctx=ctx, session_uuid=session_uuid, message=message)
    _store(ctx, plan, status="Downloading")
    image = plan.created.image
    return JobStart(resource_uuid=image.uuid, account_uuid=image.account_uuid)


def finish_root_volume_templates(*, ctx: Context, resource_uuids: Sequence[str]) -> dict[str, ZStackError | None]:
    """The second half of many creations in one transaction, a few statements for all of them.

    Each download succeeds (the image and its refs become Ready) unless its backup storage is no
    longer Connected; a failed one's image is removed. Returns each image's error, None if it is Ready.
    """
    image_uuids = resource_uuids
    store = ctx.store
    outcomes: dict[str, ZStackError | None] = {}
    with store.transaction():
        images = {image.uuid: image for image in store.find(Image, {"uuid__in": list(image_uuids)})}
        refs_of: dict[str, list[ImageBackupStorageRef]] = {}
        for ref in store.find(ImageBackupStorageRef, {"image_uuid__in": list(images)}, order_by=["id"]):
            refs_of.setdefault(ref.image_uuid, []).append(ref)
        storage_uuids = list({ref.backup_storage_uuid for refs in refs_of.values() for ref in refs})
        storages = {storage.uuid: storage for storage in store.find(BackupStorage, {"uuid__in": storage_uuids})}
        now = ctx.clock.now()
        ready: list[str] = []
        failed: list[str] = []
        for uuid in image_uuids:
            image = images.get(uuid)
            if image is None:
                outcomes[uuid] = operation_failed(
                    f"image[uuid:{uuid}] was deleted while it was being created", in_service=True
                )
                continue
            refs = refs_of.get(uuid, [])
            failure = next(
                (
                    failure
                    for ref in refs
                    if (failure := _download_failure(image.name, storages.get(ref.backup_storage_uuid),
                                                     ref.backup_storage_uuid))
                ),
                None,
            )
            if failure is not None:
                failed.append(uuid)
                outcomes[uuid] = failure
                continue
            ready.append(uuid)
            outcomes[uuid] = None
        if ready:
            store.update(Image, {"uuid__in": ready}, {"status": "Ready", "last_op_date": now})
            store.update(ImageBackupStorageRef, {"image_uuid__in": ready}, {"status": "Ready", "last_op_date": now})
        if failed:
            _remove(store, failed)
    return outcomes


def abandon_root_volume_template(*, ctx: Context, resource_uuid: str) -> None:
    """A failed or timed-out creation: the half-made image goes, as ZStack rolls it back."""
    with ctx.store.transaction():
        _remove(ctx.store, [resource_uuid])


def root_volume_template_reply(*, ctx: Context, resource_uuid: str) -> dict[str, Any] | None:
    """A finished creation's reply, from the image as it is now; None if the image is gone."""
    image = ctx.store.get(Image, uuid=resource_uuid)
    if image is None:
        return None
    refs = ctx.store.find(ImageBackupStorageRef, {"image_uuid": image.uuid}, order_by=["id"])
    return {"inventory": image_inventory(image, refs)}


#: The asynchronous form, step by step (``app.domain.job_kinds``).
JOB_STEPS = JobSteps(
    start=start_root_volume_template,
    finish=finish_root_volume_templates,
    abandon=abandon_root_volume_template,
    reply=root_volume_template_reply,
)


def _remove(store: Store, image_uuids: list[str]) -> None:
    store.delete(ImageTag, {"image_uuid__in": image_uuids})
    store.delete(ImageBackupStorageRef, {"image_uuid__in": image_uuids})
    store.delete(Image, {"uuid__in": image_uuids})


def _plan(*, ctx: Context, session_uuid: str | None, message: CheckedMessage) -> _Plan:
    values = message.values
    resolved = message.resources
    store = ctx.store
    backup: VolumeBackup = resolved["backupUuid"]
    storage: BackupStorage = resolved["backupStorageUuid"]
    tags: list[TagPattern] = resolved.get("tagUuids", [])

    account = authenticate(ctx=ctx, session_uuid=session_uuid)
    check_owner(ctx=ctx, account=account, resource_uuid=backup.uuid, resource_type="VolumeBackupVO",
                owner_uuid=backup.account_uuid)
    for tag in tags:
        check_owner(ctx=ctx, account=account, resource_uuid=tag.uuid, resource_type="TagPatternVO",
                    owner_uuid=tag.account_uuid)
    quotas.ensure_image_room(ctx, account)
    resource_uuid = values.get("resourceUuid")
    check_resource_uuid_format(resource_uuid)
    if storage.state != "Enabled":
        raise operation_failed(
            f"current backup storage state[{storage.state}] doesn't allow to proceed message[{MESSAGE_CLASS}], "
            "allowed states are [Enabled]"
        )
    unmatched = unmatched_system_tag(values.get("systemTags", []))
    if unmatched is not None:
        raise invalid_argument(f"no system tag matches {unmatched}")

    backup_ref = store.get(VolumeBackupStorageRef, volume_backup_uuid=backup.uuid, backup_storage_uuid=storage.uuid)
    if backup_ref is None:
        raise operation_failed(
            f"Volume backup[uuid:{backup.uuid}] not found on backup storage[uuid:{storage.uuid}]", in_service=True
        )
    ensure_resource_uuid_free(store, resource_uuid)
    created = _build_image(
        ctx=ctx,
        uuid=resource_uuid or ctx.clock.new_uuid(),
        values=values,
        account=account,
        backup=backup,
        backup_ref=backup_ref,
        storage=storage,
    )
    return _Plan(created=created, storage=storage, tag_uuids=list(dict.fromkeys(tag.uuid for tag in tags)))


def check_resource_uuid_format(resource_uuid: str | None) -> None:
    """ApiMediatorImpl's check of a create's ``resourceUuid`` (SYS.1007)."""
    if resource_uuid is not None and not RESOURCE_UUID.fullmatch(resource_uuid):
        raise invalid_argument(
            f"resourceUuid[{resource_uuid}] is not a valid uuid. A valid uuid is a UUID(v4 recommended) with '-' "
            "stripped. see http://en.wikipedia.org/wiki/Universally_unique_identifier for format of UUID, the "
            f"regular expression uses to validate a UUID is '{RESOURCE_UUID.pattern}'"
        )


def ensure_resource_uuid_free(store: Store, resource_uuid: str | None) -> None:
    """A create's ``resourceUuid`` must name no resource yet (SYS.1000, raised where the row is inserted)."""
    if resource_uuid is not None and resource_uuid_taken(store, resource_uuid):
        raise zstack_error(
            INTERNAL_ERROR,
            f"resource uuid[{resource_uuid}] conflicts with an existing resource: a resourceUuid must not be "
            "used by any other resource",
            in_service=True,
        )


def _download_failure(name: str, storage: BackupStorage | None, storage_uuid: str) -> ZStackError | None:
    """The download from the backup storage fails unless the storage is Connected."""
    status = storage.status if storage is not None else "Deleted"
    if status == "Connected":
        return None
    return zstack_error(
        CREATE_FAILED,
        f"Failed to download image[name:{name}] on all backup storage[{storage_uuid}].",
        cause=ErrorCode(
            code=OPERATION_FAILED,
            details="backup storage cannot proceed message[org.zstack.header.image.DownloadImageMsg] "
            f"because its status is {status}",
        ),
        in_service=True,
    )


def _store(ctx: Context, plan: _Plan, *, status: str) -> None:
    image = plan.created.image
    image.status = status
    for ref in plan.created.refs:
        ref.status = status
    store = ctx.store
    with store.transaction():
        store.insert(image)
        for ref in plan.created.refs:
            store.insert(ref)
        for tag_uuid in plan.tag_uuids:
            store.insert(ImageTag(image_uuid=image.uuid, tag_uuid=tag_uuid))
    quotas.added(ctx, Image)


def _metadata(backup: VolumeBackup) -> dict[str, Any]:
    """The metadata's top-level fields an image takes: its texts (as strings) and virtio (a boolean)."""
    if not backup.metadata_json:
        return {}
    try:
        decoded = orjson.loads(backup.metadata_json)
    except orjson.JSONDecodeError:
        return {}
    if not isinstance(decoded, dict):
        return {}
    return {key: value for key, value in decoded.items() if isinstance(value, str) or key == "virtio"}


def _first(*candidates: Any) -> Any:
    """ZStack's fallback chains: the first value that is not null (an empty string counts)."""
    for candidate in candidates:
        if candidate is not None:
            return candidate
    return None


def _build_image(
    *,
    ctx: Context,
    uuid: str,
    values: Mapping[str, Any],
    account: Account,
    backup: VolumeBackup,
    backup_ref: VolumeBackupStorageRef,
    storage: BackupStorage,
) -> CreatedImage:
    metadata = _metadata(backup)
    now = ctx.clock.now()
    blob = backup_ref.install_path.rstrip("/").rsplit("/", 1)[-1]
    install_path = f"zstore://{uuid}/{blob}"
    virtio = _first(values.get("virtio"), metadata.get("virtio"))
    image = Image(
        uuid=uuid,
        name=values["name"],
        description=values.get("description"),
        state="Enabled",
        status="Ready",
        size=backup.size,
        actual_size=backup.size,
        md5_sum=hashlib.md5(install_path.encode(), usedforsecurity=False).hexdigest(),
        url=f"zstore://{storage.hostname}{install_path[len('zstore:/'):]}",
        media_type="RootVolumeTemplate",
        guest_os_type=_first(values.get("guestOsType"), metadata.get("guestOsType")),
        type="zstack",
        platform=_first(values.get("platform"), metadata.get("platform"), DEFAULT_PLATFORM),
        architecture=_first(values.get("architecture"), metadata.get("architecture"), DEFAULT_ARCHITECTURE),
        format="qcow2",
        system=values.get("system", False),
        virtio=virtio if isinstance(virtio, bool) else None,
        account_uuid=account.uuid,
        create_date=now,
        last_op_date=now,
    )
    ref = ImageBackupStorageRef(
        id=None,
        image_uuid=uuid,
        backup_storage_uuid=storage.uuid,
        install_path=install_path,
        status="Ready",
        export_url=None,
        export_md5_sum=None,
        create_date=now,
        last_op_date=now,
    )
    return CreatedImage(image=image, refs=[ref])
