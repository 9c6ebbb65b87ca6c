"""GET /zstack/v1/api-jobs/{uuid}: the result of an asynchronous call. No Authorization needed."""

from __future__ import annotations

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from app.api.deps import context_of
from app.api.docs import text_error
from app.api.routing import ZStackRoute
from app.domain.jobs import UnknownJobError, get_job, job_outcome
from app.zstack.async_jobs import JSON_SCHEMA_HEADER, result_body, running_response
from app.zstack.schemas import ApiJobResult, ErrorReply
from app.zstack.wire import json_response, text_response

router = APIRouter(prefix="/zstack/v1", tags=["Async jobs"], route_class=ZStackRoute)

JOB_PATH = "/api-jobs/{uuid}"
JOB_UUID = Path(description="The job UUID from the 202's location (the X-Job-UUID the client sent, if any).")


@router.get(
    JOB_PATH,
    operation_id="QueryApiJob",
    summary="Poll an async job",
    description="202 `{}` while the job runs; 200 and the API's reply (e.g. `{\"inventory\": ...}`) when it "
    "succeeded; 503 `{\"error\": ErrorCode}` when it failed; 404 once it has expired (finished jobs are kept "
    "3 hours by default). With `X-JSON-Schema`, a result carries the `schema` map.",
    response_model=ApiJobResult,
    responses={
        202: {"description": "The job is still running.", "content": {"application/json": {"example": {}}}},
        404: text_error("Unknown or expired job (plain text).", "the job has been expired"),
        405: text_error("Any method but GET (plain text).", "only GET method is allowed for querying job status"),
        503: {"model": ErrorReply, "description": "The job failed."},
    },
)
async def poll_job(request: Request, uuid: str = JOB_UUID) -> Response:
    ctx = context_of(request)
    job = get_job(ctx, uuid)
    try:
        outcome = None if job is None else job_outcome(ctx, job)
    except UnknownJobError:
        job = None
    if job is None:
        return text_response(404, "the job has been expired")
    if outcome is None:
        return running_response()
    status, body = result_body(
        outcome.success, outcome.payload, with_schema=JSON_SCHEMA_HEADER in request.headers
    )
    return json_response(body, status_code=status)


@router.api_route(JOB_PATH, methods=["POST", "PUT", "DELETE", "PATCH"], include_in_schema=False)
async def job_wrong_method(request: Request, uuid: str) -> Response:
    return text_response(405, "only GET method is allowed for querying job status")
