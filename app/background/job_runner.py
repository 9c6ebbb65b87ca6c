"""The background task that finishes due jobs, delivers webhooks and forgets expired jobs.

One runs in every server process, on the event loop. It sleeps until the earliest due job it knows
of (a job accepted by this process wakes it early), and looks at the store at least every
``max_sleep`` seconds, so jobs accepted by another process, deadlines of held jobs and deliveries
whose lease ran out are picked up too. All its state is in the store: a process may stop at any
moment and another, or the same one restarted, carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
import orjson

from app.domain import jobs
from app.domain.context import Context
from app.store.records import ApiJob, WebhookDelivery
from app.zstack.async_jobs import result_body, webhook_headers

logger = logging.getLogger("zstack_mock.jobs")

#: How long a delivery is reserved for the process sending it (longer than one attempt can take).
_WEBHOOK_LEASE = timedelta(seconds=60)
_WEBHOOK_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
_SWEEP_INTERVAL = timedelta(minutes=1)


class JobRunner:
    def __init__(
        self,
        context: Callable[[], Context],
        *,
        webhook_attempts: int,
        webhook_interval: timedelta,
        max_sleep: float = 0.25,
    ) -> None:
        #: Asked on every pass, so that a context replaced while the server runs (a test's clock) is used.
        self._context = context
        self._webhook_attempts = webhook_attempts
        self._webhook_interval = webhook_interval
        self._max_sleep = max_sleep
        self._wake = asyncio.Event()
        self._wake_at: datetime | None = None
        self._next_sweep: datetime | None = None
        self._task: asyncio.Task[None] | None = None
        self._deliveries: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None

    def start(self) -> None:
        self._client = httpx.AsyncClient(timeout=_WEBHOOK_TIMEOUT, follow_redirects=False)
        self._task = asyncio.create_task(self._run(), name="zstack-mock job runner")

    async def stop(self) -> None:
        tasks = [t for t in (self._task, *self._deliveries) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._client is not None:
            await self._client.aclose()

    def job_accepted(self, job: ApiJob) -> None:
        """Wake the runner if ``job`` is due before the time it planned to look next."""
        if job.due_date is not None and (self._wake_at is None or job.due_date < self._wake_at):
            self._wake.set()

    async def _run(self) -> None:
        while True:
            try:
                self._pass()
                delay = self._delay()
            except Exception:
                logger.exception("the job runner's pass failed; retrying")
                delay = self._max_sleep
            self._wake_at = self._context().clock.now() + timedelta(seconds=delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
            self._wake.clear()

    def _pass(self) -> None:
        ctx = self._context()
        while len(jobs.finish_due_jobs(ctx)) >= 256:
            pass
        if self._client is not None:
            for delivery, job in jobs.claim_due_webhooks(ctx, lease=_WEBHOOK_LEASE):
                task = asyncio.create_task(self._deliver(delivery, job))
                self._deliveries.add(task)
                task.add_done_callback(self._deliveries.discard)
        now = ctx.clock.now()
        if self._next_sweep is None or now >= self._next_sweep:
            self._next_sweep = now + _SWEEP_INTERVAL
            jobs.delete_expired_jobs(ctx)

    def _delay(self) -> float:
        ctx = self._context()
        candidates = [d for d in (jobs.next_due_date(ctx), jobs.next_webhook_date(ctx)) if d is not None]
        if not candidates:
            return self._max_sleep
        seconds = (min(candidates) - ctx.clock.now()).total_seconds()
        return min(max(seconds, 0.0), self._max_sleep)

    async def _deliver(self, delivery: WebhookDelivery, job: ApiJob) -> None:
        """One attempt to POST the result; the store decides whether and when to try again."""
        assert self._client is not None
        outcome = jobs.job_outcome(job)
        if outcome is None:
            return
        _, body = result_body(outcome.success, outcome.payload, with_schema=job.json_schema)
        error: str | None = None
        try:
            response = await self._client.post(
                delivery.url, content=orjson.dumps(body), headers=webhook_headers(job.uuid, outcome.success)
            )
            if not 200 <= response.status_code < 300:
                error = f"the webhook answered HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        recorded = jobs.record_webhook_attempt(
            self._context(),
            job.uuid,
            error=error,
            max_attempts=self._webhook_attempts,
            retry_interval=self._webhook_interval,
        )
        if error is not None and recorded is not None:
            logger.warning("webhook %s for job %s, attempt %d: %s", delivery.url, job.uuid, recorded.attempts, error)
            self._wake.set()
