"""Asynchronous API jobs: accepted now, finished later, kept in the store.

The real management node answers an async API at once (REST 202, RPC ``Processing``) and runs it
on its message bus; the client polls the job or waits for a webhook. Here a job is a row in the
store: accepting runs every check and creates the image as ``Downloading``; when the job is due
(its duration, drawn from the configured range, has passed) it finishes: the image becomes
``Ready``, or the job fails and the image is removed.

Every state change happens in a store transaction that first re-reads the job's status, so any
number of processes over one database finish each job exactly once, and a job accepted before a
restart finishes after it. Who finishes a due job does not matter: the background runner of any
process, or a poll that finds it due.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import orjson

from app.domain.context import Context
from app.domain.templates import (
    API_NAME as CREATE_TEMPLATE,
)
from app.domain.templates import (
    EVENT_CLASS as CREATE_TEMPLATE_EVENT,
)
from app.domain.templates import (
    abandon_root_volume_template,
    finish_root_volume_template,
    start_root_volume_template,
)
from app.store.records import ApiJob, WebhookDelivery
from app.zstack.errors import OPERATION_TIMEOUT, ErrorCode, ZStackError
from app.zstack.inventories import image_inventory

RUNNING, SUCCEEDED, FAILED = "Running", "Succeeded", "Failed"
PENDING, DELIVERED = "Pending", "Delivered"

#: ``@DefaultTimeout`` of an API message: 72 hours (ApiTimeoutManagerImpl).
DEFAULT_API_TIMEOUT_MS = 259_200_000

#: The class a failure raised while the message was intercepted comes back as (RPC envelopes).
INTERCEPTED_EVENT_CLASS = "org.zstack.header.message.APIEvent"

#: Store meta keys of the job settings that every process must agree on.
HOLD_META_KEY = "jobs.hold_new"
DURATION_META_KEY = "jobs.duration"

#: RPC results are kept 10 days on a real management node.
RPC_RESULT_RETENTION = timedelta(days=10)

_EVENT_CLASSES = {CREATE_TEMPLATE: CREATE_TEMPLATE_EVENT}

Protocol = Literal["rest", "rpc"]


class DuplicateJobError(Exception):
    """A client-chosen job UUID that an existing job already has."""

    def __init__(self, job_uuid: str) -> None:
        super().__init__(f"Duplicate job uuid[{job_uuid}]")
        self.job_uuid = job_uuid


class UnknownJobError(Exception):
    def __init__(self, job_uuid: str) -> None:
        super().__init__(f"no job[uuid:{job_uuid}]")
        self.job_uuid = job_uuid


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
class JobOutcome:
    success: bool
    #: The reply's fields on success (``{"inventory": ...}``), the ErrorCode's JSON on failure.
    payload: dict[str, Any]
    #: The Java class of the reply or event (the RPC envelope names it).
    result_class: str


def submit_create_template_job(
    *, ctx: Context, session_uuid: str | None, message: Mapping[str, Any], options: JobOptions
) -> ApiJob:
    """Accept CreateRootVolumeTemplateFromVolumeBackup as a job.

    Every check runs now; a failure does not reject the call but becomes the job's result, as on
    the real server, where validation errors arrive through the job.
    """
    store = ctx.store
    with store.transaction():
        job = _new_job(ctx, CREATE_TEMPLATE, options)
        try:
            created = start_root_volume_template(ctx=ctx, session_uuid=session_uuid, message=message)
        except ZStackError as exc:
            _plan_failure(job, exc)
        else:
            job.resource_uuid = created.image.uuid
            job.account_uuid = created.image.account_uuid
        store.insert(job)
    return job


def submit_failed_job(*, ctx: Context, api: str, error: ZStackError, options: JobOptions) -> ApiJob:
    """Accept a job whose result is already known to be ``error`` (revealed when it is due)."""
    store = ctx.store
    with store.transaction():
        job = _new_job(ctx, api, options)
        _plan_failure(job, error)
        store.insert(job)
    return job


def get_job(ctx: Context, job_uuid: str) -> ApiJob | None:
    """The job as a poll sees it, finished first if it is due; None if unknown or expired."""
    job = ctx.store.get(ApiJob, uuid=job_uuid)
    if job is None:
        return None
    now = ctx.clock.now()
    if job.status != RUNNING:
        expired = job.finish_date is not None and job.finish_date + _retention(ctx, job.protocol) <= now
        return None if expired else job
    if (job.due_date is not None and job.due_date <= now) or job.deadline_date <= now:
        return _finish_by_uuid(ctx, job_uuid, now) or ctx.store.get(ApiJob, uuid=job_uuid)
    return job


def job_outcome(job: ApiJob) -> JobOutcome | None:
    """What a finished job answers; None while it runs."""
    if job.status == RUNNING or job.result_json is None:
        return None
    return JobOutcome(
        success=job.status == SUCCEEDED,
        payload=orjson.loads(job.result_json),
        result_class=job.result_class or INTERCEPTED_EVENT_CLASS,
    )


def finish_due_jobs(ctx: Context, *, limit: int = 256) -> list[ApiJob]:
    """Finish the running jobs that are due or past their deadline; returns those finished."""
    now = ctx.clock.now()
    store = ctx.store
    finished: list[ApiJob] = []
    with store.transaction():
        due = store.find(ApiJob, {"status": RUNNING, "due_date__le": now}, order_by=["due_date"], limit=limit)
        overdue = store.find(ApiJob, {"status": RUNNING, "deadline_date__le": now}, limit=limit)
        for job in {j.uuid: j for j in (*due, *overdue)}.values():
            finished.append(_finish(ctx, job, now))
    return finished


def next_due_date(ctx: Context) -> datetime | None:
    """When the earliest running, unheld job is due (deadlines of held jobs are checked on each pass)."""
    first = ctx.store.find(
        ApiJob, {"status": RUNNING, "due_date__isnull": False}, order_by=["due_date"], limit=1
    )
    return first[0].due_date if first else None


def complete_job_now(ctx: Context, job_uuid: str) -> ApiJob:
    """Finish a running job at once, as if its time were up.

    It can still fail (a validation error decided at accept, a storage that is not Connected).
    A finished job is returned as it is.
    """
    job = ctx.store.get(ApiJob, uuid=job_uuid)
    if job is None:
        raise UnknownJobError(job_uuid)
    if job.status != RUNNING:
        return job
    return _finish_by_uuid(ctx, job_uuid, ctx.clock.now()) or _require(ctx, job_uuid)


def fail_job_now(ctx: Context, job_uuid: str, error: ErrorCode) -> ApiJob:
    """Fail a running job at once with ``error`` (its image is removed)."""
    job = ctx.store.get(ApiJob, uuid=job_uuid)
    if job is None:
        raise UnknownJobError(job_uuid)
    if job.status != RUNNING:
        return job
    forced = ZStackError(error, in_service=True)
    return _finish_by_uuid(ctx, job_uuid, ctx.clock.now(), forced_error=forced) or _require(ctx, job_uuid)


def release_jobs(ctx: Context, job_uuid: str | None = None) -> list[ApiJob]:
    """Let held jobs (one, or all when ``job_uuid`` is None) finish now."""
    now = ctx.clock.now()
    store = ctx.store
    with store.transaction():
        where: dict[str, Any] = {"status": RUNNING, "due_date__isnull": True}
        if job_uuid is not None:
            if store.get(ApiJob, uuid=job_uuid) is None:
                raise UnknownJobError(job_uuid)
            where["uuid"] = job_uuid
        held = store.find(ApiJob, where)
        store.update(ApiJob, where, {"due_date": now})
    for job in held:
        job.due_date = now
    return held


def holding_new_jobs(ctx: Context) -> bool:
    return ctx.store.get_meta(HOLD_META_KEY) == "1"


def set_holding_new_jobs(ctx: Context, hold: bool) -> None:
    ctx.store.set_meta(HOLD_META_KEY, "1" if hold else "0")


def job_duration_range(ctx: Context) -> tuple[float, float]:
    """The range job durations are drawn from: the control API's setting, else the server's."""
    stored = ctx.store.get_meta(DURATION_META_KEY)
    if stored:
        low, _, high = stored.partition("-")
        return float(low), float(high or low)
    return ctx.job_duration


def set_job_duration_range(ctx: Context, low: float, high: float) -> None:
    ctx.store.set_meta(DURATION_META_KEY, f"{low!r}-{high!r}")


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


def _retention(ctx: Context, protocol: str) -> timedelta:
    return RPC_RESULT_RETENTION if protocol == "rpc" else ctx.job_retention


def _new_job(ctx: Context, api: str, options: JobOptions) -> ApiJob:
    """A running job (not yet stored); the caller's transaction makes the duplicate check hold."""
    if options.job_uuid is not None and ctx.store.get(ApiJob, uuid=options.job_uuid) is not None:
        raise DuplicateJobError(options.job_uuid)
    now = ctx.clock.now()
    due: datetime | None = None
    if not holding_new_jobs(ctx):
        low, high = job_duration_range(ctx)
        due = now + timedelta(seconds=ctx.random.uniform(low, high))
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
        create_date=now,
        due_date=due,
        deadline_date=now + timedelta(milliseconds=options.api_timeout_ms),
        finish_date=None,
    )


def _plan_failure(job: ApiJob, error: ZStackError) -> None:
    job.planned_error_json = orjson.dumps(error.error.to_json()).decode()
    job.planned_error_class = _failure_class(job.api, error)


def _failure_class(api: str, error: ZStackError) -> str:
    return _EVENT_CLASSES.get(api, INTERCEPTED_EVENT_CLASS) if error.in_service else INTERCEPTED_EVENT_CLASS


def _require(ctx: Context, job_uuid: str) -> ApiJob:
    job = ctx.store.get(ApiJob, uuid=job_uuid)
    if job is None:
        raise UnknownJobError(job_uuid)
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
    """Run the job's second half and record its result. Call inside a transaction."""
    store = ctx.store
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
        job.status, job.result_class = FAILED, _failure_class(job.api, forced_error)
        job.result_json = orjson.dumps(forced_error.error.to_json()).decode()
    elif job.planned_error_json is not None:
        job.status, job.result_class, job.result_json = FAILED, job.planned_error_class, job.planned_error_json
    else:
        try:
            payload = _complete(ctx, job)
        except ZStackError as exc:
            job.status, job.result_class = FAILED, _failure_class(job.api, exc)
            job.result_json = orjson.dumps(exc.error.to_json()).decode()
        else:
            job.status, job.result_class = SUCCEEDED, _EVENT_CLASSES.get(job.api, INTERCEPTED_EVENT_CLASS)
            job.result_json = orjson.dumps(payload).decode()
    job.finish_date = now
    store.update(
        ApiJob,
        {"uuid": job.uuid},
        {"status": job.status, "result_class": job.result_class, "result_json": job.result_json, "finish_date": now},
    )
    if job.webhook_url is not None:
        store.insert(
            WebhookDelivery(job_uuid=job.uuid, url=job.webhook_url, status=PENDING, attempts=0, next_date=now,
                            last_error=None)
        )
    return job


def _complete(ctx: Context, job: ApiJob) -> dict[str, Any]:
    if job.api == CREATE_TEMPLATE and job.resource_uuid is not None:
        created = finish_root_volume_template(ctx=ctx, image_uuid=job.resource_uuid)
        return {"inventory": image_inventory(created.image, created.refs)}
    raise AssertionError(f"job {job.uuid} of API {job.api} has nothing to complete")


def _abandon(ctx: Context, job: ApiJob) -> None:
    if job.api == CREATE_TEMPLATE and job.resource_uuid is not None and job.planned_error_json is None:
        abandon_root_volume_template(ctx=ctx, image_uuid=job.resource_uuid)


def claim_due_webhooks(ctx: Context, *, lease: timedelta, limit: int = 64) -> list[tuple[WebhookDelivery, ApiJob]]:
    """Pending deliveries that are due, each leased to this caller for ``lease`` so that no other
    process sends it meanwhile; a caller that dies lets the lease run out and another retries."""
    now = ctx.clock.now()
    store = ctx.store
    claimed: list[tuple[WebhookDelivery, ApiJob]] = []
    with store.transaction():
        for delivery in store.find(WebhookDelivery, {"status": PENDING, "next_date__le": now}, limit=limit):
            job = store.get(ApiJob, uuid=delivery.job_uuid)
            if job is None:
                store.delete(WebhookDelivery, {"job_uuid": delivery.job_uuid})
                continue
            store.update(WebhookDelivery, {"job_uuid": delivery.job_uuid}, {"next_date": now + lease})
            claimed.append((delivery, job))
    return claimed


def record_webhook_attempt(
    ctx: Context, job_uuid: str, *, error: str | None, max_attempts: int, retry_interval: timedelta
) -> WebhookDelivery | None:
    """After a POST: Delivered; or Pending again after ``retry_interval``; or Failed for good."""
    store = ctx.store
    with store.transaction():
        delivery = store.get(WebhookDelivery, job_uuid=job_uuid)
        if delivery is None:
            return None
        delivery.attempts += 1
        delivery.last_error = error
        if error is None:
            delivery.status, delivery.next_date = DELIVERED, None
        elif delivery.attempts >= max_attempts:
            delivery.status, delivery.next_date = FAILED, None
        else:
            delivery.next_date = ctx.clock.now() + retry_interval
        store.update(
            WebhookDelivery,
            {"job_uuid": job_uuid},
            {"status": delivery.status, "attempts": delivery.attempts, "next_date": delivery.next_date,
             "last_error": delivery.last_error},
        )
    return delivery


def next_webhook_date(ctx: Context) -> datetime | None:
    pending = ctx.store.find(WebhookDelivery, {"status": PENDING}, order_by=["next_date"], limit=1)
    return pending[0].next_date if pending else None
