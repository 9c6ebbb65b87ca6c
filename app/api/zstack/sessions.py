"""Session APIs: LogInByAccount, LogOut, ValidateSession."""

from __future__ import annotations

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from app.api.deps import context_of, settings_of
from app.api.docs import API_FAILURE, json_body
from app.api.routing import ZStackRoute
from app.domain.sessions import log_in_by_account, log_out, validate_session
from app.zstack.inventories import session_inventory
from app.zstack.schemas import EmptyReply, LogInByAccountRequest, SessionInventoryReply, ValidateSessionReply
from app.zstack.wire import json_response, read_json_body

router = APIRouter(prefix="/zstack/v1/accounts", tags=["Sessions"], route_class=ZStackRoute)

ADMIN_LOGIN_EXAMPLE = {
    "logInByAccount": {
        "accountName": "admin",
        "password": "b109f3bbbc244eb82441917ed06d618b9008dd09b3befd1b5e07394c706a8bb9"
        "80b1d7785e5976ec049b46df5f1326af5a2ea6d103fd07c95385ffab0cacbc86",
    }
}
SESSION_UUID = Path(description="The session UUID.")


@router.put(
    "/login",
    operation_id="LogInByAccount",
    summary="LogInByAccount",
    description="Log in with an account name and the SHA-512 hex digest of its password. Wrong "
    "credentials fail with ID.1000.",
    response_model=SessionInventoryReply,
    responses=API_FAILURE,
    openapi_extra=json_body(LogInByAccountRequest, {"admin": {"summary": "admin / password", "value": ADMIN_LOGIN_EXAMPLE}}),
)
async def log_in(request: Request) -> Response:
    body = await read_json_body(request, settings_of(request).max_body_bytes)
    session = log_in_by_account(ctx=context_of(request), params=body.get("logInByAccount"))
    return json_response({"inventory": session_inventory(session)})


@router.delete(
    "/sessions/{sessionUuid}",
    operation_id="LogOut",
    summary="LogOut",
    description="End a session. Succeeds for unknown sessions too. No Authorization header needed.",
    response_model=EmptyReply,
)
async def log_out_session(request: Request, sessionUuid: str = SESSION_UUID) -> Response:
    log_out(ctx=context_of(request), session_uuid=sessionUuid)
    return json_response({})


@router.get(
    "/sessions/{sessionUuid}/valid",
    operation_id="ValidateSession",
    summary="ValidateSession",
    description="Whether a session is live. Does not renew it. No Authorization header needed.",
    response_model=ValidateSessionReply,
)
async def validate(request: Request, sessionUuid: str = SESSION_UUID) -> Response:
    return json_response({"valid": validate_session(ctx=context_of(request), session_uuid=sessionUuid)})
