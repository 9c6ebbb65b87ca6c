"""Named FastAPI dependencies: what a route may ask for."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.domain.context import Context
from app.settings import Settings


async def _context(request: Request) -> Context:
    context: Context = request.app.state.context
    return context


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# async dependencies run on the event loop; sync ones would each cost a threadpool hop.
ContextDep = Annotated[Context, Depends(_context)]
SettingsDep = Annotated[Settings, Depends(_settings)]
