"""What a route may ask of the running server.

Plain functions over ``request.app.state`` rather than ``Depends``: FastAPI's dependency solver
costs about 25 µs per dependency per request, a tenth of a create call's whole budget.
"""

from __future__ import annotations

from fastapi import Request

from app.domain.context import Context
from app.settings import Settings


def context_of(request: Request) -> Context:
    context: Context = request.app.state.context
    return context


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings
