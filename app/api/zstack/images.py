"""POST /zstack/v1/images/root-volume-templates/from/volume-template/{backupUuid}."""

from __future__ import annotations

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from app.api.deps import context_of, settings_of
from app.api.docs import API_FAILURE, json_body, text_error
from app.api.routing import ZStackRoute
from app.domain.params import rest_message_fields
from app.domain.templates import create_root_volume_template_from_volume_backup
from app.zstack.inventories import image_inventory
from app.zstack.schemas import CreateRootVolumeTemplateFromVolumeBackupRequest, ImageInventoryReply
from app.zstack.wire import json_response, read_json_body, session_uuid_from_headers

router = APIRouter(prefix="/zstack/v1", tags=["Backup Service Operations"], route_class=ZStackRoute)

CREATE_PATH = "/images/root-volume-templates/from/volume-template/{backupUuid}"

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


@router.post(
    CREATE_PATH,
    operation_id="CreateRootVolumeTemplateFromVolumeBackup",
    summary="CreateRootVolumeTemplateFromVolumeBackup",
    description="Create a root volume template (image) from a volume backup held by an ImageStore backup "
    "storage. Since 2.6.0. Auth required: `Authorization: OAuth <sessionUuid>`. Answered synchronously.",
    response_model=ImageInventoryReply,
    responses={
        200: {"content": {"application/json": {"example": SEED_RESPONSE_EXAMPLE}}},
        400: text_error(
            "Rejected by the REST layer: missing or malformed Authorization, a body that is not JSON, or a "
            "Content-Type other than JSON. Plain text.",
            "missing header 'Authorization'",
        ),
        413: text_error("The request body is larger than the limit (1 MiB by default). Plain text.",
                        "the request body exceeds the limit of 1048576 bytes"),
        **API_FAILURE,
    },
    openapi_extra=json_body(
        CreateRootVolumeTemplateFromVolumeBackupRequest,
        {
            "documentation": {"summary": "The documentation page's example", "value": SEED_REQUEST_EXAMPLE},
            "default-fixtures": {"summary": "Works against the default fixtures", "value": FIXTURE_REQUEST_EXAMPLE},
        },
    ),
)
async def create_root_volume_template(
    request: Request,
    backupUuid: str = Path(description="The UUID of the volume backup."),
) -> Response:
    session_uuid = session_uuid_from_headers(request.headers.get("authorization"))
    body = await read_json_body(request, settings_of(request).max_body_bytes)
    created = create_root_volume_template_from_volume_backup(
        ctx=context_of(request),
        session_uuid=session_uuid,
        message=rest_message_fields(body, "params", {"backupUuid": backupUuid}),
    )
    return json_response({"inventory": image_inventory(created.image, created.refs)})
