"""One fake cloud at run time: its context (store and clock), fault engine, journal and job waker.

The server itself is one, kept on ``app.state``. Under ``--sandbox`` every visitor's session has
another (``app.sandbox``): the sandbox layer puts it in the request's scope, and everything that
would use the server's own (routes through ``app.api.deps``, the fault layer, the journal) uses
the one in the scope instead. Nothing below the layers knows there is more than one.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from app.clock import ServerClock
    from app.domain.context import Context
    from app.faults.engine import FaultEngine
    from app.journal.recorder import Journal
    from app.settings import Settings
    from app.store.base import Store
    from app.store.records import ApiJob

#: Where the sandbox layer puts the request's ``Instance`` in the ASGI scope.
SCOPE_KEY = "zstack_mock.instance"


class JobWaker(Protocol):
    """What a route tells the job runner (``app.background.job_runner.JobRunner`` has both)."""

    def job_accepted(self, job: ApiJob) -> None: ...

    def wake(self) -> None: ...


@dataclass(eq=False, slots=True)
class Instance:
    context: Context
    faults: FaultEngine
    journal: Journal
    jobs: JobWaker


def scope_instance(scope: MutableMapping[str, Any]) -> Instance | None:
    """The sandbox tenant a request was routed to; None: the server's own instance."""
    instance: Instance | None = scope.get(SCOPE_KEY)
    return instance


def server_context(settings: Settings, store: Store, clock: ServerClock) -> Context:
    """The context an instance runs with: its store and clock, and the server's policies."""
    from app.domain.context import Context

    return Context(
        store=store,
        clock=clock,
        random=clock.random,
        seed=settings.seed,
        session_timeout=timedelta(seconds=settings.session_timeout),
        max_sessions_per_account=settings.max_sessions_per_account,
        job_duration=settings.job_duration_range,
        job_retention=timedelta(seconds=settings.job_retention),
    )
