"""The identity APIs: LogInByAccount, LogOut, ValidateSession, and zstack-ctl's IsReadyToGo (RPC only)."""

from __future__ import annotations

from ..domain import sessions
from ..zstack.inventories import SESSION
from ..zstack.params import MessageSpec, Param
from ..zstack.schemas import (
    AsyncAccepted,
    EmptyReply,
    LogInByAccountRequest,
    RenewSessionRequest,
    SessionInventoryReply,
    ValidateSessionReply,
)
from .docs import API_FAILURE, BODY_TOO_LARGE, text_error
from .model import Api, Docs, Rest, Rpc

_IDENTITY = "org.zstack.header.identity"

ADMIN_PASSWORD_SHA512 = (
    "b109f3bbbc244eb82441917ed06d618b9008dd09b3befd1b5e07394c706a8bb9"
    "80b1d7785e5976ec049b46df5f1326af5a2ea6d103fd07c95385ffab0cacbc86"
)
ADMIN_LOGIN_EXAMPLE = {"logInByAccount": {"accountName": "admin", "password": ADMIN_PASSWORD_SHA512}}

#: LogOut and ValidateSession name the session in a field (the REST path's variable), not in ``session``.
_SESSION_UUID_FIELD = MessageSpec(
    class_name=f"{_IDENTITY}.APISessionMessage", params=(Param("sessionUuid", required=True),)
)

LOG_IN_BY_ACCOUNT = Api(
    name="LogInByAccount",
    kind="action",
    serve=sessions.log_in_by_account,
    authenticated=False,
    rest=Rest("PUT", "/accounts/login", parameter="logInByAccount", any_method=True),
    rpc=(Rpc(f"{_IDENTITY}.APILogInByAccountMsg", f"{_IDENTITY}.APILogInReply"),),
    params=MessageSpec(
        class_name=f"{_IDENTITY}.APILogInByAccountMsg",
        params=(Param("accountName", required=True), Param("password", required=True), Param("accountType")),
    ),
    reply=SessionInventoryReply,
    reply_inventories={"inventory": SESSION},
    docs=Docs(
        tag="Sessions",
        summary="LogInByAccount",
        description="Log in with an account name and the SHA-512 hex digest of its password. Wrong "
        "credentials fail with ID.1000.",
        responses=API_FAILURE,
        body=(LogInByAccountRequest, {"admin": {"summary": "admin / password", "value": ADMIN_LOGIN_EXAMPLE}}),
    ),
)

LOG_OUT = Api(
    name="LogOut",
    kind="action",
    serve=sessions.log_out,
    authenticated=False,
    rest=Rest("DELETE", "/accounts/sessions/{sessionUuid}", any_method=True),
    rpc=(Rpc(f"{_IDENTITY}.APILogOutMsg", f"{_IDENTITY}.APILogOutReply"),),
    params=_SESSION_UUID_FIELD,
    reply=EmptyReply,
    docs=Docs(
        tag="Sessions",
        summary="LogOut",
        description="End a session. Succeeds for unknown sessions too. No Authorization header needed.",
        path={"sessionUuid": "The session UUID."},
    ),
)

VALIDATE_SESSION = Api(
    name="ValidateSession",
    kind="action",
    serve=sessions.validate_session,
    authenticated=False,
    rest=Rest("GET", "/accounts/sessions/{sessionUuid}/valid", reply_fields={"valid": "validSession"},
              any_method=True),
    rpc=(Rpc(f"{_IDENTITY}.APIValidateSessionMsg", f"{_IDENTITY}.APIValidateSessionReply"),),
    params=_SESSION_UUID_FIELD,
    reply=ValidateSessionReply,
    docs=Docs(
        tag="Sessions",
        summary="ValidateSession",
        description="Whether a session is live. Does not renew it. No Authorization header needed.",
        path={"sessionUuid": "The session UUID."},
    ),
)

RENEW_SESSION = Api(
    name="RenewSession",
    kind="action",
    serve=sessions.renew_session,
    job=sessions.RENEW_SESSION_STEPS,
    rest=Rest("PUT", "/accounts/sessions/{sessionUuid}/renew", parameter="renewSession", any_method=True),
    rpc=(Rpc(f"{_IDENTITY}.APIRenewSessionMsg", f"{_IDENTITY}.APIRenewSessionEvent"),),
    # In a Java HashMap's order of the field names, the order the validator walks them.
    params=MessageSpec(
        class_name=f"{_IDENTITY}.APIRenewSessionMsg",
        params=(
            Param("duration", kind="long", number_range=(60, 31_536_000)),
            Param("sessionUuid", required=True, resource_type="SessionVO"),
        ),
    ),
    reply=SessionInventoryReply,
    reply_inventories={"inventory": SESSION},
    docs=Docs(
        tag="Sessions",
        summary="RenewSession",
        description="Make a session expire `duration` seconds from now (60 to 31536000; default the session "
        "timeout). An API event, so asynchronous on a real node: with `X-Job-UUID`, `X-Web-Hook` or `Prefer: "
        "respond-async` the answer is 202 and a job. An expired session cannot be renewed (ID.1001). "
        "Auth required: `Authorization: OAuth <sessionUuid>`.",
        responses={
            202: {"model": AsyncAccepted, "description": "Accepted as a job (async)."},
            400: text_error("Rejected by the REST layer (plain text): the Authorization header, a body that is not "
                            "JSON, or a bad X-Job-UUID, X-API-Timeout or X-Web-Hook.",
                            "missing header 'Authorization'"),
            **BODY_TOO_LARGE,
            **API_FAILURE,
        },
        body=(RenewSessionRequest, {"an hour": {"summary": "An hour from now", "value": {"renewSession": {"duration": 3600}}}}),
        path={"sessionUuid": "The session to renew."},
    ),
)

IS_READY_TO_GO = Api(
    name="IsReadyToGo",
    kind="action",
    serve=sessions.is_ready_to_go,
    authenticated=False,
    rpc=(
        # The class zstack-ctl and the installer send.
        Rpc("org.zstack.header.apimediator.APIIsReadyToGoMsg", "org.zstack.header.apimediator.APIIsReadyToGoReply"),
        # The name the project's RPC reference gives it; no such class exists on a real node, but
        # clients written from that reference send it, so it is answered too, in its own package.
        Rpc("org.zstack.header.managementnode.APIIsReadyToGoMsg",
            "org.zstack.header.managementnode.APIIsReadyToGoReply"),
    ),
    docs=Docs(tag="Legacy RPC", summary="IsReadyToGo", description="zstack-ctl's health check, no session."),
)
