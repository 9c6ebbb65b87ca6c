"""What a route may ask of the running server.

Plain functions over ``request.app.state`` rather than ``Depends``: FastAPI's dependency solver
costs about 25 µs per dependency per request, a tenth of a create call's whole budget.

Under ``--sandbox`` a request may belong to a visitor's tenant (``app.instance``): then its context,
fault engine, journal and job waker are the tenant's, and routes never know the difference.
"""

from __future__ import annotations

from fastapi import Request

from app.background.job_runner import JobRunner
from app.domain.context import Context
from app.faults.engine import FaultEngine
from app.instance import Instance, JobWaker, scope_instance
from app.journal.recorder import Journal
from app.settings import Settings


def _tenant(request: Request) -> Instance | None:
    """The sandbox tenant the request was routed to; None: the server's own instance."""
    return scope_instance(request.scope)


def context_of(request: Request) -> Context:
    instance = _tenant(request)
    if instance is not None:
        return instance.context
    context: Context = request.app.state.context
    return context


def faults_of(request: Request) -> FaultEngine:
    instance = _tenant(request)
    if instance is not None:
        return instance.faults
    engine: FaultEngine = request.app.state.faults
    return engine


def journal_of(request: Request) -> Journal:
    instance = _tenant(request)
    if instance is not None:
        return instance.journal
    journal: Journal = request.app.state.journal
    return journal


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def job_runner_of(request: Request) -> JobWaker:
    instance = _tenant(request)
    if instance is not None:
        return instance.jobs
    runner: JobRunner = request.app.state.job_runner
    return runner


def public_base_url(request: Request) -> str:
    """Where clients reach this server: ``--public-url``, else the URL the request came in on."""
    public_url = settings_of(request).public_url
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
