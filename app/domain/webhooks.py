"""Webhook deliveries: the POST of a finished job's result to its ``X-Web-Hook`` URL, retried until it
succeeds or its attempts run out. Only jobs with a webhook have a delivery row; the job runner sends
them (``app.background.job_runner``), leasing each so that one process sends it at a time.

An instance keeps at most ``ctx.webhook_queue`` deliveries waiting: the webhook of a job that
finishes beyond that is dropped, recorded as Failed with the reason (so a visitor sees it in the
job, and the count is in the store). An instance with ``ctx.webhooks_refused`` records every
webhook that way."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from ..store.records import ApiJob, WebhookDelivery
from .context import Context

PENDING, DELIVERED, FAILED = "Pending", "Delivered", "Failed"


def queue_webhook(ctx: Context, job: ApiJob, now: datetime) -> None:
    queue_webhooks(ctx, [job], now)


def queue_webhooks(ctx: Context, finished: Sequence[ApiJob], now: datetime) -> None:
    """The deliveries of finished jobs that have a webhook: Pending, or Failed at once if dropped."""
    wanted = [job for job in finished if job.webhook_url is not None]
    if not wanted:
        return
    room = 0 if ctx.webhooks_refused else ctx.webhook_queue - ctx.store.count(WebhookDelivery, {"status": PENDING})
    for job in wanted:
        assert job.webhook_url is not None
        delivery = WebhookDelivery(job_uuid=job.uuid, url=job.webhook_url, status=PENDING, attempts=0, next_date=now,
                                   last_error=None)
        if room <= 0:
            delivery.status, delivery.next_date = FAILED, None
            delivery.last_error = ctx.webhooks_refused or (
                f"webhook dropped: {ctx.webhook_queue} webhooks already wait for delivery"
            )
        room -= 1
        ctx.store.insert(delivery)


def claim_due_webhooks(ctx: Context, *, lease: timedelta, limit: int = 64) -> list[tuple[WebhookDelivery, ApiJob]]:
    """Pending deliveries that are due, each leased to this caller for ``lease`` so that no other
    process sends it meanwhile; a caller that dies lets the lease run out and another retries."""
    now = ctx.clock.now()
    store = ctx.store
    claimed: list[tuple[WebhookDelivery, ApiJob]] = []
    due = {"status": PENDING, "next_date__le": now}
    if not store.find(WebhookDelivery, due, limit=1):  # without the write lock, as finish_due_jobs looks
        return claimed
    with store.transaction():
        for delivery in store.find(WebhookDelivery, due, limit=limit):
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
