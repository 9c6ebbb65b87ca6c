"""The application factory: one ``Server``, the layers around the app, and the routers. No logic."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from . import __version__
from .admin_token import AdminTokenMiddleware, is_control_path
from .api import metrics as metrics_route
from .api import redoc
from .api.control import arrange as control_arrange
from .api.control import faults as control_faults
from .api.control import health
from .api.control import jobs as control_jobs
from .api.control import requests as control_requests
from .api.control import sandbox as control_sandbox
from .api.control import state as control_state
from .api.openapi import build_openapi
from .api.zstack import routes as zstack_routes
from .api.zstack import rpc
from .console import router as console_router
from .console.routes import CONTENT_SECURITY_POLICY as CONSOLE_POLICY
from .faults.middleware import FaultMiddleware
from .journal.middleware import JournalMiddleware
from .observe.middleware import ObserveMiddleware
from .sandbox.middleware import SandboxMiddleware
from .security_headers import DOCS_POLICY, SecurityHeadersMiddleware
from .server import Server
from .settings import Settings
from .zstack.wire import install_error_handlers

DESCRIPTION = """\
A stateful simulator of the ZStack management node's REST API.

It emulates `CreateRootVolumeTemplateFromVolumeBackup` and the session APIs over a persistent
inventory of accounts, volume backups, backup storages and images: requests are validated in
ZStack's order with ZStack's error codes and messages, and answers carry ZStack's envelopes.
Log in with `PUT /zstack/v1/accounts/login` (admin / SHA-512 of `password`) and send
`Authorization: OAuth <session uuid>`.
"""

#: Headers a page may send: ZStack's, the scenario header, and the async preference.
CORS_REQUEST_HEADERS = (
    "Authorization", "Content-Type", "X-Job-UUID", "X-Web-Hook", "X-API-Timeout", "X-JSON-Schema",
    "X-Mock-Scenario", "X-Mock-Session", "Prefer",
)
#: Answer headers a page's script may read.
CORS_EXPOSED_HEADERS = ("Location", "X-Job-UUID", "X-Job-Success", "Preference-Applied", "WWW-Authenticate")

DOCS_ASSETS_PATH = "/docs-assets"
#: The server's own pages and their Content-Security-Policy; every other answer gets the API's.
PAGES = {
    "/": CONSOLE_POLICY,
    "/docs": DOCS_POLICY,
    "/docs/oauth2-redirect": DOCS_POLICY,
    redoc.REDOC_PATH: DOCS_POLICY,
}

TAGS = [
    {"name": "Backup Service Operations", "description": "Platform O&M / Backup Management / Backup Service (Plus)"},
    {"name": "Async jobs", "description": "Results of asynchronous calls (REST api-jobs)."},
    {"name": "Sessions", "description": "Log in, log out and check sessions (identity)."},
    {"name": "Queries", "description": "ZStack's query APIs over the same inventory."},
    {"name": "Legacy RPC", "description": "ZStack's pre-REST API at /zstack/api, over the same sessions and inventory."},
    {"name": "Control", "description": "zstack-mock's own API, outside ZStack's /zstack namespace. With "
     "ZSTACK_MOCK_ADMIN_TOKEN set, every call but GET /_mock/health and GET /_mock/scenarios needs "
     "'Authorization: Bearer <token>', and so does GET /metrics."},
]

ROUTERS = (
    *zstack_routes.routers,
    rpc.router,
    health.router,
    control_jobs.router,
    control_requests.router,
    control_faults.router,
    control_state.router,
    control_arrange.router,
    control_sandbox.router,
    redoc.router,
    console_router,
)


def layers(server: Server) -> list[Middleware]:
    """The pure-ASGI layers a request passes before the routes, outermost first, each only where its
    setting asks for it."""
    settings = server.settings
    found: list[Middleware] = []
    if server.metrics is not None or not settings.quiet:
        # Outermost: it times, counts and logs what the client got from all the others.
        found.append(Middleware(ObserveMiddleware, metrics=server.metrics, log=not settings.quiet))
    # Every answer, a preflight's or another layer's included, gets nosniff and its policy.
    found.append(Middleware(SecurityHeadersMiddleware, pages=PAGES))
    if settings.cors_origin_list:
        # First of all: a browser's preflight is answered before any tenant, fault, token check or journal.
        found.append(Middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"],
            allow_headers=list(CORS_REQUEST_HEADERS),
            expose_headers=list(CORS_EXPOSED_HEADERS),
            max_age=600,
        ))
    if server.sandbox is not None:
        # Before the journal and the fault layer: they record and strike in the visitor's own tenant.
        found.append(Middleware(SandboxMiddleware, sandbox=server.sandbox, max_body_bytes=settings.max_body_bytes))
    if server.instance.journal.enabled:
        # Outside the fault layer: it records what the client really got, an injected fault included.
        found.append(Middleware(JournalMiddleware, journal_for=server.journal_for))
    if settings.fault_injection:
        # Just outside the routes, which never see it: it answers for them, or lets them answer.
        found.append(Middleware(
            FaultMiddleware, engine_for=server.faults_for,
            api_mode=settings.api_mode, max_body_bytes=settings.max_body_bytes,
        ))
    if settings.admin_token is not None:
        # Innermost: it guards /_mock by path, and must see whether the sandbox routed the call to a tenant.
        found.append(Middleware(AdminTokenMiddleware, token=settings.admin_token.get_secret_value()))
    return found


def create_app(settings: Settings | None = None, *, install_rules: bool = True) -> FastAPI:
    server = Server(settings or Settings(), install_rules=install_rules)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        server.start()
        try:
            yield
        finally:
            await server.stop()

    # /docs and /redoc with Swagger UI and ReDoc served by the app itself: they work with no internet.
    app = FastAPIOffline(
        redoc_url=None,  # app.api.redoc serves /redoc, without the CDN logo in ReDoc's script
        static_url=DOCS_ASSETS_PATH,
        title="zstack-mock",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        middleware=layers(server),
    )
    app.state.server = server
    install_error_handlers(app, json_errors_for=is_control_path)
    # The routes themselves, not the routers: FastAPI matches an included router by walking it (and
    # counting its routes) on every request, tens of microseconds a router before the one that matches.
    # The routers' prefixes and tags are already in their routes; the OpenAPI document is the same.
    for router in ROUTERS:
        app.router.routes.extend(router.routes)
    if server.metrics is not None:
        app.router.routes.extend(metrics_route.router.routes)
    app.openapi = lambda: build_openapi(app)  # type: ignore[method-assign]
    return app
