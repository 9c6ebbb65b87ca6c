"""The background work of async jobs: finishing due jobs, delivering webhooks, forgetting old jobs; and the
node's own expunging of images deleted long enough ago.

Jobs are finished on a thread of their own, not on the event loop: under load the loop is busy
serving requests, and a timer on it fires tens of milliseconds late, while a thread waiting on
an event wakes within a GIL switch interval (5 ms). The thread sleeps until the earliest due job
(a job accepted by this process wakes it early) and looks at the store at least every
``max_sleep`` seconds, so jobs accepted by other processes and deliveries whose lease ran out are
picked up too. Webhooks are POSTed from the event loop (``app.outbound.sender``); each instance
has at most ``webhook_concurrency`` of them in flight, each attempt at most ``webhook_timeout``
seconds, so a target that never answers holds only its own tenant's deliveries back. The count in
flight is per process (a bound on this process's connections, like a rate limit); what waits is
in each instance's store.

All state is in the store: a process may stop at any moment and another, or the same one
restarted, carries on.

One runner serves every instance of the process: the server's own, and under ``--sandbox`` the
tenants that have jobs or webhooks in flight (the sandbox names them on each pass).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from ..catalogue import BY_NAME
from ..domain import images, jobs, webhooks
from ..domain.context import Context
from ..outbound.sender import WebhookSender
from ..outbound.targets import AllowList
from ..store.base import Store
from ..store.records import ApiJob, WebhookDelivery
from ..store.sql import StoreError, StoreGone
from ..zstack.async_jobs import result_body, webhook_headers
from ..zstack.responses import api_json

logger = logging.getLogger("zstack_mock.jobs")

#: How long a delivery is reserved for the process sending it, at least (longer than one attempt can take).
_WEBHOOK_LEASE = timedelta(seconds=60)
#: The most deliveries one pass claims from one instance.
_CLAIM_LIMIT = 64
_SWEEP_INTERVAL = timedelta(minutes=1)


class JobRunner:
    def __init__(
        self,
        contexts: Callable[[], Sequence[Context]],
        *,
        webhook_attempts: int,
        webhook_interval: timedelta,
        webhook_concurrency: int = 100,
        webhook_timeout: float = 10.0,
        webhook_allow: AllowList | None = None,
        max_sleep: float = 0.25,
        batch_interval: float = 0.01,
    ) -> None:
        #: Asked on every pass, so that a context replaced while the server runs (a test's clock) is used.
        #: The first is the server's own; its clock times the runner's sleeps.
        self._contexts = contexts
        self._webhook_attempts = webhook_attempts
        self._webhook_interval = webhook_interval
        self._webhook_concurrency = webhook_concurrency
        self._webhook_timeout = webhook_timeout
        self._webhook_allow = webhook_allow
        self._webhook_lease = max(_WEBHOOK_LEASE, timedelta(seconds=2 * webhook_timeout))
        #: Deliveries in flight, by the store of the instance they belong to.
        self._in_flight: dict[Store, int] = {}
        self._max_sleep = max_sleep
        self._batch_interval = batch_interval
        self._wake_jobs = threading.Event()
        self._wake_at: datetime | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_sweep: datetime | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake_webhooks: asyncio.Event | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._deliveries: set[asyncio.Task[None]] = set()
        self._sender: WebhookSender | None = None

    def start(self) -> None:
        """Start on the running event loop (the app's lifespan)."""
        self._loop = asyncio.get_running_loop()
        self._wake_webhooks = asyncio.Event()
        self._sender = WebhookSender(allow=self._webhook_allow, timeout=self._webhook_timeout)
        self._webhook_task = asyncio.create_task(self._run_webhooks(), name="zstack-mock webhooks")
        self._thread = threading.Thread(target=self._run_jobs, name="zstack-mock jobs", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        self._stopping.set()
        self._wake_jobs.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 10)
        tasks = [t for t in (self._webhook_task, *self._deliveries) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._sender is not None:
            await self._sender.aclose()

    def wake(self) -> None:
        """Look at the jobs now: the clock moved, or the jobs were replaced (reset, restore)."""
        self._wake_jobs.set()

    def job_accepted(self, job: ApiJob) -> None:
        """Wake the job thread if ``job`` is due before the time it planned to look next."""
        wake_at = self._wake_at
        if wake_at is None or job.due_date < wake_at:
            self._wake_jobs.set()

    # -- the job thread ---------------------------------------------------------------------------

    def _run_jobs(self) -> None:
        while not self._stopping.is_set():
            try:
                contexts = self._contexts()
                finished = self._finish_due_jobs(contexts)
                delay = self._delay(contexts)
                wake_clock = contexts[0].clock
            except StoreError as exc:  # the database cannot be reached (a restart): one line, no traceback
                logger.warning("finishing jobs failed; retrying: %s", exc)
                finished, delay, wake_clock = False, self._max_sleep, None
            except Exception:
                logger.exception("finishing jobs failed; retrying")
                finished, delay, wake_clock = False, self._max_sleep, None
            if finished:
                self._signal_webhooks()
            # Jobs falling due within one batch interval are finished together: under load that
            # turns a transaction per job into one per interval, at a few milliseconds of lateness.
            delay = max(delay, self._batch_interval)
            self._wake_at = None if wake_clock is None else wake_clock.now() + timedelta(seconds=delay)
            self._wake_jobs.wait(delay)
            self._wake_jobs.clear()

    def _finish_due_jobs(self, contexts: Sequence[Context]) -> bool:
        now = contexts[0].clock.now()
        sweep = self._next_sweep is None or now >= self._next_sweep
        if sweep:
            self._next_sweep = now + _SWEEP_INTERVAL
        webhooks = False
        for ctx in contexts:
            try:
                while batch := jobs.finish_due_jobs(ctx):
                    webhooks = webhooks or any(job.webhook_url is not None for job in batch)
                    if len(batch) < jobs.BATCH_LIMIT:
                        break
                if sweep:
                    jobs.delete_expired_jobs(ctx)
                    images.expunge_expired_images(ctx)
            except StoreGone:
                continue  # a sandbox tenant another process evicted: its jobs went with it
            except StoreError as exc:
                logger.warning("finishing jobs failed; retrying: %s", exc)
            except Exception:  # one instance's trouble (a tenant evicted meanwhile) must not stop the others
                logger.exception("finishing jobs failed; retrying")
        return webhooks

    def _delay(self, contexts: Sequence[Context]) -> float:
        delay = self._max_sleep
        for ctx in contexts:
            due = jobs.next_due_date(ctx)
            if due is not None:
                delay = min(max((due - ctx.clock.now()).total_seconds(), 0.0), delay)
        return delay

    def _signal_webhooks(self) -> None:
        loop, event = self._loop, self._wake_webhooks
        if loop is not None and event is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed while this thread finished
                loop.call_soon_threadsafe(event.set)

    # -- webhooks, on the event loop --------------------------------------------------------------

    async def _run_webhooks(self) -> None:
        assert self._wake_webhooks is not None
        while True:
            try:
                delay = self._max_sleep
                for ctx in self._contexts():
                    self._start_deliveries(ctx)
                    next_date = webhooks.next_webhook_date(ctx)
                    if next_date is not None:
                        delay = min(max((next_date - ctx.clock.now()).total_seconds(), 0.0), delay)
            except StoreError as exc:
                logger.warning("delivering webhooks failed; retrying: %s", exc)
                delay = self._max_sleep
            except Exception:
                logger.exception("delivering webhooks failed; retrying")
                delay = self._max_sleep
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake_webhooks.wait(), delay)
            self._wake_webhooks.clear()

    def _start_deliveries(self, ctx: Context) -> None:
        """Claim as many of the instance's due deliveries as it has room for in flight, and send them."""
        room = min(self._webhook_concurrency - self._in_flight.get(ctx.store, 0), _CLAIM_LIMIT)
        if room <= 0:
            return
        for delivery, job in webhooks.claim_due_webhooks(ctx, lease=self._webhook_lease, limit=room):
            self._in_flight[ctx.store] = self._in_flight.get(ctx.store, 0) + 1
            task = asyncio.create_task(self._deliver(ctx, delivery, job))
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)

    async def _deliver(self, ctx: Context, delivery: WebhookDelivery, job: ApiJob) -> None:
        try:
            await self._attempt(ctx, delivery, job)
        except Exception as exc:  # the instance went away meanwhile (an evicted tenant's store is closed)
            logger.warning("webhook for job %s not recorded: %s", job.uuid, exc)
        finally:
            left = self._in_flight.pop(ctx.store, 1) - 1
            if left > 0:
                self._in_flight[ctx.store] = left
            if self._wake_webhooks is not None:  # room for the next one
                self._wake_webhooks.set()

    async def _attempt(self, ctx: Context, delivery: WebhookDelivery, job: ApiJob) -> None:
        """One attempt to POST the result; the store decides whether and when to try again."""
        assert self._sender is not None
        outcome = jobs.job_outcome(ctx, job)
        if outcome is None:
            webhooks.record_webhook_attempt(ctx, job.uuid, error="the job's result is gone (state reset)",
                                            max_attempts=1, retry_interval=self._webhook_interval)
            return
        api = BY_NAME.get(job.api)
        schema = api.reply_inventories if api is not None and job.json_schema else None
        _, body = result_body(outcome.success, outcome.payload, schema=schema)
        failure = await self._sender.post(delivery.url, api_json(body), webhook_headers(job.uuid, outcome.success))
        recorded = webhooks.record_webhook_attempt(
            ctx,
            job.uuid,
            error=None if failure is None else failure.shown,
            max_attempts=self._webhook_attempts if failure is None or failure.retry else 1,
            retry_interval=self._webhook_interval,
        )
        if failure is not None and recorded is not None:
            logger.warning("webhook %s for job %s, attempt %d: %s", delivery.url, job.uuid, recorded.attempts,
                           failure.detail)
