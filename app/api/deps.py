"""What a route may ask of the running server: the one ``Server`` (``app.state.server``), and the fake
cloud the request belongs to.

Plain functions over the request rather than ``Depends``: FastAPI's dependency solver costs about
25 µs per dependency per request, a tenth of a create call's whole budget.

Under ``--sandbox`` a request may belong to a visitor's tenant (``app.instance``): ``instance_of``
then gives the tenant's context, fault engine, journal and job waker, and routes never know the
difference.
"""

from __future__ import annotations

from fastapi import Request

from ..asgi import TENANT_SCOPE_KEY
from ..instance import Instance
from ..sandbox.middleware import TENANT_HEADER
from ..server import Server


def server_of(request: Request) -> Server:
    server: Server = request.app.state.server
    return server


def instance_of(request: Request) -> Instance:
    return server_of(request).instance_for(request.scope)


def visitor_session(request: Request) -> str | None:
    """The session of a sandbox visitor's control call on its own tenant (``X-Mock-Session``), else None."""
    if TENANT_SCOPE_KEY not in request.scope:
        return None
    return (request.headers.get(TENANT_HEADER) or "").strip() or None


def public_base_url(request: Request) -> str:
    """Where clients reach this server: ``--public-url``, else the URL the request came in on."""
    public_url = server_of(request).settings.public_url
    if public_url:
        return public_url
    # What Request.base_url gives, without building and parsing a URL object.
    scope = request.scope
    host = request.headers.get("host")
    if host is None:
        server_host, port = scope.get("server") or ("localhost", None)
        default_port = {"http": 80, "https": 443}.get(scope["scheme"])
        host = server_host if port in (None, default_port) else f"{server_host}:{port}"
    return f"{scope['scheme']}://{host}{scope.get('root_path', '')}".rstrip("/")
