"""One fake cloud at run time: its context (store, clock, policies), fault engine, journal and job waker.

The server has one of its own (``app.server.Server.instance``). Under ``--sandbox`` every visitor's
session has another (``app.sandbox``): the sandbox layer puts it in the request's scope, and
everything that would use the server's own (routes through ``app.api.deps``, the fault layer, the
journal) uses the one in the scope instead. Nothing below the layers knows there is more than one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from .catalogue import JOB_KINDS
from .clock import ServerClock
from .domain import state
from .domain.bounds import Bounds, counted_by_type
from .domain.context import Context
from .faults.engine import FaultEngine
from .faults.policy import FaultPolicy
from .faults.spec import RuleSpec, ScenarioSpec
from .journal.exchange import ENTRY_BYTES
from .journal.recorder import Journal
from .settings import Settings
from .store.base import Store
from .store.records import ApiJob, Record


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
    fault_policy: FaultPolicy
    #: Bytes of headers and body a journal entry keeps (``--max-journal-entry-bytes``).
    journal_entry_bytes: int = ENTRY_BYTES
    faults: FaultEngine = field(init=False)
    journal: Journal = field(init=False)

    def __post_init__(self) -> None:
        self.faults = FaultEngine(lambda: self.context, self.scenarios, seed=self.seed, policy=self.fault_policy)
        self.journal = Journal(lambda: self.context, size=self.journal_size, entry_bytes=self.journal_entry_bytes)

    def reset(
        self, fixtures: Sequence[Record], rules: Sequence[RuleSpec], *, keep_sessions: Collection[str] = ()
    ) -> tuple[state.ResetSummary, int]:
        """Back to how a fresh server starts on ``fixtures``, with ``rules`` installed, in one transaction
        (snapshots kept, and the sessions of ``keep_sessions`` that the fixtures' accounts own); returns
        what the reset did and how many journal entries it forgot."""
        ctx = self.context
        with ctx.store.transaction():
            forgotten = self.journal.clear()
            summary = state.reset(ctx, fixtures, keep_sessions=keep_sessions)
            self.faults.replace_rules(rules)
        self.jobs.wake()
        return summary, forgotten


def new_instance(
    settings: Settings,
    store: Store,
    clock: ServerClock,
    *,
    scenarios: Mapping[str, ScenarioSpec],
    jobs: JobWaker,
    fixture_counts: Callable[[], Mapping[type[Any], int]] | None = None,
) -> Instance:
    """``fixture_counts``: the fixtures' records by type (``counted_by_type``), which quotas count above.

    Its journal keeps ``--journal-size`` entries, and no more than ``--max-records`` (entries are records
    clients add too), so that a tenant's journal is bounded by its quota as well."""
    return Instance(
        context=instance_context(settings, store, clock, fixture_counts=fixture_counts),
        jobs=jobs,
        scenarios=scenarios,
        seed=settings.seed,
        journal_size=min(settings.journal_size, settings.limits.max_records),
        fault_policy=FaultPolicy.of(settings.limits),
        journal_entry_bytes=settings.limits.max_journal_entry_bytes,
    )


def instance_context(
    settings: Settings,
    store: Store,
    clock: ServerClock,
    *,
    fixture_counts: Callable[[], Mapping[type[Any], int]] | None = None,
) -> Context:
    """The context an instance runs with: its store and clock, and the server's policies."""
    limits = settings.limits
    bounds = Bounds(
        max_records=limits.max_records,
        max_snapshots=limits.max_snapshots,
        image_metadata_only=limits.public,
        fixture_counts=fixture_counts or counted_by_type(lambda: ()),
    )
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
        bounds=bounds,
        webhook_queue=settings.limits.webhook_queue,
    )
