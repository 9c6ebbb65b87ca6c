"""CreateRootVolumeTemplateFromVolumeBackup: a root-volume image from a volume backup (Backup Service, since 2.6.0)."""

from __future__ import annotations

from ..domain import templates
from ..domain.jobs import DEFAULT_API_TIMEOUT_MS
from ..zstack.inventories import IMAGE
from ..zstack.params import MessageSpec, Param
from ..zstack.schemas import (
    ARCHITECTURES,
    PLATFORMS,
    AsyncAccepted,
    CreateRootVolumeTemplateFromVolumeBackupRequest,
    ImageInventoryReply,
)
from .docs import API_FAILURE, BODY_TOO_LARGE, text_error
from .model import Api, Docs, Rest, Rpc

_BACKUP = "org.zstack.header.storage.volume.backup"

SEED_REQUEST_EXAMPLE = {
    "params": {
        "backupStorageUuid": "<backupStorageUuid>",
        "name": "<name>",
        "description": "<description>",
        "guestOsType": "<guestOsType>",
        "platform": "<platform>",
        "system": True,
        "resourceUuid": "<resourceUuid>",
        "architecture": "<architecture>",
        "tagUuids": ["<tagUuids>"],
    },
    "systemTags": ["<systemTags>"],
    "userTags": ["<userTags>"],
}
FIXTURE_REQUEST_EXAMPLE = {
    "params": {
        "backupStorageUuid": "4ed18086e5593b86932436d02f575213",
        "name": "My Volume Template",
        "description": "root template from volume backup",
        "platform": "Linux",
        "system": False,
        "architecture": "x86_64",
        "tagUuids": ["7658e8a3db2a4d7ca1f6b7bd2aa75153"],
    },
}
SEED_RESPONSE_EXAMPLE = {
    "inventory": {
        "uuid": "e2b2695d55243c2997b5dc6165fffa83",
        "name": "My Volume Template",
        "mediaType": "RootVolumeTemplate",
        "platform": "Linux",
        "format": "qcow2",
        "backupStorageRefs": [
            {
                "id": 0.0,
                "imageUuid": "e2b2695d55243c2997b5dc6165fffa83",
                "backupStorageUuid": "4ed18086e5593b86932436d02f575213",
                "installPath": "zstore://centos/0cd599ec519249489475112a058bb93a",
                "status": "Ready",
            }
        ],
    }
}

CREATE_ROOT_VOLUME_TEMPLATE_FROM_VOLUME_BACKUP = Api(
    name="CreateRootVolumeTemplateFromVolumeBackup",
    kind="action",
    serve=templates.create_root_volume_template_from_volume_backup,
    job=templates.JOB_STEPS,
    rest=Rest("POST", "/images/root-volume-templates/from/volume-template/{backupUuid}", parameter="params",
              any_method=True),
    rpc=(Rpc(f"{_BACKUP}.APICreateRootVolumeTemplateFromVolumeBackupMsg",
             f"{_BACKUP}.APICreateRootVolumeTemplateFromVolumeBackupEvent"),),
    # The fields in the order a Java 8 HashMap of 32 buckets yields them: the order the validator
    # checks them in (docs/behaviour.md).
    params=MessageSpec(
        class_name=f"{_BACKUP}.APICreateRootVolumeTemplateFromVolumeBackupMsg",
        params=(
            Param("virtio", kind="boolean"),
            Param("backupUuid", required=True, resource_type="VolumeBackupVO"),
            Param("description", max_length=2048),
            Param("platform", valid_values=PLATFORMS),
            # ZStack declares no @APIParam here; ImageVO.guestOsType holds 255 characters, so longer is refused.
            Param("guestOsType", max_length=255),
            Param("tagUuids", kind="string_list", resource_type="TagPatternVO"),
            Param("system", kind="boolean"),
            Param("name", required=True, max_length=255),
            Param("systemTags", kind="string_list"),
            Param("userTags", kind="string_list"),
            Param("backupStorageUuid", required=True, resource_type="BackupStorageVO"),
            Param("resourceUuid"),
            Param("architecture", valid_values=ARCHITECTURES),
        ),
    ),
    reply=ImageInventoryReply,
    reply_inventories={"inventory": IMAGE},
    docs=Docs(
        tag="Backup Service Operations",
        summary="CreateRootVolumeTemplateFromVolumeBackup",
        description="Create a root volume template (image) from a volume backup held by an ImageStore backup "
        "storage. Since 2.6.0. Auth required: `Authorization: OAuth <sessionUuid>`.\n\n"
        "**Sync or async.** By default (server `--api-mode sync`) the answer is 200 with the image. With "
        "`X-Job-UUID` or `X-Web-Hook: <url>` (what ZStack's SDKs send), `Prefer: respond-async`, or a server in "
        "`--api-mode async`, it is 202 "
        "`{location, apiTimeout}` as on a real management node: the image exists as `Downloading` until the job "
        "ends, and every check's failure (parameters, session, storage) comes through the job: poll `location` "
        "(`GET /zstack/v1/api-jobs/{uuid}`) or wait for the webhook POST. `Prefer: respond-sync` forces sync. "
        "Optional headers: `X-Job-UUID` (32 characters), `X-API-Timeout` (seconds), `X-JSON-Schema`.",
        responses={
            200: {"content": {"application/json": {"example": SEED_RESPONSE_EXAMPLE}}},
            202: {
                "model": AsyncAccepted,
                "description": "Accepted as a job (async). Poll the location or wait for the X-Web-Hook POST.",
                "content": {"application/json": {"example": {
                    "location": "http://127.0.0.1:8080/zstack/v1/api-jobs/d0345d3ddcae485f8170572b15a2b581",
                    "apiTimeout": DEFAULT_API_TIMEOUT_MS,
                }}},
            },
            400: text_error(
                "Rejected by the REST layer: missing or malformed Authorization, a body that is not JSON, a "
                "Content-Type other than JSON, or (async) a bad X-Job-UUID, X-API-Timeout or X-Web-Hook, or a "
                "reused X-Job-UUID. Plain text.",
                "missing header 'Authorization'",
            ),
            **BODY_TOO_LARGE,
            **API_FAILURE,
        },
        body=(CreateRootVolumeTemplateFromVolumeBackupRequest, {
            "documentation": {"summary": "The documentation page's example", "value": SEED_REQUEST_EXAMPLE},
            "default-fixtures": {"summary": "Works against the default fixtures", "value": FIXTURE_REQUEST_EXAMPLE},
        }),
        path={"backupUuid": "The UUID of the volume backup."},
    ),
)
