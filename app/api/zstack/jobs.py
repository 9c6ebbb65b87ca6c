"""GET /zstack/v1/api-jobs/{uuid}: the result of an asynchronous call (QueryApiJob). No Authorization needed.

202 ``{}`` while the job runs; 200 and the API's reply when it succeeded; 503 ``{"error": ...}`` when
it failed; a plain-text 404 once it has expired; any other method a plain-text 405.
"""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from ...catalogue import BY_NAME
from ...domain.jobs import poll_job as find_polled_job
from ...zstack.async_jobs import JSON_SCHEMA_HEADER, result_body, running_response
from ...zstack.errors import TransportError
from ...zstack.responses import api_response, text_response
from ..deps import instance_of


async def poll_job(request: Request, uuid: str) -> Response:
    polled = find_polled_job(instance_of(request).context, uuid)
    if polled is None:
        raise TransportError(404, "the job has been expired")
    if polled.outcome is None:
        return running_response()
    api = BY_NAME.get(polled.job.api)
    status, body = result_body(
        polled.outcome.success, polled.outcome.payload,
        schema=api.reply_inventories if api is not None and JSON_SCHEMA_HEADER in request.headers else None,
    )
    return api_response(body, status_code=status)


async def poll_job_wrong_method(request: Request, uuid: str) -> Response:
    return text_response(405, "only GET method is allowed for querying job status")
