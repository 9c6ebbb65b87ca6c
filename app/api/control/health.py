"""GET /_mock/health: liveness for container health checks and start-up probes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from ... import __version__
from ...store.records import Account
from ...zstack.responses import json_response
from ..deps import instance_of, server_of
from ..routing import ZStackRoute

router = APIRouter(prefix="/_mock", tags=["Control"], route_class=ZStackRoute)


class Health(BaseModel):
    status: str
    version: str
    accounts: int
    sandbox: bool = Field(description="Whether every session is its own tenant (--sandbox); see GET /_mock/sandbox.")


@router.get("/health", operation_id="Health", summary="Health", response_model=Health)
async def health(request: Request) -> Response:
    """Answers 200 when the server is up and its database readable."""
    accounts = instance_of(request).context.store.count(Account)
    sandbox = server_of(request).sandbox is not None
    return json_response({"status": "ok", "version": __version__, "accounts": accounts, "sandbox": sandbox})
