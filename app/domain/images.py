"""What comes after an image's creation: UpdateImage, ChangeImageState, DeleteImage, RecoverImage, ExpungeImage.

As ``image/src/main/java/org/zstack/image/ImageBase.java`` handles them, under the default deletion policy
``Delay`` (``conf/globalConfig/image.xml``): a delete marks the image's refs on the named backup storages (all,
by default) ``Deleted``, and the image itself once no ref is left that is not; the image stays queryable. A
recovery makes the deleted refs (or the named ones) and the image ``Ready``; an expunge removes the deleted refs
(or the named ones) and, once the image has no ref left, the image and its tag links.

The parameter checks (``uuid`` exists, ``stateEvent`` valid...) run before these functions; here come the
session, the ownership of the image (ID.1002, as ``checkAccount`` does), then the handler's own checks, whose
errors ``ImageBase`` raises (so RPC names the API's own event class). Each API is an API event: asynchronous on
a real node. Its whole work is done when the call is accepted; the job then reports it (``job_kinds.done_at_start``).
A job that an injected fault is going to fail changes nothing, so a client that is told "failed" finds the
image as it was.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from ..store.records import Account, Image, ImageBackupStorageRef, ImageTag
from ..zstack.errors import INTERNAL_ERROR, INVALID_ARGUMENT, operation_failed, zstack_error
from ..zstack.inventories import image_inventory
from ..zstack.params import CheckedMessage
from .context import Context
from .job_kinds import JobStart, done_at_start, served_at_once
from .jobs import injected_job_fault
from .sessions import authenticate, check_owner

READY, DELETED = "Ready", "Deleted"
#: ``image.expungePeriod`` (conf/globalConfig/image.xml): how long a deleted image stays before the node expunges it.
EXPUNGE_PERIOD = timedelta(seconds=259_200)
DELETE_MODES = ("Permissive", "Enforcing")
#: UpdateImage's fields and the image columns they set, when given (``ImageBase.updateImage``).
_UPDATABLE = {
    "name": "name", "description": "description", "system": "system", "guestOsType": "guest_os_type",
    "mediaType": "media_type", "format": "format", "platform": "platform", "architecture": "architecture",
    "virtio": "virtio",
}


def _image_of(ctx: Context, session_uuid: str | None, message: CheckedMessage, field: str) -> tuple[Account, Image]:
    """The session's account and the image ``field`` names, once the caller may act on it."""
    account = authenticate(ctx=ctx, session_uuid=session_uuid)
    image: Image = message.resources[field]
    check_owner(ctx=ctx, account=account, resource_uuid=image.uuid, resource_type="ImageVO",
                owner_uuid=image.account_uuid)
    return account, image


def job_will_fail() -> bool:
    """Whether an injected fault is going to fail the job this call starts: then it changes nothing."""
    fault = injected_job_fault.get()
    return fault is not None and fault.error is not None


def _refs(ctx: Context, image: Image) -> list[ImageBackupStorageRef]:
    return ctx.store.find(ImageBackupStorageRef, {"image_uuid": image.uuid}, order_by=["id"])


def image_reply(*, ctx: Context, resource_uuid: str) -> dict[str, Any] | None:
    """``{"inventory": ...}`` of the image as it is now; None once it is gone."""
    image = ctx.store.get(Image, uuid=resource_uuid)
    return None if image is None else {"inventory": image_inventory(image, _refs(ctx, image))}


def empty_reply(*, ctx: Context, resource_uuid: str) -> dict[str, Any]:
    """An event without fields (APIDeleteImageEvent, APIExpungeImageEvent...)."""
    return {}


def start_update_image(*, ctx: Context, session_uuid: str | None, message: CheckedMessage) -> JobStart:
    account, image = _image_of(ctx, session_uuid, message, "uuid")
    changes = {column: message.values[field] for field, column in _UPDATABLE.items() if field in message.values}
    if changes and not job_will_fail():
        ctx.store.update(Image, {"uuid": image.uuid}, {**changes, "last_op_date": ctx.clock.now()})
    return JobStart(resource_uuid=image.uuid, account_uuid=account.uuid)


def start_change_image_state(*, ctx: Context, session_uuid: str | None, message: CheckedMessage) -> JobStart:
    account, image = _image_of(ctx, session_uuid, message, "uuid")
    state = "Disabled" if message.values.get("stateEvent") == "disable" else "Enabled"
    if not job_will_fail():
        ctx.store.update(Image, {"uuid": image.uuid}, {"state": state, "last_op_date": ctx.clock.now()})
    return JobStart(resource_uuid=image.uuid, account_uuid=account.uuid)


def start_delete_image(*, ctx: Context, session_uuid: str | None, message: CheckedMessage) -> JobStart:
    """Marks the refs on the named storages (default all) Deleted, and the image once all of its refs are.

    An image that does not exist (any more) is deleted already: success, as ``successIfResourceNotExisting``.
    Deleting a deleted image again succeeds and changes nothing. ``deleteMode`` makes no difference: the
    image's cascade check refuses nothing (``ImageCascadeExtension.handleDeletionCheck``).
    """
    account, image = resource_to_delete(ctx=ctx, session_uuid=session_uuid, message=message, resource_type="ImageVO")
    if image is None:
        return JobStart(resource_uuid=message.values["uuid"], account_uuid=account.uuid)
    storages = message.values.get("backupStorageUuids")
    refs = _refs(ctx, image)
    if not job_will_fail():
        with ctx.store.transaction():
            if refs and all(ref.status in ("Creating", "Downloading") for ref in refs):
                # Not on any storage yet: ImageBase removes it from the database at once.
                remove_images(ctx, [image.uuid])
            else:
                chosen = [ref for ref in refs if storages is None or ref.backup_storage_uuid in storages]
                _set_status(ctx, image, refs, chosen, DELETED)
    return JobStart(resource_uuid=image.uuid, account_uuid=account.uuid)


def start_recover_image(*, ctx: Context, session_uuid: str | None, message: CheckedMessage) -> JobStart:
    account, image = _image_of(ctx, session_uuid, message, "imageUuid")
    refs = _refs(ctx, image)
    chosen = _deleted_refs(image, refs, message.values.get("backupStorageUuids"),
                           "the image[uuid:{uuid}, name:{name}]'s status[{status}] is not Deleted on the backup "
                           "storage[uuid:{storage}]")
    if not job_will_fail():
        with ctx.store.transaction():
            _set_status(ctx, image, refs, chosen, READY, whole_image=True)
    return JobStart(resource_uuid=image.uuid, account_uuid=account.uuid)


def start_expunge_image(*, ctx: Context, session_uuid: str | None, message: CheckedMessage) -> JobStart:
    account, image = _image_of(ctx, session_uuid, message, "imageUuid")
    refs = _refs(ctx, image)
    chosen = _deleted_refs(image, refs, message.values.get("backupStorageUuids"),
                           "the image[uuid:{uuid}, name:{name}] is not deleted on the backup storage[uuid:{storage}]")
    if not job_will_fail():
        with ctx.store.transaction():
            ctx.store.delete(ImageBackupStorageRef, {"id__in": [ref.id for ref in chosen]})
            if len(chosen) == len(refs):
                remove_images(ctx, [image.uuid])
    return JobStart(resource_uuid=image.uuid, account_uuid=account.uuid)


def expunge_expired_images(ctx: Context) -> int:
    """The node's expunge task (``ImageManagerImpl.startExpungeTask``): an image's copy Deleted on a backup
    storage for ``expungePeriod`` is expunged from it, and the image once no copy is left; returns how many
    copies went. A real node runs it every ``expungeInterval`` (an hour), the runner here every minute."""
    now = ctx.clock.now()
    store = ctx.store
    expired = {"status": DELETED, "last_op_date__le": now - EXPUNGE_PERIOD}
    if not store.find(ImageBackupStorageRef, expired, limit=1):
        return 0
    with store.transaction():
        refs = store.find(ImageBackupStorageRef, expired)
        store.delete(ImageBackupStorageRef, {"id__in": [ref.id for ref in refs]})
        touched = sorted({ref.image_uuid for ref in refs})
        kept = {ref.image_uuid for ref in store.find(ImageBackupStorageRef, {"image_uuid__in": touched})}
        gone = [uuid for uuid in touched if uuid not in kept]
        if gone:
            remove_images(ctx, gone)
    return len(refs)


def remove_images(ctx: Context, image_uuids: list[str]) -> None:
    """Images gone from the database, with their refs and tag links."""
    store = ctx.store
    store.delete(ImageTag, {"image_uuid__in": image_uuids})
    store.delete(ImageBackupStorageRef, {"image_uuid__in": image_uuids})
    store.delete(Image, {"uuid__in": image_uuids})


def _deleted_refs(image: Image, refs: list[ImageBackupStorageRef], storages: Iterable[str] | None,
                  not_deleted: str) -> list[ImageBackupStorageRef]:
    """The refs a recovery or an expunge acts on, as ``ImageBase`` chooses them: the Deleted ones, or the
    named storages', each of which must hold the image and hold it Deleted."""
    if not storages:
        chosen = [ref for ref in refs if ref.status == DELETED]
        if not chosen:
            raise operation_failed(
                f"the image[uuid:{image.uuid}, name:{image.name}] is not deleted on any backup storage",
                in_service=True,
            )
        return chosen
    chosen = []
    for storage in storages:
        ref = next((ref for ref in refs if ref.backup_storage_uuid == storage), None)
        if ref is None:
            raise zstack_error(
                INVALID_ARGUMENT,
                f"the image[uuid:{image.uuid}, name:{image.name}] is not on the backup storage[uuid:{storage}]",
                in_service=True,
            )
        if ref.status != DELETED:
            raise zstack_error(
                INVALID_ARGUMENT,
                not_deleted.format(uuid=image.uuid, name=image.name, status=ref.status, storage=storage),
                in_service=True,
            )
        chosen.append(ref)
    return chosen


def _set_status(ctx: Context, image: Image, refs: list[ImageBackupStorageRef], chosen: list[ImageBackupStorageRef],
                status: str, *, whole_image: bool = False) -> None:
    """``chosen`` refs to ``status``; the image too when ``whole_image`` or when every ref then has it."""
    now = ctx.clock.now()
    ids = [ref.id for ref in chosen]
    if ids:
        ctx.store.update(ImageBackupStorageRef, {"id__in": ids}, {"status": status, "last_op_date": now})
    statuses = [status if ref.id in ids else ref.status for ref in refs]
    if whole_image or (statuses and all(s == status for s in statuses)):
        ctx.store.update(Image, {"uuid": image.uuid}, {"status": status, "last_op_date": now})


def resource_to_delete(
    *, ctx: Context, session_uuid: str | None, message: CheckedMessage, resource_type: str
) -> tuple[Account, Any]:
    """The session's account and the resource ``uuid`` names, once the caller may delete it; the resource is
    None when it is gone already, which a delete answers with success (``successIfResourceNotExisting``)."""
    account = authenticate(ctx=ctx, session_uuid=session_uuid)
    resource = message.resources["uuid"]
    if resource is not None:
        check_owner(ctx=ctx, account=account, resource_uuid=resource.uuid, resource_type=resource_type,
                    owner_uuid=resource.account_uuid)
        check_deletion_mode(message)
    return account, resource


def check_deletion_mode(message: CheckedMessage) -> None:
    """``APIDeleteMessage.getDeletionMode`` is ``DeletionMode.valueOf(deleteMode)`` (no ``@APIParam``): an
    unknown mode throws in the handler, which the bus answers as an internal error."""
    mode = message.values.get("deleteMode", "Permissive")
    if mode not in DELETE_MODES:
        raise zstack_error(
            INTERNAL_ERROR,
            "java.lang.IllegalArgumentException: No enum constant "
            f"org.zstack.header.message.APIDeleteMessage.DeletionMode.{mode}",
            in_service=True,
        )


UPDATE_IMAGE_STEPS = done_at_start(start_update_image, image_reply)
CHANGE_IMAGE_STATE_STEPS = done_at_start(start_change_image_state, image_reply)
DELETE_IMAGE_STEPS = done_at_start(start_delete_image, empty_reply)
RECOVER_IMAGE_STEPS = done_at_start(start_recover_image, image_reply)
EXPUNGE_IMAGE_STEPS = done_at_start(start_expunge_image, empty_reply)

update_image = served_at_once(UPDATE_IMAGE_STEPS)
change_image_state = served_at_once(CHANGE_IMAGE_STATE_STEPS)
delete_image = served_at_once(DELETE_IMAGE_STEPS)
recover_image = served_at_once(RECOVER_IMAGE_STEPS)
expunge_image = served_at_once(EXPUNGE_IMAGE_STEPS)
