"""The admin token: with ``ZSTACK_MOCK_ADMIN_TOKEN`` set, the control API needs ``Authorization: Bearer``.

One pure-ASGI layer in front of the whole app guards every path under ``/_mock`` (the prefix, so
a router added later is covered without opting in), except ``GET /_mock/health`` for liveness
probes, and ``GET /_mock/scenarios``: the catalogue is no secret, and the console page (``/``) offers
it to visitors who have no token. Anything else under the prefix without the token gets 401, ``WWW-Authenticate: Bearer``
and the control API's ``{"error": ErrorCode}`` with ID.1000 (ZStack's "Unable to authenticate a
user"), whatever the method and whether or not a route exists there. A ZStack session
(``Authorization: OAuth ...``) never opens it. Tokens are compared in constant time.

``create_app`` adds the layer only when a token is set: without one nothing changes, and the
ZStack API never pays for it.

``GET /metrics`` needs the token too: a Prometheus scrape sends it as easily (``authorization:
credentials``), and an operator who guards the control API expects the server's counters guarded.

Under ``--sandbox`` a call naming a visitor's own tenant (``X-Mock-Session``) needs no token: the
session opens that tenant's control API and nothing else (``/_mock/sandbox``, which acts on every
tenant, is never routed to one).
"""

from __future__ import annotations

import hmac

from .asgi import TENANT_SCOPE_KEY, ASGIApp, Receive, Scope, Send
from .observe.metrics import METRICS_PATH
from .zstack.errors import AUTHENTICATION_FAILED, ErrorCode, ZStackError

CONTROL_PREFIX = "/_mock"
#: (method, path) pairs under the prefix that stay open: liveness probes carry no token, and the
#: scenario catalogue is what the console page shows every visitor.
OPEN_CALLS = frozenset({
    ("GET", "/_mock/health"), ("HEAD", "/_mock/health"),
    ("GET", "/_mock/scenarios"), ("HEAD", "/_mock/scenarios"),
})
REALM = 'Bearer realm="zstack-mock control API"'


def is_control_path(path: str) -> bool:
    return path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")


class AdminTokenMiddleware:
    def __init__(self, app: ASGIApp, *, token: str) -> None:
        self.app = app
        self._token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path = _route_path(scope)
        metrics = path == METRICS_PATH
        if not metrics and not is_control_path(path):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "http" and (scope["method"], path) in OPEN_CALLS:
            await self.app(scope, receive, send)
            return
        if TENANT_SCOPE_KEY in scope and not metrics:
            # A sandbox visitor's call on its own tenant (X-Mock-Session): its session is the credential,
            # and nothing it does reaches another visitor or the server's own instance.
            await self.app(scope, receive, send)
            return
        problem = self._problem(scope)
        if problem is None:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": "admin token required"})
            return
        details, challenge = problem
        error = ZStackError(ErrorCode(code=AUTHENTICATION_FAILED, details=details), status_code=401,
                            headers={"WWW-Authenticate": challenge})
        await error.response()(scope, receive, send)

    def _problem(self, scope: Scope) -> tuple[str, str] | None:
        """None if the request carries the token, else (details, WWW-Authenticate value)."""
        authorization = next((v for k, v in scope["headers"] if k == b"authorization"), None)
        if authorization is None:
            return ("the control API needs 'Authorization: Bearer <admin token>' (ZSTACK_MOCK_ADMIN_TOKEN is set)",
                    REALM)
        scheme, _, credential = authorization.strip().partition(b" ")
        if scheme.lower() != b"bearer":
            return (f"the control API takes 'Authorization: Bearer <admin token>', not the "
                    f"{scheme.decode('latin-1')[:20]} scheme; a ZStack session does not open it", REALM)
        if not hmac.compare_digest(credential.strip(), self._token):
            return "the bearer token is not the admin token", f'{REALM}, error="invalid_token"'
        return None


def _route_path(scope: Scope) -> str:
    """The path the router matches (without ``root_path``), as Starlette computes it."""
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if root_path and path.startswith(root_path) and path[len(root_path):len(root_path) + 1] == "/":
        return path[len(root_path):]
    return path
