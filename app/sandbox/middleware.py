"""The sandbox layer: sends each request to its visitor's tenant, and holds back visitors over their rate.

Which tenant a request belongs to:

* a login (REST or RPC) gets a new tenant; the session it opens leads to it from then on;
* a call made with a session (``Authorization: OAuth``, the RPC message's ``session``, the session
  a LogOut or ValidateSession names) goes to that session's tenant; in the local profile a
  well-formed session never seen gets a new one;
* a job poll goes to the tenant that accepted the job;
* a control call under ``/_mock`` goes to the tenant of the session in ``X-Mock-Session`` (404 when
  there is none), or without the header to the server's own instance; ``/_mock/sandbox``, which acts
  on every tenant, always to the server's own;
* anything else (no session, a malformed one, one the sandbox did not issue or has since evicted,
  the docs, the console) to the server's own instance, which answers the usual errors (ID.1001).

What holds a request back, each answered in ZStack's ``{"error": ErrorCode}`` with ``Retry-After``:
a tenant over ``--sandbox-rate-limit`` (429); a client address over ``--login-rate-limit`` logins or
``--anonymous-rate-limit`` requests that reach no tenant or poll a job (429); a login when the sandbox is full and
no tenant has been idle long enough to make way for it (503).

The tenant's ``Instance`` goes into the scope (``app.instance``) for the layers and routes inside.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import Response

from ..admin_token import is_control_path
from ..asgi import TENANT_SCOPE_KEY, ASGIApp, Receive, Scope, Send, buffer_body
from ..catalogue import LOG_IN_BY_ACCOUNT, LOG_OUT, QUERY_API_JOB, QUERY_API_RESULT, VALIDATE_SESSION
from ..catalogue.calls import ZStackCall
from ..zstack.errors import OPERATION_FAILED, ErrorCode, TransportError, ZStackError, not_found
from ..zstack.rpc import duplicate_message_id
from .buckets import Admission
from .tenants import Sandbox, SandboxFull, Tenant

T = TypeVar("T")

TENANT_HEADER = "X-Mock-Session"
#: The control path over all tenants: the server's own, whatever the request names.
SANDBOX_CONTROL_PATH = "/_mock/sandbox"
_POLLS = (QUERY_API_JOB.name, QUERY_API_RESULT.name)
#: The APIs that name a session in a field (the REST path's ``{sessionUuid}``), not as the caller's session.
_NAMES_SESSION = (LOG_OUT.name, VALIDATE_SESSION.name)


class SandboxMiddleware:
    def __init__(self, app: ASGIApp, sandbox: Sandbox, max_body_bytes: int) -> None:
        self.app = app
        self.sandbox = sandbox
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        address = client_address(scope)
        tenant: Tenant | None = None
        login = poll = False
        if path.startswith("/zstack/"):
            call, receive = await self._zstack_call(scope, receive)
            login = call.operation == LOG_IN_BY_ACCOUNT.name
            poll = call.operation in _POLLS
            if login:
                refused = self.sandbox.addresses.admit_login(address)
                if refused is not None:
                    await _too_many_requests(refused)(scope, receive, send)
                    return
            try:
                tenant, taken = await self._off_loop_if_slow(self._tenant_of_call, call, login)
            except SandboxFull as full:
                await _sandbox_full(full)(scope, receive, send)
                return
            if taken is not None:
                await _duplicate_job(call, taken).response()(scope, receive, send)
                return
        elif is_control_path(path) and not _acts_on_every_tenant(path):
            session = (Headers(scope=scope).get(TENANT_HEADER) or "").strip()
            if session:
                tenant = await self._off_loop_if_slow(self.sandbox.existing_for_session, session)
                if tenant is None:
                    refused = self.sandbox.addresses.admit_anonymous(address)
                    answer = _no_tenant(session) if refused is None else _too_many_requests(refused)
                    await answer(scope, receive, send)
                    return
        if tenant is None or poll:
            # A poll carries no session, so whoever polls pays from its own address's allowance, never
            # from the job owner's: a stranger who knows a job UUID cannot drain that visitor's rate.
            refused = self.sandbox.addresses.admit_anonymous(address)
            if refused is not None:
                await _too_many_requests(refused)(scope, receive, send)
                return
        if tenant is None:
            await self.app(scope, receive, send)
            return
        refused = self.sandbox.admit(tenant, charged=not poll)
        if refused is not None:
            if login:
                await self._off_loop_if_slow(self.sandbox.login_answered, tenant)
            await _too_many_requests(refused)(scope, receive, send)
            return
        scope[TENANT_SCOPE_KEY] = tenant.instance
        try:
            await self.app(scope, receive, send)
        finally:
            if login:
                with anyio.CancelScope(shield=True):  # also when the client left: a failed login's tenant goes
                    await self._off_loop_if_slow(self.sandbox.login_answered, tenant)

    async def _off_loop_if_slow(self, call: Callable[..., T], *args: Any) -> T:
        """``call(*args)``, a call on the sandbox: on a worker thread where the tenants' home says their
        database is slow to reach (a server's round trips and connections)."""
        if self.sandbox.home.off_loop:
            return await run_in_threadpool(call, *args)
        return call(*args)

    def _tenant_of_call(self, call: ZStackCall, login: bool) -> tuple[Tenant | None, str | None]:
        """The tenant a ZStack call goes to (a new one for a login), and a job UUID it names that another
        tenant's job has, if any (then no tenant is made)."""
        tenant = None if login else self._zstack_tenant(call)
        taken = self._job_uuid_of_another(call, tenant)
        if taken is None and login:
            tenant = self.sandbox.for_login()
        return tenant, taken

    def _job_uuid_of_another(self, call: ZStackCall, tenant: Tenant | None) -> str | None:
        """The job UUID the call names (REST's ``X-Job-UUID``, an async RPC message's ``id``) if
        another tenant's job has it. Job UUIDs are unique across the sandbox, as on a real node:
        otherwise a poll, which names only the job, would reach the other visitor's job. RestServer
        checks reuse on POST, PUT and DELETE."""
        if call.method not in ("POST", "PUT", "DELETE") or call.operation in _POLLS:
            return None
        job_uuid = call.job_uuid
        if job_uuid is None:
            return None
        owner = self.sandbox.tenant_of_job(job_uuid)
        return job_uuid if owner is not None and (tenant is None or owner != tenant.uuid) else None

    async def _zstack_call(self, scope: Scope, receive: Receive) -> tuple[ZStackCall, Receive]:
        """The call, its RPC body read (and replayed to the app)."""
        body = b""
        if scope["path"].startswith("/zstack/api") and scope["method"] in ("POST", "PUT"):
            body, receive = await buffer_body(receive, self.max_body_bytes)
        return ZStackCall(method=scope["method"], path=scope["path"], headers=Headers(scope=scope), body=body), receive

    def _zstack_tenant(self, call: ZStackCall) -> Tenant | None:
        """The tenant of a call that is not a login (None: the server's own)."""
        operation = call.operation
        if operation in _POLLS:
            job = call.job_uuid
            return None if job is None else self.sandbox.for_job(job)
        if operation in _NAMES_SESSION:
            fields = call.path_vars if call.protocol == "rest" else call.message
            session = _text(fields.get("sessionUuid"))
        else:
            session = call.session_uuid
        return None if session is None else self.sandbox.for_session(session)


def client_address(scope: Scope) -> str:
    """The address the per-address limits count: the peer's, or behind a proxy trusted with
    ``--forwarded-allow-ips`` the one its ``X-Forwarded-For`` names. uvicorn's proxy headers support
    puts that one in the scope, when it is given the setting (``app/cli.py``)."""
    client = scope.get("client")
    return str(client[0]) if client else ""


def _duplicate_job(call: ZStackCall, job_uuid: str) -> TransportError:
    """The answer a real node gives a job UUID it already has: REST's 400, RPC's failed insert."""
    if call.protocol == "rpc":
        return duplicate_message_id(job_uuid)
    return TransportError(400, f"Duplicate job uuid[{job_uuid}]")


def _acts_on_every_tenant(path: str) -> bool:
    return path.rstrip("/") == SANDBOX_CONTROL_PATH


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _too_many_requests(refused: Admission) -> Response:
    error = ErrorCode(
        code=OPERATION_FAILED,
        details=f"Too many requests: {refused.rule}; retry in {refused.retry_after:.2f} s",
    )
    retry_after = str(max(1, math.ceil(refused.retry_after)))
    return ZStackError(error, status_code=429, headers={"Retry-After": retry_after}).response()


def _sandbox_full(full: SandboxFull) -> Response:
    retry_after = str(max(1, math.ceil(full.retry_after)))
    error = ErrorCode(code=OPERATION_FAILED, details=str(full))
    return ZStackError(error, status_code=503, headers={"Retry-After": retry_after}).response()


def _no_tenant(session: str) -> Response:
    shown = session if len(session) <= 64 else session[:64] + "..."
    return not_found(
        f"no sandbox tenant has session[uuid:{shown}]: log in, or call the ZStack API with that session, first"
    ).response()
