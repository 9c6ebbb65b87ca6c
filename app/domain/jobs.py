"""Asynchronous API jobs: accepted now, finished later, kept in the store.

The real management node answers an async API at once (REST 202, RPC ``Processing``) and runs it
on its message bus; the client polls the job or waits for a webhook. Here a job is a row in the
store: accepting runs the API's ``start`` step (every check; a create's image is stored as
``Downloading``); when the job is due (its duration, drawn from the configured range, has passed)
it finishes: its ``finish`` step completes the resource, or the job fails and ``abandon`` removes
it. The steps of each asynchronous API come from the API catalogue, through ``ctx.job_kinds``
(``app.domain.job_kinds``).

Every state change happens in a store transaction that first re-reads the job's status, so any
number of processes over one database finish each job exactly once, and a job accepted before a
restart finishes after it. Who finishes a due job does not matter: the background runner of any
process, or a poll that finds it due.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import orjson

from ..store.records import ApiJob, WebhookDelivery
from ..zstack.errors import (
    GENERIC_EVENT_CLASS,
    OPERATION_TIMEOUT,
    ErrorCode,
    TransportError,
    ZStackError,
    failure_class,
    not_found,
)
from .context import Context
from .job_kinds import JobKind, JobStart
from .job_settings import holding_new_jobs, job_duration_range
from .quotas import added as quota_added
from .quotas import make_room_for_job
from .webhooks import queue_webhook, queue_webhooks

RUNNING, SUCCEEDED, FAILED = "Running", "Succeeded", "Failed"

#: ``@DefaultTimeout`` of an API message: 72 hours (ApiTimeoutManagerImpl).
DEFAULT_API_TIMEOUT_MS = 259_200_000

#: RPC results are kept 10 days on a real management node.
RPC_RESULT_RETENTION = timedelta(days=10)

#: The most due jobs one pass of ``finish_due_jobs`` takes.
BATCH_LIMIT = 512

Protocol = Literal["rest", "rpc"]


@dataclass(frozen=True, slots=True)
class JobOptions:
    protocol: Protocol = "rest"
    #: The client's ``X-Job-UUID``; a fresh UUID when None.
    job_uuid: str | None = None
    webhook_url: str | None = None
    #: ``X-JSON-Schema`` on the request: the webhook body carries the ``schema`` map.
    json_schema: bool = False
    api_timeout_ms: int = DEFAULT_API_TIMEOUT_MS


@dataclass(frozen=True, slots=True)
class JobFault:
    """An injected fault for the job a call is about to start (set by the fault layer, which
    routes and domain functions do not know about, through ``injected_job_fault``)."""

    #: The job fails with this error (its resource, if any, is removed)...
    error: ErrorCode | None = None
    #: ...this many seconds after it is accepted; None: at its normal due time.
    after_seconds: float | None = None
    #: The job stays Running (its image Downloading) until released or timed out.
    hold: bool = False


#: The fault for jobs started in the current request's context; None: no fault.
injected_job_fault: ContextVar[JobFault | None] = ContextVar("injected_job_fault", default=None)


@dataclass(frozen=True, slots=True)
class JobOutcome:
    success: bool
    #: The reply's fields on success (``{"inventory": ...}``), the ErrorCode's JSON on failure.
    payload: dict[str, Any]
    #: The Java class of the reply or event (the RPC envelope names it).
    result_class: str


@dataclass(frozen=True, slots=True)
class PolledJob:
    job: ApiJob
    #: None while the job runs.
    outcome: JobOutcome | None


def submit_job(*, ctx: Context, api: str, options: JobOptions, start: Callable[[], JobStart]) -> ApiJob:
    """Accept a call of the asynchronous API ``api`` as a job; ``start`` runs its first step.

    Whatever ``start`` raises as a ``ZStackError`` does not reject the call but becomes the job's
    result, revealed when the job is due, as on the real server, where validation errors arrive
    through the job. Only a reused ``X-Job-UUID`` rejects it (400), or, when every job kept (``--max-records``)
    is still running, the quota (ID.1003; finished jobs are forgotten, oldest first, to make room).
    """
    store = ctx.store
    with store.transaction():
        job = _new_job(ctx, api, options)
        make_room_for_job(ctx)
        try:
            started = start()
        except ZStackError as exc:
            _plan_failure(ctx, job, exc)
        else:
            job.resource_uuid = started.resource_uuid
            job.account_uuid = started.account_uuid
            _apply_fault(ctx, job, injected_job_fault.get())
        store.insert(job)
    quota_added(ctx, ApiJob)
    return job


def _apply_fault(ctx: Context, job: ApiJob, fault: JobFault | None) -> None:
    if fault is None:
        return
    if fault.hold:
        job.held, job.due_date = True, job.deadline_date
    if fault.error is not None:
        _plan_failure(ctx, job, ZStackError(fault.error, in_service=True))
        if fault.after_seconds is not None:
            job.due_date = min(job.deadline_date, job.create_date + timedelta(seconds=fault.after_seconds))


def get_job(ctx: Context, job_uuid: str) -> ApiJob | None:
    """The job as a poll sees it, finished first if it is due; None if unknown or expired."""
    job = ctx.store.get(ApiJob, uuid=job_uuid)
    if job is None:
        return None
    now = ctx.clock.now()
    if job.status != RUNNING:
        expired = job.finish_date is not None and job.finish_date + _retention(ctx, job.protocol) <= now
        return None if expired else job
    if job.due_date <= now:
        return _finish_by_uuid(ctx, job_uuid, now) or ctx.store.get(ApiJob, uuid=job_uuid)
    return job


def poll_job(ctx: Context, job_uuid: str) -> PolledJob | None:
    """The job as a poll sees it, finished first if it is due, with its outcome once it has one.

    None when there is nothing to show: an unknown or expired job, or one whose result is gone.
    """
    job = get_job(ctx, job_uuid)
    if job is None:
        return None
    if job.status == RUNNING:
        return PolledJob(job, None)
    outcome = job_outcome(ctx, job)
    return None if outcome is None else PolledJob(job, outcome)


def job_outcome(ctx: Context, job: ApiJob) -> JobOutcome | None:
    """What a finished job answers; None while it runs, or if its result is gone.

    A successful job's reply is rendered from its resource when asked for (the API's ``reply``
    step), not stored when the job ends: finishing then writes a status, not a kilobyte of JSON,
    per job. Nothing but a reset or a snapshot restore (which replace the jobs too) removes the
    resource of a successful job, so it is the one the job made.
    """
    if job.status == RUNNING:
        return None
    result_class = job.result_class or GENERIC_EVENT_CLASS
    if job.result_json is not None:
        return JobOutcome(success=job.status == SUCCEEDED, payload=orjson.loads(job.result_json),
                          result_class=result_class)
    kind = ctx.job_kinds.get(job.api)
    reply = None if kind is None or job.resource_uuid is None else kind.steps.reply(
        ctx=ctx, resource_uuid=job.resource_uuid
    )
    return None if reply is None else JobOutcome(success=True, payload=reply, result_class=result_class)


def count_by_status(ctx: Context) -> dict[str, int]:
    """How many jobs the store keeps in each state (Running, Succeeded, Failed)."""
    return {status: ctx.store.count(ApiJob, {"status": status}) for status in (RUNNING, SUCCEEDED, FAILED)}


def finish_due_jobs(ctx: Context, *, limit: int = BATCH_LIMIT) -> list[ApiJob]:
    """Finish (or time out) the running jobs that are due, in one transaction; returns them.

    The jobs of one API that are due to succeed are finished together (its ``finish`` step takes
    them all): a few statements for the whole batch, so finishing keeps up with accepting.
    """
    now = ctx.clock.now()
    store = ctx.store
    # A look without the write lock first: the runner asks a hundred times a second, mostly for nothing,
    # and the write lock it would take stalls the requests of every worker.
    if not store.find(ApiJob, {"status": RUNNING, "due_date__le": now}, limit=1):
        return []
    with store.transaction():
        due = store.find(ApiJob, {"status": RUNNING, "due_date__le": now}, order_by=["due_date"], limit=limit)
        by_kind: dict[str, list[ApiJob]] = {}
        for job in due:
            if _ready_to_finish(ctx, job, now):
                by_kind.setdefault(job.api, []).append(job)
        batched = {job.uuid for batch in by_kind.values() for job in batch}
        for job in due:
            if job.uuid not in batched:
                _finish(ctx, job, now)
        for api, batch in by_kind.items():
            _finish_batch(ctx, ctx.job_kinds[api], batch, now)
    return due


def _ready_to_finish(ctx: Context, job: ApiJob, now: datetime) -> bool:
    """Whether the job is due to run its API's ``finish`` step (not to fail, time out or wait)."""
    return (
        job.api in ctx.job_kinds and job.resource_uuid is not None and job.planned_error_json is None
        and not job.held and job.deadline_date > now
    )


def _finish_batch(ctx: Context, kind: JobKind, batch: Sequence[ApiJob], now: datetime) -> None:
    errors = kind.steps.finish(ctx=ctx, resource_uuids=[job.resource_uuid for job in batch])
    succeeded: list[ApiJob] = []
    for job in batch:
        error = errors[job.resource_uuid or ""]
        if error is None:
            succeeded.append(job)
        else:
            _record(ctx, job, now, FAILED, _failure_class(ctx, job.api, error), error.error.to_json())
    if succeeded:
        ctx.store.update(
            ApiJob,
            {"uuid__in": [job.uuid for job in succeeded]},
            {"status": SUCCEEDED, "result_class": kind.event_class, "finish_date": now},
        )
        for job in succeeded:
            job.status, job.result_class, job.finish_date = SUCCEEDED, kind.event_class, now
        queue_webhooks(ctx, succeeded, now)


def next_due_date(ctx: Context) -> datetime | None:
    """When the runner must next act on a running job (finish it, or time it out)."""
    first = ctx.store.find(ApiJob, {"status": RUNNING}, order_by=["due_date"], limit=1)
    return first[0].due_date if first else None


def complete_job_now(ctx: Context, job_uuid: str) -> ApiJob:
    """Finish a running job at once, as if its time were up.

    It can still fail (a validation error decided at accept, a storage that is not Connected).
    A finished job is returned as it is.
    """
    job = _require(ctx, job_uuid)
    if job.status != RUNNING:
        return job
    return _finish_by_uuid(ctx, job_uuid, ctx.clock.now()) or _require(ctx, job_uuid)


def fail_job_now(ctx: Context, job_uuid: str, error: ErrorCode) -> ApiJob:
    """Fail a running job at once with ``error`` (its resource is removed)."""
    job = _require(ctx, job_uuid)
    if job.status != RUNNING:
        return job
    forced = ZStackError(error, in_service=True)
    return _finish_by_uuid(ctx, job_uuid, ctx.clock.now(), forced_error=forced) or _require(ctx, job_uuid)


def release_jobs(ctx: Context, job_uuid: str | None = None) -> list[ApiJob]:
    """Let held jobs (one, or all when ``job_uuid`` is None) finish now."""
    now = ctx.clock.now()
    store = ctx.store
    with store.transaction():
        where: dict[str, Any] = {"status": RUNNING, "held": True}
        if job_uuid is not None:
            _require(ctx, job_uuid)
            where["uuid"] = job_uuid
        held = store.find(ApiJob, where)
        store.update(ApiJob, where, {"held": False, "due_date": now})
    for job in held:
        job.held, job.due_date = False, now
    return held


def delete_expired_jobs(ctx: Context) -> int:
    """Forget finished jobs older than their protocol's retention (polls already answer 404)."""
    now = ctx.clock.now()
    store = ctx.store
    removed = 0
    with store.transaction():
        for protocol in ("rest", "rpc"):
            expired = [
                ("protocol", protocol), ("status__ne", RUNNING), ("finish_date__le", now - _retention(ctx, protocol))
            ]
            uuids = [job.uuid for job in store.find(ApiJob, expired)]
            if uuids:
                store.delete(WebhookDelivery, {"job_uuid__in": uuids})
                removed += store.delete(ApiJob, {"uuid__in": uuids})
    return removed


def job_uuid_taken(ctx: Context, job_uuid: str) -> bool:
    return ctx.store.get(ApiJob, uuid=job_uuid) is not None


def ensure_job_uuid_free(ctx: Context, job_uuid: str) -> None:
    """A client's ``X-Job-UUID`` must name no job yet: RestServer answers any POST, PUT or DELETE
    naming an existing one 400, even a synchronous API's, whose own job UUID is never stored."""
    if job_uuid_taken(ctx, job_uuid):
        raise TransportError(400, f"Duplicate job uuid[{job_uuid}]")


def _retention(ctx: Context, protocol: str) -> timedelta:
    return RPC_RESULT_RETENTION if protocol == "rpc" else ctx.job_retention


def _new_job(ctx: Context, api: str, options: JobOptions) -> ApiJob:
    """A running job (not yet stored); the caller's transaction makes the duplicate check hold."""
    if options.job_uuid is not None:
        ensure_job_uuid_free(ctx, options.job_uuid)
    now = ctx.clock.now()
    deadline = now + timedelta(milliseconds=options.api_timeout_ms)
    held = holding_new_jobs(ctx)
    due = deadline
    if not held:
        low, high = job_duration_range(ctx)
        due = min(deadline, now + timedelta(seconds=ctx.random.uniform(low, high)))
    return ApiJob(
        uuid=options.job_uuid or ctx.clock.new_uuid(),
        api=api,
        protocol=options.protocol,
        status=RUNNING,
        account_uuid=None,
        resource_uuid=None,
        planned_error_json=None,
        planned_error_class=None,
        result_class=None,
        result_json=None,
        json_schema=options.json_schema,
        webhook_url=options.webhook_url,
        api_timeout_ms=options.api_timeout_ms,
        held=held,
        create_date=now,
        due_date=due,
        deadline_date=deadline,
        finish_date=None,
    )


def _plan_failure(ctx: Context, job: ApiJob, error: ZStackError) -> None:
    job.planned_error_json = orjson.dumps(error.error.to_json()).decode()
    job.planned_error_class = _failure_class(ctx, job.api, error)


def _failure_class(ctx: Context, api: str, error: ZStackError) -> str:
    kind = ctx.job_kinds.get(api)
    return failure_class(error, reply_class=GENERIC_EVENT_CLASS if kind is None else kind.event_class,
                         asynchronous=True)


def _require(ctx: Context, job_uuid: str) -> ApiJob:
    """The job, for the control API: 404 if there is none."""
    job = ctx.store.get(ApiJob, uuid=job_uuid)
    if job is None:
        raise not_found(f"no job[uuid:{job_uuid}]")
    return job


def _finish_by_uuid(
    ctx: Context, job_uuid: str, now: datetime, *, forced_error: ZStackError | None = None
) -> ApiJob | None:
    """Finish one job if it is still running (re-read inside the transaction); None if another
    process got there first."""
    with ctx.store.transaction():
        job = ctx.store.get(ApiJob, uuid=job_uuid)
        if job is None or job.status != RUNNING:
            return None
        return _finish(ctx, job, now, forced_error=forced_error)


def _finish(ctx: Context, job: ApiJob, now: datetime, *, forced_error: ZStackError | None = None) -> ApiJob:
    """Run one job's second half and record its result. Call inside a transaction."""
    if forced_error is None and job.deadline_date <= now:
        forced_error = ZStackError(
            ErrorCode(
                code=OPERATION_TIMEOUT,
                details=f"the API[{job.api}] job[uuid:{job.uuid}] did not finish within its timeout of "
                f"{job.api_timeout_ms} ms",
            )
        )
    if forced_error is not None:
        _abandon(ctx, job)
        return _record(ctx, job, now, FAILED, _failure_class(ctx, job.api, forced_error),
                       forced_error.error.to_json())
    if job.planned_error_json is not None:
        _abandon(ctx, job)
        job.result_json = job.planned_error_json
        return _record(ctx, job, now, FAILED, job.planned_error_class or GENERIC_EVENT_CLASS, None)
    kind = _kind(ctx, job)
    error = kind.steps.finish(ctx=ctx, resource_uuids=[job.resource_uuid])[job.resource_uuid or ""]
    if error is not None:
        return _record(ctx, job, now, FAILED, _failure_class(ctx, job.api, error), error.error.to_json())
    return _record(ctx, job, now, SUCCEEDED, kind.event_class, None)


def _record(
    ctx: Context, job: ApiJob, now: datetime, status: str, result_class: str, payload: dict[str, Any] | None
) -> ApiJob:
    """Store a finished job's result and queue its webhook. ``payload`` None keeps ``job.result_json``
    (a planned error), or for a success leaves it empty: the reply is rendered when asked for."""
    if payload is not None:
        job.result_json = orjson.dumps(payload).decode()
    job.status, job.result_class, job.finish_date, job.held = status, result_class, now, False
    ctx.store.update(
        ApiJob,
        {"uuid": job.uuid},
        {"status": status, "result_class": result_class, "result_json": job.result_json, "finish_date": now,
         "held": False},
    )
    queue_webhook(ctx, job, now)
    return job


def _kind(ctx: Context, job: ApiJob) -> JobKind:
    kind = ctx.job_kinds.get(job.api)
    if kind is None or job.resource_uuid is None:
        raise AssertionError(f"job {job.uuid} of API {job.api} has nothing to complete")
    return kind


def _abandon(ctx: Context, job: ApiJob) -> None:
    kind = ctx.job_kinds.get(job.api)
    if kind is not None and job.resource_uuid is not None:
        kind.steps.abandon(ctx=ctx, resource_uuid=job.resource_uuid)
