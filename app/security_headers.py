"""Every answer's ``X-Content-Type-Options: nosniff`` and ``Content-Security-Policy``, as one ASGI layer.

An answer of an API (ZStack's, the control API's, an error, whatever a fault rule serves) gets a policy
under which nothing runs or loads, so that even HTML a visitor's rule serves is inert on this origin. The
pages zstack-mock serves itself get a policy that lets their own scripts and styles run and loads nothing
from another host. The layer replaces any such header a route or a fault rule set.
"""

from __future__ import annotations

from collections.abc import Mapping

from .asgi import ASGIApp, Message, Receive, Scope, Send

API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
#: Swagger UI and ReDoc: their scripts, style sheets and images come from this server; Swagger UI starts
#: from an inline script and both set inline styles; "Try it out" calls wherever the document's server is.
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; connect-src *; base-uri 'none'; form-action 'none'"
)

_REPLACED = frozenset({b"x-content-type-options", b"content-security-policy"})


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, pages: Mapping[str, str]) -> None:
        self.app = app
        #: Exact paths of the server's own pages, and the policy of each.
        self.pages = {path: policy.encode() for path, policy in pages.items()}
        self.api_policy = API_POLICY.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root):] or "/"
        policy = self.pages.get(path, self.api_policy)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() not in _REPLACED]
                headers += [(b"x-content-type-options", b"nosniff"), (b"content-security-policy", policy)]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
