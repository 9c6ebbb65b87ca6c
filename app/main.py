"""The application factory: routers, error handlers and the store, wired together. No logic."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI, Request
from fastapi_offline import FastAPIOffline
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

from app import __version__
from app.api.control import arrange as control_arrange
from app.api.control import faults as control_faults
from app.api.control import health
from app.api.control import jobs as control_jobs
from app.api.control import requests as control_requests
from app.api.control import sandbox as control_sandbox
from app.api.control import state as control_state
from app.api.control.auth import AdminTokenMiddleware
from app.api.control.common import ControlError
from app.api.docs import build_openapi
from app.api.zstack import images, queries, rpc, sessions
from app.api.zstack import jobs as api_jobs
from app.background.job_runner import JobRunner
from app.clock import ServerClock, claim_uuid_stream
from app.console import router as console_router
from app.faults.engine import FaultEngine
from app.faults.files import load_rules, load_scenarios
from app.faults.middleware import FaultMiddleware
from app.instance import server_context
from app.journal.middleware import JournalMiddleware
from app.journal.recorder import Journal
from app.sandbox.middleware import SandboxMiddleware
from app.sandbox.tenants import Sandbox, sandbox_directory
from app.seeding.fixtures import FixtureCache
from app.seeding.startup import ensure_fixtures, open_store
from app.settings import Settings
from app.zstack.wire import install_error_handlers

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

TAGS = [
    {"name": "Backup Service Operations", "description": "Platform O&M / Backup Management / Backup Service (Plus)"},
    {"name": "Async jobs", "description": "Results of asynchronous calls (REST api-jobs)."},
    {"name": "Sessions", "description": "Log in, log out and check sessions (identity)."},
    {"name": "Queries", "description": "ZStack's query APIs over the same inventory."},
    {"name": "Legacy RPC", "description": "ZStack's pre-REST API at /zstack/api, over the same sessions and inventory."},
    {"name": "Control", "description": "zstack-mock's own API, outside ZStack's /zstack namespace. With "
     "ZSTACK_MOCK_ADMIN_TOKEN set, every call but GET /_mock/health and GET /_mock/scenarios needs "
     "'Authorization: Bearer <token>'."},
]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    store = open_store(settings.database_url, reset=settings.reset)
    fixtures = FixtureCache(settings.fixtures)
    try:
        loaded = ensure_fixtures(store, fixtures, reset=settings.reset)
        stream = 0 if settings.seed is None else claim_uuid_stream(store)
        scenarios = load_scenarios(settings.scenarios)
        startup_rules = None if settings.faults is None else load_rules(settings.faults)
    except BaseException:
        store.close()
        raise

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runner.start()
        try:
            yield
        finally:
            await runner.stop()
            journal.stop()
            if sandbox is not None:
                sandbox.close()
            store.close()

    # /docs and /redoc with Swagger UI and ReDoc served by the app itself: they work with no internet.
    app = FastAPIOffline(
        static_url=DOCS_ASSETS_PATH,
        title="zstack-mock",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.fixtures_status = f"fixtures loaded from {settings.fixtures}" if loaded else "existing inventory kept"
    app.state.fixtures = fixtures
    clock = ServerClock(store, seed=settings.seed, stream=stream)
    context = server_context(settings, store, clock)
    sandbox = None
    if settings.sandbox:
        sandbox = Sandbox(
            settings,
            fixtures=fixtures.records(),
            fixtures_source=str(settings.fixtures),
            scenarios=scenarios,
            startup_rules=startup_rules,
            directory=sandbox_directory(store.path),
            runner=lambda: app.state.job_runner,
            reset=settings.reset,
        )
    app.state.sandbox = sandbox
    runner = JobRunner(
        (lambda: (app.state.context,)) if sandbox is None else (lambda: (app.state.context, *sandbox.job_contexts())),
        webhook_attempts=settings.webhook_attempts,
        webhook_interval=timedelta(seconds=settings.webhook_interval),
    )
    app.state.context = context
    app.state.job_runner = runner
    journal = Journal(lambda: app.state.context, size=settings.journal_size)
    app.state.journal = journal
    faults = FaultEngine(lambda: app.state.context, scenarios, seed=settings.seed)
    if startup_rules is not None:
        faults.replace_rules(startup_rules)
    app.state.faults = faults
    app.state.startup_rules = startup_rules
    install_error_handlers(app)
    app.add_exception_handler(ControlError, _control_error)
    app.include_router(images.router)
    app.include_router(api_jobs.router)
    app.include_router(sessions.router)
    app.include_router(queries.router)
    app.include_router(rpc.router)
    app.include_router(health.router)
    app.include_router(control_jobs.router)
    app.include_router(control_requests.router)
    app.include_router(control_faults.router)
    app.include_router(control_state.router)
    app.include_router(control_arrange.router)
    app.include_router(control_sandbox.router)
    app.include_router(console_router)
    if settings.admin_token is not None:
        # Guards every path under /_mock (a router added later too), by prefix; see app.api.control.auth.
        app.add_middleware(AdminTokenMiddleware, token=settings.admin_token.get_secret_value())
    if settings.fault_injection:
        app.add_middleware(
            FaultMiddleware, engine=faults, api_mode=settings.api_mode, max_body_bytes=settings.max_body_bytes
        )
    if journal.enabled:
        # Added last, so the outermost layer: it records what the fault layer did to each request.
        app.add_middleware(JournalMiddleware, journal=journal)
    if sandbox is not None:
        # Outside the journal and the fault layer: they record and strike in the visitor's own tenant.
        app.add_middleware(SandboxMiddleware, sandbox=sandbox, max_body_bytes=settings.max_body_bytes)
    if settings.cors_origin_list:
        # Outermost of all: a browser's preflight is answered before any fault, token check or journal.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"],
            allow_headers=list(CORS_REQUEST_HEADERS),
            expose_headers=list(CORS_EXPOSED_HEADERS),
            max_age=600,
        )
    app.openapi = lambda: build_openapi(app)  # type: ignore[method-assign]
    return app


async def _control_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ControlError)
    return exc.response()
