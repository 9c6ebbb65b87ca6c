"""Pydantic models of ZStack's request and response bodies, for the OpenAPI document.

Field descriptions are the documentation page's own words. Handlers do not parse requests with
these models (ZStack's validation order and messages are emulated in ``app.zstack.params``), and
responses are rendered by ``app.zstack.inventories``; a test checks real responses against them.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

Platform = Literal["Linux", "Windows", "Other", "Paravirtualization", "WindowsVirtio"]
Architecture = Literal["x86_64", "aarch64", "mips64el", "loongarch64"]
PLATFORMS: tuple[str, ...] = get_args(Platform)
ARCHITECTURES: tuple[str, ...] = get_args(Architecture)
TIMESTAMP_EXAMPLE = "Nov 14, 2017 10:20:57 PM"
TIMESTAMP_NOTE = " Format: MMM d, yyyy h:mm:ss a, in the server's local time."


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateRootVolumeTemplateFromVolumeBackupParams(_Strict):
    backupStorageUuid: str = Field(description="The UUID of the backup storage.")
    name: str = Field(max_length=255, description="The name of the root volume image.")
    description: str | None = Field(
        None, max_length=2048, description="Optional. The detailed description of the image."
    )
    guestOsType: str | None = Field(
        None, max_length=255, description="Optional. The type of the guest operating system (at most 255 characters, "
        "the image's column: zstack-mock refuses longer as SYS.1007)."
    )
    platform: Platform | None = Field(None, description="Optional. The platform type of the guest.")
    system: bool | None = Field(None, description="Optional. Specify whether to create a system image.")
    resourceUuid: str | None = Field(None, description="Optional. Specify a UUID for the image.")
    architecture: Architecture | None = Field(None, description="Optional.")
    tagUuids: list[str] | None = Field(None, description="Optional. The tag UUIDs.")
    virtio: bool | None = Field(
        None,
        description="Optional. Whether the guest uses virtio drivers. Accepted by the real server although "
        "the documentation page does not list it; defaults to the backup's metadata.",
    )
    systemTags: list[str] | None = Field(
        None, description="Optional. The system tags (also accepted here; the top-level list wins)."
    )
    userTags: list[str] | None = Field(
        None, description="Optional. The user tags (also accepted here; the top-level list wins)."
    )


class CreateRootVolumeTemplateFromVolumeBackupRequest(_Strict):
    params: CreateRootVolumeTemplateFromVolumeBackupParams = Field(description="Request body parameter object.")
    systemTags: list[str] | None = Field(None, description="Optional. The system tags.")
    userTags: list[str] | None = Field(None, description="Optional. The user tags.")


class ErrorCode(BaseModel):
    code: str = Field(
        description="The error code, which is a numbered or alphanumeric code that specifies an error. "
        "For example, SYS.1000, HOST.1001."
    )
    description: str = Field(description="The brief description of the error.")
    details: str = Field(description="The details about the error.")
    elaboration: str | None = Field(None, description="The reserved field. Default value: null.")
    messages: dict[str, Any] | None = Field(
        None, description="The elaboration's messages (conf/errorElaborations), when one matches the error."
    )
    opaque: dict[str, Any] | None = Field(None, description="The reserved field. Default value: null.")
    cause: ErrorCode | None = Field(
        None,
        description="The root error, which is the associated root cause of the current error. If no root "
        "error exists, this parameter is null.",
    )
    cost: str | None = Field(None, description="Time the failed operation took, e.g. 0ms.")


class ErrorReply(BaseModel):
    error: ErrorCode = Field(
        description="The error code. If not null, the operation fails, or vice versa. For more information, "
        "see error"
    )


class ImageBackupStorageRefInventory(BaseModel):
    id: int = Field(description="Database id of the reference.")
    imageUuid: str = Field(description="The UUID of the root volume image.")
    backupStorageUuid: str = Field(description="The UUID of the backup storage.")
    installPath: str = Field(description="The installation path of the image on the backup storage.")
    exportUrl: str | None = Field(None, description="The exported URL of the image.")
    exportMd5Sum: str | None = Field(None, description="The MD5 value of the exported image.")
    status: str = Field(description="The readiness of the image.")
    createDate: str = Field(
        description="The time when the image was created." + TIMESTAMP_NOTE, examples=[TIMESTAMP_EXAMPLE]
    )
    lastOpDate: str = Field(
        description="The time when the image was last modified." + TIMESTAMP_NOTE, examples=[TIMESTAMP_EXAMPLE]
    )


class ImageInventory(BaseModel):
    uuid: str = Field(description="The UUID of the root volume image.")
    name: str = Field(description="The name of the image.")
    description: str | None = Field(None, description="The detailed description of the image.")
    state: str = Field(description="The state of the image.")
    status: str = Field(description="The readiness of the image.")
    size: int = Field(description="The size of the image.")
    actualSize: int = Field(description="The actual storage space used by the image.")
    md5Sum: str | None = Field(None, description="The MD5 value of the image.")
    url: str | None = Field(None, description="The URL of the image.")
    mediaType: str = Field(description="The type of the image.")
    guestOsType: str | None = Field(None, description="The type of the guest OS.")
    type: str = Field(description="The interval used field.")
    platform: str | None = Field(None, description="The system platform of the image.")
    architecture: str | None = Field(None, description="The CPU architecture of the image.")
    format: str = Field(description="The format of the image, for example, raw.")
    system: bool = Field(description="Specifies whether the image is a system image.")
    virtio: bool | None = Field(None, description="Whether the guest uses virtio drivers.")
    createDate: str = Field(
        description="The time when the image was created." + TIMESTAMP_NOTE, examples=[TIMESTAMP_EXAMPLE]
    )
    lastOpDate: str = Field(
        description="The time when the image was last modified." + TIMESTAMP_NOTE, examples=[TIMESTAMP_EXAMPLE]
    )
    backupStorageRefs: list[ImageBackupStorageRefInventory] = Field(description="See backupStorageRefs")


class ImageInventoryReply(BaseModel):
    inventory: ImageInventory = Field(description="See inventory")


class ApiJobResult(BaseModel):
    """A finished job's reply: the API's own reply fields, plus ``schema`` when asked for."""

    inventory: ImageInventory | TagPatternInventory | SessionInventory | None = Field(
        None, description="The image, tag or session the API made or changed; absent for a deletion's empty event."
    )
    schema_: dict[str, str] | None = Field(
        None,
        alias="schema",
        description="With X-JSON-Schema: the Java class of every object in the reply, by JSON path.",
    )


class AsyncAccepted(BaseModel):
    location: str = Field(description="Where to poll the job: <base>/zstack/v1/api-jobs/<jobUuid>.")
    apiTimeout: int = Field(description="Milliseconds the job may run before it fails with SYS.1001.")


class LogInByAccountParams(BaseModel):
    accountName: str = Field(description="The account name, e.g. admin.")
    password: str = Field(description="The SHA-512 hex digest of the password.")
    accountType: str | None = Field(None, description="Optional. The account type.")


class LogInByAccountRequest(BaseModel):
    logInByAccount: LogInByAccountParams


class RenewSessionParams(BaseModel):
    duration: int | None = Field(None, ge=60, le=31536000, description="Optional. Seconds from now until it expires.")


class RenewSessionRequest(BaseModel):
    renewSession: RenewSessionParams | None = None


class SessionInventory(BaseModel):
    uuid: str = Field(description="The session UUID, sent back as 'Authorization: OAuth <uuid>'.")
    accountUuid: str = Field(description="The UUID of the account that logged in.")
    userUuid: str = Field(description="Equal to accountUuid for an account login.")
    expiredDate: str = Field(description="When the session expires unless used again." + TIMESTAMP_NOTE)
    createDate: str = Field(description="When the session was created." + TIMESTAMP_NOTE)


class SessionInventoryReply(BaseModel):
    inventory: SessionInventory


class ValidateSessionReply(BaseModel):
    valid: bool = Field(description="Whether the session exists and has not expired.")


class EmptyReply(BaseModel):
    pass


class VolumeBackupStorageRefInventory(BaseModel):
    volumeBackupUuid: str = Field(description="The UUID of the volume backup.")
    backupStorageUuid: str = Field(description="The UUID of the backup storage holding it.")
    installPath: str = Field(description="Where the backup lies on the backup storage.")
    status: str = Field(description="The readiness of this copy.")
    createDate: str = Field(description="When the copy was made." + TIMESTAMP_NOTE)
    lastOpDate: str = Field(description="When the copy last changed." + TIMESTAMP_NOTE)


class VolumeBackupInventory(BaseModel):
    uuid: str = Field(description="The UUID of the volume backup.")
    volumeUuid: str | None = Field(None, description="The volume that was backed up.")
    name: str = Field(description="The name of the backup.")
    description: str | None = Field(None, description="The description of the backup.")
    type: str = Field(description="The volume type: Root or Data.")
    state: str = Field(description="Enabled or Disabled.")
    status: str = Field(description="Creating, Ready or Deleted.")
    size: int = Field(description="The size of the backup in bytes.")
    metadata: str | None = Field(None, description="A JSON document: platform, guestOsType, architecture, virtio...")
    groupUuid: str | None = Field(None, description="The backup group.")
    mode: str = Field(description="full, incremental or auto.")
    vmInstanceUuid: str | None = Field(None, description="The VM the volume belonged to.")
    hypervisorType: str | None = Field(None, description="The hypervisor, e.g. KVM.")
    createDate: str = Field(description="When the backup was created." + TIMESTAMP_NOTE)
    lastOpDate: str = Field(description="When the backup last changed." + TIMESTAMP_NOTE)
    backupStorageRefs: list[VolumeBackupStorageRefInventory] = Field(description="The backup storages holding it.")


class BackupStorageInventory(BaseModel):
    uuid: str = Field(description="The UUID of the backup storage.")
    name: str = Field(description="The name of the backup storage.")
    url: str = Field(description="The storage path on its host.")
    description: str | None = Field(None, description="The description.")
    totalCapacity: int = Field(description="Total capacity in bytes.")
    availableCapacity: int = Field(description="Free capacity in bytes.")
    type: str = Field(description="ImageStoreBackupStorage.")
    state: str = Field(description="Enabled or Disabled.")
    status: str = Field(description="Connecting, Connected or Disconnected.")
    createDate: str = Field(description="When it was added." + TIMESTAMP_NOTE)
    lastOpDate: str = Field(description="When it last changed." + TIMESTAMP_NOTE)
    attachedZoneUuids: list[str] = Field(description="The zones it serves.")
    hostname: str = Field(description="ImageStore: the host of the storage.")
    username: str = Field(description="ImageStore: the SSH user.")
    sshPort: int = Field(description="ImageStore: the SSH port.")


_TOTAL = "The number of matches; only with count=true or replyWithCount=true."
_SCHEMA = "The Java class of every object in the reply, keyed by JSON path (always present)."


class ImageQueryReply(BaseModel):
    inventories: list[ImageInventory] | None = Field(None, description="The matching images (absent with count=true).")
    total: int | None = Field(None, description=_TOTAL)
    schema_: dict[str, str] = Field(alias="schema", description=_SCHEMA)


class VolumeBackupQueryReply(BaseModel):
    inventories: list[VolumeBackupInventory] | None = Field(None, description="The matching volume backups.")
    total: int | None = Field(None, description=_TOTAL)
    schema_: dict[str, str] = Field(alias="schema", description=_SCHEMA)


class BackupStorageQueryReply(BaseModel):
    inventories: list[BackupStorageInventory] | None = Field(None, description="The matching backup storages.")
    total: int | None = Field(None, description=_TOTAL)
    schema_: dict[str, str] = Field(alias="schema", description=_SCHEMA)


ImageMediaType = Literal["RootVolumeTemplate", "DataVolumeTemplate", "ISO"]
ImageFormat = Literal["raw", "qcow2", "iso"]


class UpdateImageParams(_Strict):
    name: str | None = Field(None, max_length=255, description="Optional. The new name of the image.")
    description: str | None = Field(None, max_length=2048, description="Optional. The new description.")
    guestOsType: str | None = Field(None, max_length=255, description="Optional. The guest operating system type.")
    mediaType: ImageMediaType | None = Field(None, description="Optional. The image's media type.")
    format: ImageFormat | None = Field(None, description="Optional. The image's format.")
    system: bool | None = Field(None, description="Optional. Whether it is a system image.")
    platform: Platform | None = Field(None, description="Optional. The guest's platform.")
    architecture: Architecture | None = Field(None, description="Optional. The CPU architecture.")
    virtio: bool | None = Field(None, description="Optional. Whether the guest has virtio drivers.")


class ChangeImageStateParams(_Strict):
    stateEvent: Literal["enable", "disable"] = Field(description="enable: state Enabled; disable: state Disabled.")


class ImageBackupStoragesParams(_Strict):
    backupStorageUuids: list[str] | None = Field(
        None, description="Optional. The backup storages to act on; by default every one the image is deleted on."
    )


class ImageActionsRequest(_Strict):
    """One of the image actions ``PUT /images/{uuid}/actions`` serves, named by the body's one key."""

    updateImage: UpdateImageParams | None = Field(None, description="UpdateImage: change the image's attributes.")
    changeImageState: ChangeImageStateParams | None = Field(None, description="ChangeImageState: enable or disable.")
    recoverImage: ImageBackupStoragesParams | None = Field(None, description="RecoverImage: undo a delete.")
    expungeImage: ImageBackupStoragesParams | None = Field(
        None, description="ExpungeImage: remove a deleted image for good."
    )
    systemTags: list[str] | None = Field(None, description="Optional. The system tags.")
    userTags: list[str] | None = Field(None, description="Optional. The user tags.")


class TagPatternInventory(BaseModel):
    uuid: str = Field(description="The UUID of the tag.")
    name: str = Field(description="The name of the tag.")
    value: str = Field(description="The tag's value (its text, or a pattern with tokens for withToken).")
    description: str | None = Field(None, description="The description of the tag.")
    color: str | None = Field(None, description="The tag's color, e.g. #2D6DE6.")
    type: str = Field(description="simple or withToken.")
    createDate: str = Field(description="When the tag was created." + TIMESTAMP_NOTE)
    lastOpDate: str = Field(description="When the tag last changed." + TIMESTAMP_NOTE)


class TagPatternInventoryReply(BaseModel):
    inventory: TagPatternInventory


class TagQueryReply(BaseModel):
    inventories: list[TagPatternInventory] | None = Field(None, description="The matching tags.")
    total: int | None = Field(None, description=_TOTAL)
    schema_: dict[str, str] = Field(alias="schema", description=_SCHEMA)


class CreateTagParams(_Strict):
    name: str = Field(max_length=128, description="The name of the tag.")
    value: str = Field(max_length=128, description="The value of the tag.")
    description: str | None = Field(None, max_length=2048, description="Optional. The description of the tag.")
    color: str | None = Field(
        None, max_length=32, description="Optional. The tag's color (at most 32 characters, the column's length)."
    )
    type: Literal["simple", "withToken"] | None = Field(None, description="Optional. simple (default) or withToken.")
    resourceUuid: str | None = Field(None, description="Optional. Specify a UUID for the tag.")
    tagUuids: list[str] | None = Field(None, description="Optional. Tags to attach to the new tag.")


class CreateTagRequest(_Strict):
    params: CreateTagParams = Field(description="Request body parameter object.")
    systemTags: list[str] | None = Field(None, description="Optional. The system tags.")
    userTags: list[str] | None = Field(None, description="Optional. The user tags.")


ApiJobResult.model_rebuild()
