"""What every domain operation works with: the store, the clock, and the server's policies."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..clock import Clock
from ..store.base import Store
from .bounds import Bounds
from .job_kinds import JobKinds


@dataclass(slots=True)
class Housekeeping:
    """When this process next runs clean-ups that need not run on every request.

    Only a schedule: skipping or repeating a clean-up changes no answer, so it may live in memory.
    """

    session_sweep_interval: timedelta = timedelta(minutes=1)
    next_session_sweep: datetime | None = None

    def session_sweep_due(self, now: datetime) -> bool:
        if self.next_session_sweep is not None and now < self.next_session_sweep:
            return False
        self.next_session_sweep = now + self.session_sweep_interval
        return True


@dataclass(frozen=True, slots=True)
class Context:
    store: Store
    clock: Clock
    session_timeout: timedelta = timedelta(seconds=7200)
    #: Live sessions one account may hold before ID.1006 (session.maxConcurrent); 0 = no limit.
    max_sessions_per_account: int = 500
    housekeeping: Housekeeping = field(default_factory=Housekeeping)
    #: Seconds an async job runs, drawn uniformly from this range (the control API can override it).
    job_duration: tuple[float, float] = (0.2, 1.0)
    random: random.Random = field(default_factory=random.Random)
    #: How long a finished REST job stays pollable (rest.completedApi.expiredPeriod); RPC results 10 days.
    job_retention: timedelta = timedelta(hours=3)
    #: ``--seed``: None when the server draws from the OS. Anything random that shows in an answer
    #: derives its draws from it (UUIDs and ``random`` through the clock; fault draws from
    #: (seed, rule, match count)), so the same seed and requests give the same answers.
    seed: int | None = None
    #: The asynchronous APIs and how their jobs run, by API name (from the API catalogue).
    job_kinds: JobKinds = field(default_factory=dict)
    #: What it may hold: records of each kind, snapshots, a backup's metadata (``app.limits``).
    bounds: Bounds = field(default_factory=Bounds)
    #: Webhooks waiting for delivery at most; beyond it a finished job's webhook is dropped (Failed).
    webhook_queue: int = 100_000
    #: Why this instance sends no webhooks (the server's own under the public sandbox); None: it sends them.
    webhooks_refused: str | None = None
