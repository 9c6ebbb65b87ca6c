"""/_mock/jobs: see, finish, fail and hold asynchronous jobs, and set how long they take."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from ...domain import job_settings, jobs
from ...domain.context import Context
from ...store.records import ApiJob, WebhookDelivery
from ...zstack.errors import CATALOGUE, ErrorCode, bad_request, not_found
from ...zstack.responses import json_response
from ..deps import instance_of
from ..routing import ZStackRoute
from .common import errors, read_model

router = APIRouter(prefix="/_mock/jobs", tags=["Control"], route_class=ZStackRoute)

JOB_UUID = Path(description="The job UUID.")


class WebhookView(BaseModel):
    url: str
    status: Literal["Pending", "Delivered", "Failed"]
    attempts: int
    lastError: str | None = None


class JobView(BaseModel):
    uuid: str
    api: str
    protocol: Literal["rest", "rpc"]
    status: Literal["Running", "Succeeded", "Failed"]
    held: bool = Field(description="Waiting for a release (POST /_mock/jobs/{uuid}/release).")
    accountUuid: str | None = None
    resourceUuid: str | None = Field(None, description="The image the job creates.")
    createDate: datetime
    dueDate: datetime | None = Field(None, description="When it finishes by itself; null while held.")
    deadlineDate: datetime = Field(description="When it fails with SYS.1001 (its apiTimeout).")
    finishDate: datetime | None = None
    result: dict[str, Any] | None = Field(None, description="The reply's fields, or the ErrorCode when it failed.")
    webhook: WebhookView | None = None


class JobList(BaseModel):
    jobs: list[JobView]


class JobSettings(BaseModel):
    holdNewJobs: bool = Field(description="New jobs wait, Downloading, until released.")
    duration: str = Field(description="Seconds a job takes: a number or MIN-MAX.", examples=["0.2-1"])


class JobSettingsChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    holdNewJobs: bool | None = None
    duration: str | float | None = Field(None, examples=["0.5", "0.2-1", 0])


class Cause(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str
    details: str = ""


class JobFailure(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field("SYS.1002", description="A ZStack error code; the catalogue fills in its description.")
    details: str = Field("the job was failed by POST /_mock/jobs/{uuid}/fail", description="What went wrong.")
    cause: Cause | None = None


@router.get("", operation_id="ListJobs", responses=errors(400), summary="List jobs", response_model=JobList)
async def list_jobs(
    request: Request,
    status: Literal["Running", "Succeeded", "Failed"] | None = Query(None),
    limit: int = Query(100, ge=1, le=10000),
) -> Response:
    """Newest first. Finished REST jobs are kept 3 hours (``--job-retention``), RPC results 10 days."""
    ctx = instance_of(request).context
    raw_status = request.query_params.get("status")
    if raw_status is not None and raw_status not in (jobs.RUNNING, jobs.SUCCEEDED, jobs.FAILED):
        raise bad_request(f"status must be Running, Succeeded or Failed, got [{raw_status}]")
    raw_limit = request.query_params.get("limit", "100")
    if not (raw_limit.isascii() and raw_limit.isdigit()) or not 1 <= int(raw_limit) <= 10000:
        raise bad_request(f"limit must be an integer from 1 to 10000, got [{raw_limit}]")
    where = {"status": raw_status} if raw_status else {}
    found = ctx.store.find(ApiJob, where, order_by=["-create_date", "uuid"], limit=int(raw_limit))
    return json_response({"jobs": _views(ctx, found)})


@router.get("/settings", operation_id="GetJobSettings", summary="Job settings", response_model=JobSettings)
async def get_settings(request: Request) -> Response:
    return json_response(_settings_view(instance_of(request).context))


@router.put("/settings", operation_id="SetJobSettings", responses=errors(body=True), summary="Change job settings", response_model=JobSettings)
async def put_settings(request: Request) -> Response:
    """Hold new jobs, or change how long they take; shared by every server process on the database."""
    change = await read_model(request, JobSettingsChange)
    ctx = instance_of(request).context
    if change.duration is not None:
        job_settings.set_job_duration(ctx, str(change.duration))
    if change.holdNewJobs is not None:
        job_settings.set_holding_new_jobs(ctx, change.holdNewJobs)
    return json_response(_settings_view(ctx))


@router.post("/release", operation_id="ReleaseJobs", summary="Release every held job", response_model=JobList)
async def release_all(request: Request) -> Response:
    """Held jobs finish now. New jobs are still held while ``holdNewJobs`` is on."""
    instance = instance_of(request)
    released = jobs.release_jobs(instance.context)
    for job in released:
        instance.jobs.job_accepted(job)
    return json_response({"jobs": _views(instance.context, released)})


@router.get("/{uuid}", operation_id="GetJob", responses=errors(404), summary="One job", response_model=JobView)
async def get_job(request: Request, uuid: str = JOB_UUID) -> Response:
    ctx = instance_of(request).context
    job = ctx.store.get(ApiJob, uuid=uuid)
    if job is None:
        raise not_found(f"no job[uuid:{uuid}]; finished jobs are forgotten after their retention")
    return json_response(_views(ctx, [job])[0])


@router.post("/{uuid}/complete", operation_id="CompleteJob", responses=errors(404), summary="Finish a job now", response_model=JobView)
async def complete(request: Request, uuid: str = JOB_UUID) -> Response:
    """As if its time were up: it succeeds, or fails as it would have (a validation error, a storage that
    is not Connected). A finished job is returned unchanged."""
    ctx = instance_of(request).context
    job = jobs.complete_job_now(ctx, uuid)
    return json_response(_views(ctx, [job])[0])


@router.post("/{uuid}/fail", operation_id="FailJob", responses=errors(404, body=True), summary="Fail a job now", response_model=JobView)
async def fail(request: Request, uuid: str = JOB_UUID) -> Response:
    """The job fails with the given error (its image is removed). Body optional:
    ``{"code": "SYS.1002", "details": "...", "cause": {"code": "SYS.1006", "details": "..."}}``."""
    failure = await read_model(request, JobFailure)
    for code in (failure.code, *([failure.cause.code] if failure.cause else [])):
        if code not in CATALOGUE:
            raise bad_request(f"unknown error code [{code}]; known codes: {', '.join(sorted(CATALOGUE))}")
    cause = ErrorCode(code=failure.cause.code, details=failure.cause.details) if failure.cause else None
    instance = instance_of(request)
    job = jobs.fail_job_now(instance.context, uuid, ErrorCode(code=failure.code, details=failure.details, cause=cause))
    instance.jobs.job_accepted(job)
    return json_response(_views(instance.context, [job])[0])


@router.post("/{uuid}/release", operation_id="ReleaseJob", responses=errors(404), summary="Release a held job", response_model=JobView)
async def release(request: Request, uuid: str = JOB_UUID) -> Response:
    instance = instance_of(request)
    ctx = instance.context
    released = jobs.release_jobs(ctx, uuid)
    for job in released:
        instance.jobs.job_accepted(job)
    current = ctx.store.get(ApiJob, uuid=uuid)
    if current is None:
        raise not_found(f"no job[uuid:{uuid}]")
    return json_response(_views(ctx, [current])[0])


def _settings_view(ctx: Context) -> dict[str, Any]:
    low, high = job_settings.job_duration_range(ctx)
    return {"holdNewJobs": job_settings.holding_new_jobs(ctx), "duration": f"{low:g}" if low == high else f"{low:g}-{high:g}"}


def _views(ctx: Context, found: list[ApiJob]) -> list[dict[str, Any]]:
    deliveries = {
        d.job_uuid: d
        for d in ctx.store.find(WebhookDelivery, {"job_uuid__in": [j.uuid for j in found]})
    } if found else {}
    return [_view(job, deliveries.get(job.uuid), _result(ctx, job)) for job in found]


def _result(ctx: Context, job: ApiJob) -> dict[str, Any] | None:
    outcome = jobs.job_outcome(ctx, job)
    return None if outcome is None else outcome.payload


def _view(job: ApiJob, delivery: WebhookDelivery | None, result: dict[str, Any] | None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "uuid": job.uuid,
        "api": job.api,
        "protocol": job.protocol,
        "status": job.status,
        "held": job.held,
        "accountUuid": job.account_uuid,
        "resourceUuid": job.resource_uuid,
        "createDate": _iso(job.create_date),
        "dueDate": None if job.held else _iso(job.due_date),
        "deadlineDate": _iso(job.deadline_date),
        "finishDate": _iso(job.finish_date),
        "result": result,
        "webhook": None,
    }
    if job.webhook_url is not None:
        view["webhook"] = {
            "url": job.webhook_url,
            "status": delivery.status if delivery else "Pending",
            "attempts": delivery.attempts if delivery else 0,
            "lastError": delivery.last_error if delivery else None,
        }
    return view


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")
