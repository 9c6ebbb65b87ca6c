"""An image's life after its creation: UpdateImage, ChangeImageState, DeleteImage, RecoverImage, ExpungeImage.

Each is an API event (asynchronous on a real node: 202 and a job with ``X-Job-UUID``, ``X-Web-Hook`` or
``Prefer: respond-async``, as the create). The messages are ``header/src/main/java/org/zstack/header/image/
API*Msg.java``; four share ``PUT /images/{uuid}/actions``, told apart by the body's key (``isAction``).
Their fields are listed in the order of a Java 8 HashMap of 32 buckets, the order the validator walks them.
"""

from __future__ import annotations

from typing import Any

from ..domain import images
from ..zstack.inventories import IMAGE
from ..zstack.params import MessageSpec, Param
from ..zstack.schemas import ARCHITECTURES, PLATFORMS, EmptyReply, ImageActionsRequest, ImageInventoryReply
from .docs import ASYNC_EVENT_NOTE, EVENT_RESPONSES
from .model import Api, Docs, Rest, Rpc

_IMAGE = "org.zstack.header.image"
TAG = "Image Operations"
ACTIONS_PATH = "/images/{uuid}/actions"
EXAMPLE_IMAGE = "74b721499872407893b890a9df8e912e"
EXAMPLE_STORAGE = "4ed18086e5593b86932436d02f575213"

_TAGS = (Param("systemTags", kind="string_list"), Param("userTags", kind="string_list"))


def _rpc(name: str) -> tuple[Rpc, ...]:
    return (Rpc(f"{_IMAGE}.API{name}Msg", f"{_IMAGE}.API{name}Event"),)


def _spec(name: str, *params: Param) -> MessageSpec:
    return MessageSpec(class_name=f"{_IMAGE}.API{name}Msg", params=params)


def _action_docs(summary: str, description: str, body: Any = None) -> Docs:
    return Docs(tag=TAG, summary=summary, description=description + ASYNC_EVENT_NOTE, responses=EVENT_RESPONSES,
                path={"uuid": "The UUID of the image."}, body=body)


#: The body of ``PUT /images/{uuid}/actions``: each of its four actions, by example.
ACTIONS_BODY = (ImageActionsRequest, {
    "updateImage": {"summary": "UpdateImage (the documentation page's example)",
                    "value": {"updateImage": {"platform": "Windows"}}},
    "rename": {"summary": "UpdateImage: rename", "value": {"updateImage": {"name": "renamed template"}}},
    "changeImageState": {"summary": "ChangeImageState: disable",
                         "value": {"changeImageState": {"stateEvent": "disable"}}},
    "recoverImage": {"summary": "RecoverImage", "value": {"recoverImage": {}}},
    "expungeImage": {"summary": "ExpungeImage", "value": {"expungeImage": {}}},
    "expungeImageFrom": {"summary": "ExpungeImage from one storage (the documentation page's example)",
                         "value": {"expungeImage": {"backupStorageUuids": [EXAMPLE_STORAGE]}}},
})

UPDATE_IMAGE = Api(
    name="UpdateImage",
    kind="action",
    serve=images.update_image,
    job=images.UPDATE_IMAGE_STEPS,
    rest=Rest("PUT", ACTIONS_PATH, parameter="updateImage", action=True),
    rpc=_rpc("UpdateImage"),
    params=_spec(
        "UpdateImage",
        Param("virtio", kind="boolean"),
        Param("format", max_length=255, valid_values=("raw", "qcow2", "iso")),
        Param("description", max_length=2048),
        Param("mediaType", max_length=255, valid_values=("RootVolumeTemplate", "DataVolumeTemplate", "ISO")),
        Param("uuid", required=True, resource_type="ImageVO"),
        Param("platform", valid_values=PLATFORMS),
        Param("guestOsType", max_length=255),
        Param("system", kind="boolean"),
        Param("name", max_length=255),
        *_TAGS,
        Param("architecture", max_length=32, valid_values=ARCHITECTURES),
    ),
    reply=ImageInventoryReply,
    reply_inventories={"inventory": IMAGE},
    # The body of the path all four actions share: the OpenAPI document has one operation for them.
    docs=_action_docs("UpdateImage", "Update an image's attributes: the fields given are set, the others kept.",
                      ACTIONS_BODY),
)

CHANGE_IMAGE_STATE = Api(
    name="ChangeImageState",
    kind="action",
    serve=images.change_image_state,
    job=images.CHANGE_IMAGE_STATE_STEPS,
    rest=Rest("PUT", ACTIONS_PATH, parameter="changeImageState", action=True),
    rpc=_rpc("ChangeImageState"),
    params=_spec(
        "ChangeImageState",
        Param("stateEvent", required=True, valid_values=("enable", "disable")),
        Param("uuid", required=True, resource_type="ImageVO"),
        *_TAGS,
    ),
    reply=ImageInventoryReply,
    reply_inventories={"inventory": IMAGE},
    docs=_action_docs("ChangeImageState", "Enable or disable an image (`stateEvent`: `enable` / `disable`)."),
)

RECOVER_IMAGE = Api(
    name="RecoverImage",
    kind="action",
    serve=images.recover_image,
    job=images.RECOVER_IMAGE_STEPS,
    rest=Rest("PUT", "/images/{imageUuid}/actions", parameter="recoverImage", action=True),
    rpc=_rpc("RecoverImage"),
    params=_spec(
        "RecoverImage",
        *_TAGS,
        Param("imageUuid", required=True, resource_type="ImageVO"),
        Param("backupStorageUuids", kind="string_list"),
    ),
    reply=ImageInventoryReply,
    reply_inventories={"inventory": IMAGE},
    docs=_action_docs("RecoverImage", "Recover a deleted image: it is `Ready` again, on the storages it was "
                                      "deleted on (or the ones named)."),
)

EXPUNGE_IMAGE = Api(
    name="ExpungeImage",
    kind="action",
    serve=images.expunge_image,
    job=images.EXPUNGE_IMAGE_STEPS,
    rest=Rest("PUT", "/images/{imageUuid}/actions", parameter="expungeImage", action=True),
    rpc=_rpc("ExpungeImage"),
    params=_spec(
        "ExpungeImage",
        Param("uuid", resource_type="ImageVO"),
        *_TAGS,
        Param("imageUuid", required=True, resource_type="ImageVO"),
        Param("backupStorageUuids", kind="string_list", nonempty=True, resource_type="BackupStorageVO"),
    ),
    reply=EmptyReply,
    docs=_action_docs("ExpungeImage", "Remove a deleted image for good: from the storages it is deleted on (or "
                                      "the ones named), and from the database once no storage holds it."),
)

DELETE_IMAGE = Api(
    name="DeleteImage",
    kind="action",
    serve=images.delete_image,
    job=images.DELETE_IMAGE_STEPS,
    rest=Rest("DELETE", "/images/{uuid}"),
    rpc=_rpc("DeleteImage"),
    params=_spec(
        "DeleteImage",
        Param("deleteMode"),
        Param("uuid", required=True, resource_type="ImageVO", missing_ok=True),
        *_TAGS,
        Param("backupStorageUuids", kind="string_list", nonempty=True, resource_type="BackupStorageVO"),
    ),
    reply=EmptyReply,
    docs=Docs(
        tag=TAG,
        summary="DeleteImage",
        description="Delete an image: under the default deletion policy (Delay) it stays, `status: Deleted`, "
        "until ExpungeImage removes it or RecoverImage brings it back. An image that does not exist is deleted "
        "already: 200 `{}`." + ASYNC_EVENT_NOTE,
        responses=EVENT_RESPONSES,
        path={"uuid": "The UUID of the image."},
        query=(
            ("deleteMode", str | None, "Permissive (default) or Enforcing: the same for an image."),
            ("backupStorageUuids", list[str] | None, "Optional. Delete it only from these backup storages."),
        ),
    ),
)

