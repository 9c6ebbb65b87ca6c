"""The legacy RPC API: ``POST``/``PUT`` ``/zstack/api`` and ``GET``/``PUT`` ``/zstack/api/result/{uuid}``.

Both paths also answer with a trailing slash; other methods get a plain-text 405.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from ...catalogue import (
    IS_READY_TO_GO,
    LOG_IN_BY_ACCOUNT,
    LOG_OUT,
    QUERY_IMAGE,
    QUERY_VOLUME_BACKUP,
    VALIDATE_SESSION,
)
from ...catalogue.docs import text_error
from ...catalogue.sessions import ADMIN_PASSWORD_SHA512
from ...zstack import rpc
from ...zstack.responses import text_response
from ...zstack.rpc_schemas import RpcEnvelope, RpcRequest
from ...zstack.wire import read_body
from ..deps import instance_of, server_of
from ..openapi import json_body
from ..routing import ZStackRoute
from .rpc_dispatch import answer_call, poll_result

router = APIRouter(tags=["Legacy RPC"], route_class=ZStackRoute)

EXAMPLES: dict[str, Any] = {
    "login": {
        "summary": "LogInByAccount (admin / password)",
        "value": {LOG_IN_BY_ACCOUNT.rpc[0].message_class: {"accountName": "admin", "password": ADMIN_PASSWORD_SHA512}},
    },
    "queryImages": {
        "summary": "QueryImage: Linux images, newest first, with the total",
        "value": {
            QUERY_IMAGE.rpc[0].message_class: {
                "conditions": [{"name": "platform", "op": "=", "value": "Linux"}],
                "sortBy": "createDate",
                "sortDirection": "desc",
                "limit": 50,
                "replyWithCount": True,
                "session": {"uuid": "<session uuid>"},
            }
        },
    },
    "queryBackups": {
        "summary": "QueryVolumeBackup: ready backups on a storage",
        "value": {
            QUERY_VOLUME_BACKUP.rpc[0].message_class: {
                "conditions": [
                    {"name": "status", "op": "=", "value": "Ready"},
                    {"name": "backupStorageRefs.backupStorageUuid", "op": "in",
                     "value": "4ed18086e5593b86932436d02f575213"},
                ],
                "session": {"uuid": "<session uuid>"},
            }
        },
    },
    "validateSession": {
        "summary": "ValidateSession",
        "value": {VALIDATE_SESSION.rpc[0].message_class: {"sessionUuid": "<session uuid>"}},
    },
    "logOut": {
        "summary": "LogOut",
        "value": {LOG_OUT.rpc[0].message_class: {"sessionUuid": "<session uuid>"}},
    },
    "isReadyToGo": {
        "summary": "IsReadyToGo (zstack-ctl's health check, no session)",
        "value": {IS_READY_TO_GO.rpc[0].message_class: {}},
    },
}
LOGIN_ANSWER_EXAMPLE = {
    "state": "Done",
    "createdDate": "Jan 19, 2026 4:37:30 PM",
    "finishedDate": "Jan 19, 2026 4:37:30 PM",
    "result": '{"org.zstack.header.identity.APILogInReply":{"inventory":{"uuid":"2b8b1e0b5f3f4b0e9b3c6d2a1f0e4c7d",'
    '"accountUuid":"36c27e8ff05c4780bf6d2fa65700f22e","userUuid":"36c27e8ff05c4780bf6d2fa65700f22e",'
    '"expiredDate":"Jan 19, 2026 6:37:30 PM","createDate":"Jan 19, 2026 4:37:30 PM"},"success":true}}',
}
SESSION_FAILURE_EXAMPLE = {
    "state": "Done",
    "createdDate": "Jan 19, 2026 4:37:30 PM",
    "finishedDate": "Jan 19, 2026 4:37:30 PM",
    "result": '{"org.zstack.header.message.APIReply":{"success":false,"error":{"code":"ID.1001",'
    '"description":"The session is invalid, either wrong session id or the session has been expired",'
    '"details":"Session expired","elaboration":"Error message: Session expired or wrong session ID.",'
    '"cost":"0ms"}}}',
}

CALL_DESCRIPTION = """\
ZStack's pre-REST API, still used by zstack-ctl, the Python `apibinding` and many Python clients.
The body is `{"<API message class>": {...fields...}}`; authenticated messages carry
`"session": {"uuid": "<session uuid>"}` inside the message. Sessions and the inventory are shared
with the REST API.

Every answer of the API itself is HTTP 200 with the envelope `{state, createdDate, finishedDate,
result}`; `result` is a JSON string `{"<reply class>": {..., "success": true}}`, or on failure
`{"<class>": {"success": false, "error": ErrorCode}}` where the class is
`org.zstack.header.message.APIReply` for a message refused before its service ran (session,
parameters) and the API's own reply class otherwise (a wrong password: `APILogInReply`, ID.1000).

Messages: `org.zstack.header.identity.APILogInByAccountMsg`, `APILogOutMsg`, `APIValidateSessionMsg`,
`APIRenewSessionMsg` (async: `Processing`, then the event) (same package), `org.zstack.header.apimediator.APIIsReadyToGoMsg`,
`org.zstack.header.image.APIQueryImageMsg`,
`org.zstack.header.storage.volume.backup.APIQueryVolumeBackupMsg`,
`org.zstack.header.storage.backup.APIQueryBackupStorageMsg`. Queries take `conditions` (required, may
be empty: `[{"name", "op", "value"}]` with ops `=`, `!=`, `>`, `>=`, `<`, `<=`, `in`, `not in`, `like`,
`not like`, `is null`, `is not null`), `limit`, `start`, `count`, `replyWithCount`, `sortBy`,
`sortDirection`, `fields`.

An unknown message class or a body that is not JSON: 200 and a plain-text explanation. An empty body,
`{}` or a null message: 500 and an HTML page. Both as the real server answers them.
"""

CALL_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The envelope (also for API failures); or plain text for an unknown message class or a "
        "body that is not JSON.",
        "content": {
            "application/json": {
                "examples": {
                    "login": {"summary": "LogInByAccount", "value": LOGIN_ANSWER_EXAMPLE},
                    "sessionExpired": {"summary": "An invalid session", "value": SESSION_FAILURE_EXAMPLE},
                }
            },
            "text/plain": {"schema": {"type": "string"}, "example": "Unable to deserialize class org.zstack.Foo: ..."},
        },
    },
    413: text_error("A body over the size limit (plain text).", "the request body exceeds the limit of 1048576 bytes"),
    500: {
        "description": "An empty body, `{}`, or a null message (an HTML error page).",
        "content": {"text/html": {"schema": {"type": "string"}}},
    },
}


async def call_api(request: Request) -> Response:
    body = await read_body(request, server_of(request).settings.max_body_bytes)
    return answer_call(instance_of(request), body)


async def get_result(request: Request, uuid: str = Path(description="The uuid of an async call's envelope.")) -> Response:
    return poll_result(instance_of(request), uuid)


async def call_api_wrong_method(request: Request) -> Response:
    return _method_not_allowed(request, "POST, PUT", 'a JSON body {"<API message class>": {...}}')


async def get_result_wrong_method(request: Request, uuid: str) -> Response:
    return _method_not_allowed(request, "GET, PUT", "no body")


def _method_not_allowed(request: Request, allowed: str, body: str) -> Response:
    response = text_response(
        405,
        f"The method[{request.method}] is not allowed for the path[{request.url.path}]: "
        f"it takes {allowed.replace(', ', ' or ')} with {body}",
    )
    response.headers["Allow"] = allowed
    return response


RESULT_DESCRIPTION = """\
An async call's envelope: `Processing` (with `finishedDate` already set) while it runs, then `Done`
with `result` (cut at 64,000 characters). A uuid with no stored result, including that of a sync call,
is a 404 HTML page `No api result[uuid:X] found`.
"""
RESULT_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {
        "description": "No stored result for this uuid (an HTML error page).",
        "content": {"text/html": {"schema": {"type": "string"}, "example": "... No api result[uuid:X] found ..."}},
    },
}


def _register(path: str, endpoint: Any, wrong_method: Any, *, methods: tuple[str, str], name: str,
              summary: str, **docs: Any) -> None:
    """Both methods on the path, documented, and on the path with a trailing slash; HEAD wherever
    GET is served (as Spring MVC does); every other method on both answers the 405."""
    served = [*methods, "HEAD"] if "GET" in methods else list(methods)
    others = [m for m in ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS") if m not in served]
    for variant, documented in ((path, True), (f"{path}/", False)):
        for method in served:
            router.add_api_route(
                variant, endpoint, methods=[method], include_in_schema=documented and method != "HEAD",
                operation_id=f"{name}{method.title()}", summary=f"{summary} ({method})", **docs,
            )
        router.add_api_route(variant, wrong_method, methods=others, include_in_schema=False)


_register(
    rpc.API_PATH, call_api, call_api_wrong_method, methods=("POST", "PUT"), name="RpcCall", summary="Call an API",
    description=CALL_DESCRIPTION, response_model=RpcEnvelope, responses=CALL_RESPONSES,
    openapi_extra=json_body(RpcRequest, EXAMPLES),
)
_register(
    rpc.RESULT_PATH, get_result, get_result_wrong_method, methods=("GET", "PUT"), name="RpcResult",
    summary="Poll an async call", description=RESULT_DESCRIPTION, response_model=RpcEnvelope,
    responses=RESULT_RESPONSES,
)
