"""POST /zstack/v1/images/root-volume-templates/from/volume-template/{backupUuid}."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from app.api.deps import context_of, job_runner_of, public_base_url, settings_of
from app.api.docs import API_FAILURE, json_body, text_error
from app.api.routing import ZStackRoute
from app.domain.context import Context
from app.domain.jobs import (
    DEFAULT_API_TIMEOUT_MS,
    DuplicateJobError,
    JobOptions,
    submit_create_template_job,
    submit_failed_job,
)
from app.domain.params import rest_message_fields
from app.domain.templates import API_NAME, create_root_volume_template_from_volume_backup
from app.zstack.async_jobs import (
    JSON_SCHEMA_HEADER,
    accepted_response,
    api_timeout_ms_from_headers,
    job_location,
    job_uuid_from_headers,
    reply_schema,
    wants_async,
    webhook_url_from_headers,
)
from app.zstack.errors import TransportError, ZStackError
from app.zstack.inventories import image_inventory
from app.zstack.schemas import (
    AsyncAccepted,
    CreateRootVolumeTemplateFromVolumeBackupRequest,
    ImageInventoryReply,
)
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
    "storage. Since 2.6.0. Auth required: `Authorization: OAuth <sessionUuid>`.\n\n"
    "**Sync or async.** By default (server `--api-mode sync`) the answer is 200 with the image. With "
    "`Prefer: respond-async`, `X-Web-Hook: <url>`, or a server in `--api-mode async`, it is 202 "
    "`{location, apiTimeout}` as on a real management node: the image exists as `Downloading` until the job "
    "ends, and every check's failure (parameters, session, storage) comes through the job: poll `location` "
    "(`GET /zstack/v1/api-jobs/{uuid}`) or wait for the webhook POST. `Prefer: respond-sync` forces sync. "
    "Optional headers: `X-Job-UUID` (32 characters), `X-API-Timeout` (seconds), `X-JSON-Schema`.",
    response_model=ImageInventoryReply,
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
    settings = settings_of(request)
    session_uuid = session_uuid_from_headers(request.headers.get("authorization"))
    body = await read_json_body(request, settings.max_body_bytes)
    ctx = context_of(request)
    if wants_async(request.headers, settings.api_mode):
        return _accept_job(request, ctx, session_uuid, body, backupUuid)
    created = create_root_volume_template_from_volume_backup(
        ctx=ctx, session_uuid=session_uuid, message=rest_message_fields(body, "params", {"backupUuid": backupUuid})
    )
    reply = {"inventory": image_inventory(created.image, created.refs)}
    if JSON_SCHEMA_HEADER in request.headers:
        reply["schema"] = reply_schema(reply)
    return json_response(reply)


def _accept_job(request: Request, ctx: Context, session_uuid: str, body: dict[str, Any], backup_uuid: str) -> Response:
    """202 and a job; from here on every failure, even a malformed ``params``, comes through the job."""
    headers = request.headers
    options = JobOptions(
        job_uuid=job_uuid_from_headers(headers),
        webhook_url=webhook_url_from_headers(headers),
        json_schema=JSON_SCHEMA_HEADER in headers,
        api_timeout_ms=api_timeout_ms_from_headers(headers, DEFAULT_API_TIMEOUT_MS),
    )
    try:
        try:
            message = rest_message_fields(body, "params", {"backupUuid": backup_uuid})
        except ZStackError as exc:
            job = submit_failed_job(ctx=ctx, api=API_NAME, error=exc, options=options)
        else:
            job = submit_create_template_job(ctx=ctx, session_uuid=session_uuid, message=message, options=options)
    except DuplicateJobError as exc:
        raise TransportError(400, str(exc)) from None
    job_runner_of(request).job_accepted(job)
    response = accepted_response(job_location(public_base_url(request), job.uuid), job.api_timeout_ms)
    response.headers["Preference-Applied"] = "respond-async"
    return response
