"""One fake cloud at run time: its context (store, clock, policies), fault engine, journal and job waker.

The server has one of its own (``app.server.Server.instance``). Under ``--sandbox`` every visitor's
session has another (``app.sandbox``): the sandbox layer puts it in the request's scope, and
everything that would use the server's own (routes through ``app.api.deps``, the fault layer, the
journal) uses the one in the scope instead. Nothing below the layers knows there is more than one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from app.catalogue import JOB_KINDS
from app.clock import ServerClock
from app.domain import state
from app.domain.context import Context
from app.faults.engine import FaultEngine
from app.faults.spec import RuleSpec, ScenarioSpec
from app.journal.recorder import Journal
from app.settings import Settings
from app.store.base import Store
from app.store.records import ApiJob, Record


class JobWaker(Protocol):
    """What a route tells the job runner (``app.background.job_runner.JobRunner`` has both)."""

    def job_accepted(self, job: ApiJob) -> None: ...

    def wake(self) -> None: ...


@dataclass(eq=False)
class Instance:
    #: Read anew on every use by the fault engine and the journal, so a test may swap in another clock.
    context: Context
    jobs: JobWaker
    scenarios: Mapping[str, ScenarioSpec]
    seed: int | None
    journal_size: int
    faults: FaultEngine = field(init=False)
    journal: Journal = field(init=False)

    def __post_init__(self) -> None:
        self.faults = FaultEngine(lambda: self.context, self.scenarios, seed=self.seed)
        self.journal = Journal(lambda: self.context, size=self.journal_size)

    def reset(self, fixtures: Sequence[Record], rules: Sequence[RuleSpec]) -> tuple[state.ResetSummary, int]:
        """Back to how a fresh server starts on ``fixtures``, with ``rules`` installed, in one transaction
        (snapshots kept); returns what the reset did and how many journal entries it forgot."""
        ctx = self.context
        with ctx.store.transaction():
            forgotten = self.journal.clear()
            summary = state.reset(ctx, fixtures)
            self.faults.replace_rules(rules)
        self.jobs.wake()
        return summary, forgotten


def new_instance(
    settings: Settings, store: Store, clock: ServerClock, *, scenarios: Mapping[str, ScenarioSpec], jobs: JobWaker
) -> Instance:
    return Instance(
        context=instance_context(settings, store, clock),
        jobs=jobs,
        scenarios=scenarios,
        seed=settings.seed,
        journal_size=settings.journal_size,
    )


def instance_context(settings: Settings, store: Store, clock: ServerClock) -> Context:
    """The context an instance runs with: its store and clock, and the server's policies."""
    return Context(
        store=store,
        clock=clock,
        random=clock.random,
        seed=settings.seed,
        session_timeout=timedelta(seconds=settings.session_timeout),
        max_sessions_per_account=settings.max_sessions_per_account,
        job_duration=settings.job_duration_range,
        job_retention=timedelta(seconds=settings.job_retention),
        job_kinds=JOB_KINDS,
        webhook_queue=settings.limits.webhook_queue,
    )
