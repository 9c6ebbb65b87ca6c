"""GET /metrics: the server's Prometheus metrics (``app.observe.metrics``), outside the OpenAPI document."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from ..observe.metrics import METRICS_PATH
from .deps import server_of

router = APIRouter()


@router.get(METRICS_PATH, include_in_schema=False)
async def metrics(request: Request) -> Response:
    server_metrics = server_of(request).metrics
    assert server_metrics is not None  # the router is only included with metrics on
    body, content_type = server_metrics.exposition(request.headers.get("accept"))
    return Response(body, headers={"Content-Type": content_type})
