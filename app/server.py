"""The running server as one object: what ``create_app`` builds and every route reaches through ``app.api.deps``.

A ``Server`` holds the settings, the store, the fixtures and fault files it started with, its own
fake cloud (``instance``: context, clock, fault engine, journal), the job runner, and under
``--sandbox`` the visitors' tenants. Building one opens the database and loads the fixtures;
``start`` and ``stop`` (the app's lifespan) run and stop the background work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

from .asgi import TENANT_SCOPE_KEY, Scope
from .background.job_runner import JobRunner
from .clock import ServerClock, claim_uuid_stream
from .domain import jobs
from .domain.bounds import counted_by_type
from .domain.context import Context
from .faults.engine import FaultEngine
from .faults.files import load_rules, load_scenarios
from .faults.spec import RuleSpec
from .instance import Instance, new_instance
from .journal.recorder import Journal
from .observe.metrics import ServerMetrics
from .outbound.targets import AllowList
from .sandbox.tenants import Sandbox
from .seeding.fixtures import FixtureCache
from .seeding.startup import ensure_fixtures, open_store
from .settings import Settings

NO_TENANT_WEBHOOKS = "webhook not sent: in the sandbox only a call with a session sends webhooks"


class Server:
    def __init__(self, settings: Settings, *, install_rules: bool = True) -> None:
        """``install_rules``: put the ``--faults`` rules in the store (False in the workers of ``--workers N``:
        their parent did, once, and a worker started later must not reset the rules' counters)."""
        self.settings = settings
        self.store = open_store(settings.database_url, reset=settings.reset)
        #: The fixtures a reset puts back; parsed once.
        self.fixtures = FixtureCache(settings.fixtures)
        try:
            loaded = ensure_fixtures(self.store, self.fixtures, reset=settings.reset)
            stream = 0 if settings.seed is None else claim_uuid_stream(self.store)
            self.scenarios = load_scenarios(settings.scenarios)
            #: The rules of ``--faults FILE``: installed at start and again by every reset.
            self.startup_rules: Sequence[RuleSpec] = () if settings.faults is None else load_rules(settings.faults)
        except BaseException:
            self.store.close()
            raise
        self.fixtures_status = f"fixtures loaded from {settings.fixtures}" if loaded else "existing inventory kept"
        self.sandbox: Sandbox | None = None
        if settings.sandbox:
            self.sandbox = Sandbox(
                settings,
                fixtures=self.fixtures.records(),
                fixtures_source=str(settings.fixtures),
                scenarios=self.scenarios,
                startup_rules=self.startup_rules,
                server_store=self.store,
                runner=lambda: self.runner,
                reset=settings.reset,
            )
        limits = settings.limits
        #: Where webhooks may go: None (anywhere) but in the public profile.
        self.webhook_allow = AllowList.parse(settings.webhook_allow_list) if limits.public else None
        self.runner = JobRunner(
            self._job_contexts,
            webhook_attempts=settings.webhook_attempts,
            webhook_interval=timedelta(seconds=settings.webhook_interval),
            webhook_concurrency=limits.webhook_concurrency,
            webhook_timeout=limits.webhook_timeout,
            webhook_allow=self.webhook_allow,
        )
        clock = ServerClock(self.store, seed=settings.seed, stream=stream)
        #: The server's own fake cloud: every request that no sandbox tenant takes.
        self.instance: Instance = new_instance(settings, self.store, clock, scenarios=self.scenarios, jobs=self.runner,
                                               fixture_counts=counted_by_type(self.fixtures.records))
        if self.sandbox is not None and limits.public:
            # A call no tenant takes (no session, or an unknown one) belongs to no visitor: anyone could
            # make it, so its job's webhook would be anyone's request from this server.
            self.instance.context = replace(self.instance.context, webhooks_refused=NO_TENANT_WEBHOOKS)
        if settings.faults is not None and install_rules:
            self.instance.faults.replace_rules(self.startup_rules)
        #: This server's Prometheus metrics (``/metrics``); None with ``--no-metrics``.
        self.metrics = ServerMetrics(self._job_counts) if settings.metrics else None

    def instance_for(self, scope: Scope) -> Instance:
        """The fake cloud a request belongs to: its sandbox tenant's, or the server's own."""
        instance: Instance | None = scope.get(TENANT_SCOPE_KEY)
        return instance or self.instance

    def journal_for(self, scope: Scope) -> Journal:
        """The journal layer's question, asked on every request: ``instance_for(scope).journal``."""
        instance: Instance | None = scope.get(TENANT_SCOPE_KEY)
        return (instance or self.instance).journal

    def faults_for(self, scope: Scope) -> FaultEngine:
        """The fault layer's question, asked on every request: ``instance_for(scope).faults``."""
        instance: Instance | None = scope.get(TENANT_SCOPE_KEY)
        return (instance or self.instance).faults

    def _job_contexts(self) -> Sequence[Context]:
        """The contexts whose jobs the runner finishes: the server's own first, then busy tenants'."""
        if self.sandbox is None:
            return (self.instance.context,)
        return (self.instance.context, *self.sandbox.job_contexts())

    def _job_counts(self) -> dict[str, int]:
        """The jobs by state of the server's own cloud and of the tenants open in this process, together."""
        contexts = [self.instance.context, *(() if self.sandbox is None else self.sandbox.open_contexts())]
        totals: dict[str, int] = {}
        for ctx in contexts:
            try:
                counts = jobs.count_by_status(ctx)
            except Exception:  # a tenant evicted meanwhile: its store is closed
                continue
            for state, count in counts.items():
                totals[state] = totals.get(state, 0) + count
        return totals

    def start(self) -> None:
        """Start the background work, on the running event loop."""
        self.runner.start()

    async def stop(self) -> None:
        """Stop the background work, write what the journal holds, and close the databases."""
        try:
            await self.runner.stop()
            self.instance.journal.stop()
        finally:
            self.close()

    def close(self) -> None:
        if self.sandbox is not None:
            self.sandbox.close()
        self.store.close()
