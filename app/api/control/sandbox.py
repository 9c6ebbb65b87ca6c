"""GET /_mock/sandbox: whether sandbox mode is on, its limits, and how many tenants there are."""

from __future__ import annotations

import statistics

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from ...zstack.errors import not_found
from ...zstack.responses import json_response
from ..deps import server_of
from ..routing import ZStackRoute
from .common import errors

router = APIRouter(prefix="/_mock", tags=["Control"], route_class=ZStackRoute)


class SandboxView(BaseModel):
    enabled: bool
    tenants: int | None = Field(None, description="Tenants in the registry (all processes).")
    maxTenants: int | None = None
    idleSeconds: int | None = None
    rateLimit: float | None = Field(None, description="Requests per second per tenant; 0: no limit.")
    evictAfterSeconds: float | None = Field(
        None, description="When full, a login evicts the least recently used tenant only if it has had no request "
        "for this long (else 503); 0: at once."
    )
    anonymousRateLimit: float | None = Field(
        None, description="Requests per second per client address that reach no tenant; 0: no limit."
    )
    loginRateLimit: float | None = Field(None, description="Logins per second per client address; 0: no limit.")
    openInThisProcess: int | None = Field(None, description="Tenant databases this worker process has open.")
    createdByThisProcess: int | None = None
    evictedByThisProcess: int | None = None
    rateLimitedByThisProcess: int | None = Field(None, description="Requests answered 429.")
    refusedFullByThisProcess: int | None = Field(None, description="Logins answered 503: the sandbox was full.")
    creationMs: dict[str, float] | None = Field(
        None, description="How long this process took to make a tenant (p50, p99, max over the last 1,000)."
    )


@router.get("/sandbox", operation_id="SandboxStatus", summary="Sandbox status", response_model=SandboxView)
async def sandbox_status(request: Request) -> Response:
    """Sandbox mode (`--sandbox`): every session its own tenant. `enabled` is false without it."""
    sandbox = server_of(request).sandbox
    if sandbox is None:
        return json_response({"enabled": False})
    status = sandbox.status()
    timings = sorted(status.timings_ms)
    creation = None
    if timings:
        creation = {
            "p50": round(statistics.median(timings), 3),
            "p99": round(timings[min(len(timings) - 1, int(len(timings) * 0.99))], 3),
            "max": round(timings[-1], 3),
        }
    return json_response({
        "enabled": True,
        "tenants": status.tenants,
        "maxTenants": sandbox.max_tenants,
        "idleSeconds": int(sandbox.idle),
        "rateLimit": sandbox.rate_limit,
        "evictAfterSeconds": sandbox.evict_after,
        "anonymousRateLimit": sandbox.addresses.anonymous.rate,
        "loginRateLimit": sandbox.addresses.logins.rate,
        "openInThisProcess": status.open_here,
        "createdByThisProcess": status.created_here,
        "evictedByThisProcess": status.evicted_here,
        "rateLimitedByThisProcess": status.rejected_here,
        "refusedFullByThisProcess": status.full_here,
        "creationMs": creation,
    })


@router.delete("/sandbox", operation_id="EvictSandboxTenants", responses=errors(404), summary="Evict every sandbox tenant")
async def evict_all(request: Request) -> Response:
    """Drop every visitor's tenant, in every worker process: their sessions, images, jobs, rules and
    journals. A visitor's session is then unknown (ID.1001: log in again); in the local profile its next
    request starts on a fresh copy of the fixtures instead. 404 without `--sandbox`."""
    sandbox = server_of(request).sandbox
    if sandbox is None:
        raise not_found("sandbox mode is off (start the server with --sandbox)")
    return json_response({"evicted": sandbox.evict_all()})
