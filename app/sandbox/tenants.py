"""Sandbox tenants: a private fake cloud per visitor's session, made on first use, gone when idle.

A tenant is a database of its own, a copy of a template built once per process from the fixtures
(and the ``--faults`` rules): SQLite's backup API writes it in a millisecond or two. Beside the
server's database file they live in ``<database>.sandbox/`` (one file per tenant, plus the
registry of sessions and jobs), so every worker process serves every tenant; with an in-memory
server database they live in this process's memory.

Each tenant is a full ``Instance``: its own store, clock, fault rules and counters, journal and
jobs, so one visitor never sees another's images, jobs, faults or requests. The job runner of the
process finishes the jobs of the tenants that have some in flight (``job_contexts``).

Limits: ``max_tenants`` (the least recently used goes first), ``idle`` seconds without a request,
and a per-tenant token bucket of ``rate_limit`` requests per second, kept in each process's memory
(with several workers a visitor may get up to that many times the rate; the limit protects the
server, it is not an answer any client relies on).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import threading
import time
import uuid as uuid_module
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from app.clock import ServerClock
from app.domain import jobs, webhooks
from app.domain.bounds import counted_by_type
from app.domain.context import Context
from app.domain.sessions import open_session
from app.faults.engine import FaultEngine
from app.faults.spec import RuleSpec, ScenarioSpec
from app.instance import Instance, JobWaker, instance_context, new_instance
from app.sandbox.registry import TenantRegistry, job_key, session_key
from app.seeding.fixtures import apply_fixtures
from app.settings import Settings
from app.store.base import R
from app.store.records import Account, ApiJob, Record, Session
from app.store.sqlite import SqliteStore

logger = logging.getLogger("zstack_mock.sandbox")

#: What a session UUID looks like on ZStack: 32 hex digits, no dashes.
SESSION_UUID = re.compile(r"^[0-9a-fA-F]{32}$")
#: Open tenant databases a process keeps at most when they are files (each holds three descriptors).
MAX_OPEN_FILES = 200


class TenantStore(SqliteStore):
    """A tenant's database. Every session or job stored in it is announced to the registry, so that
    later requests naming that session, and polls of that job, find this tenant."""

    def __init__(self, path: str, announce: Callable[[str], None]) -> None:
        super().__init__(path, lightweight=True)
        self._announce = announce

    def insert(self, record: R) -> R:
        stored = super().insert(record)
        self._route(record)
        return stored

    def insert_many(self, records: Sequence[Record]) -> None:
        super().insert_many(records)
        for record in records:
            self._route(record)

    def _route(self, record: Record) -> None:
        if isinstance(record, Session):
            self._announce(session_key(record.uuid))
        elif isinstance(record, ApiJob):
            self._announce(job_key(record.uuid))


@dataclass(eq=False)
class Tenant:
    uuid: str
    store: TenantStore
    instance: Instance
    #: Token bucket: tokens left, and when they were counted (monotonic seconds).
    tokens: float
    counted_at: float
    #: When this process last wrote ``last_used`` to the registry (wall-clock seconds).
    touched_at: float
    #: Bumped by every job accepted, so the runner never drops a tenant a job was just added to.
    jobs_accepted: int = 0


class TenantJobs:
    """A tenant's ``JobWaker``: keeps the tenant on the runner's list, then wakes the runner."""

    def __init__(self, sandbox: Sandbox, tenant_uuid: str) -> None:
        self._sandbox = sandbox
        self._tenant_uuid = tenant_uuid

    def job_accepted(self, job: ApiJob) -> None:
        self._sandbox.jobs_started(self._tenant_uuid)
        self._sandbox.runner().job_accepted(job)

    def wake(self) -> None:
        self._sandbox.jobs_started(self._tenant_uuid)
        self._sandbox.runner().wake()


@dataclass(frozen=True, slots=True)
class Admission:
    """A request over the tenant's rate: wait ``retry_after`` seconds."""

    retry_after: float
    rate: float


@dataclass
class SandboxStatus:
    tenants: int
    open_here: int
    busy_here: int
    created_here: int
    evicted_here: int
    rejected_here: int
    timings_ms: list[float] = field(default_factory=list)


class Sandbox:
    def __init__(
        self,
        settings: Settings,
        *,
        fixtures: Sequence[Record],
        fixtures_source: str,
        scenarios: Mapping[str, ScenarioSpec],
        startup_rules: Sequence[RuleSpec] | None,
        directory: Path | None,
        runner: Callable[[], JobWaker],
        reset: bool = False,
    ) -> None:
        self.settings = settings
        self.idle = float(settings.sandbox_idle)
        self.max_tenants = settings.sandbox_max_tenants
        self.rate_limit = settings.sandbox_rate_limit
        self.runner = runner
        self._scenarios = scenarios
        self._directory = directory
        if directory is not None:
            if reset:
                shutil.rmtree(directory, ignore_errors=True)
            directory.mkdir(parents=True, exist_ok=True)
        self.registry = TenantRegistry(":memory:" if directory is None else str(directory / "tenants.db"))
        self._template = _template(settings, fixtures, fixtures_source, scenarios, startup_rules)
        self._fixture_counts = counted_by_type(lambda: fixtures)
        self._open: OrderedDict[str, Tenant] = OrderedDict()
        self._max_open = self.max_tenants if directory is None else min(self.max_tenants, MAX_OPEN_FILES)
        self._busy: dict[str, Tenant] = {}
        self._lock = threading.RLock()
        self._touch_interval = min(30.0, self.idle / 10)
        self._sweep_interval = min(30.0, self.idle / 4)
        self._next_sweep = 0.0
        self.created = self.evicted = self.rejected = 0
        #: Milliseconds each of the last tenant creations in this process took.
        self.creation_ms: list[float] = []

    # -- finding the tenant of a request -----------------------------------------------------------

    def for_session(self, session_uuid: str) -> Tenant | None:
        """The tenant of a session; a well-formed session never seen gets a new tenant where it is
        an admin session (the docs portal's "current auth context"). None for a malformed UUID."""
        if not SESSION_UUID.match(session_uuid):
            return None
        self._maybe_sweep()
        key = session_key(session_uuid)
        found = self.registry.tenant_of(key)
        if found is not None:
            tenant = self._opened(found)
            if tenant is not None:
                return tenant
        return self._create(key=key, session_uuid=session_uuid)

    def existing_for_session(self, session_uuid: str) -> Tenant | None:
        found = self.registry.tenant_of(session_key(session_uuid))
        return None if found is None else self._opened(found)

    def for_job(self, job_uuid: str) -> Tenant | None:
        found = self.tenant_of_job(job_uuid)
        return None if found is None else self._opened(found)

    def tenant_of_job(self, job_uuid: str) -> str | None:
        """The UUID of the tenant whose job has ``job_uuid``, if any."""
        return self.registry.tenant_of(job_key(job_uuid))

    def for_login(self) -> Tenant:
        """A fresh tenant for a login; the session the login opens is announced by the tenant's store."""
        self._maybe_sweep()
        tenant = self._create(key=None, session_uuid=None)
        assert tenant is not None
        return tenant

    def login_answered(self, tenant: Tenant) -> None:
        """After a login's answer: a tenant no session leads to (the login failed) is dropped at once,
        so failed or malicious logins do not push real visitors out."""
        if not self.registry.is_reachable(tenant.uuid):
            with self._lock:
                self.registry.remove([tenant.uuid])
                self._forget(tenant.uuid, delete=True)

    def admit(self, tenant: Tenant) -> Admission | None:
        """Take one request from the tenant's bucket; an ``Admission`` when it is empty."""
        now = time.monotonic()
        wall = time.time()
        if wall - tenant.touched_at >= self._touch_interval:
            tenant.touched_at = wall
            self.registry.touch(tenant.uuid, wall)
        rate = self.rate_limit
        if rate <= 0:
            return None
        capacity = max(rate, 1.0)
        tenant.tokens = min(capacity, tenant.tokens + (now - tenant.counted_at) * rate)
        tenant.counted_at = now
        if tenant.tokens >= 1.0:
            tenant.tokens -= 1.0
            return None
        self.rejected += 1
        return Admission(retry_after=(1.0 - tenant.tokens) / rate, rate=rate)

    # -- jobs ----------------------------------------------------------------------------------------

    def jobs_started(self, tenant_uuid: str) -> None:
        with self._lock:
            tenant = self._open.get(tenant_uuid)
            if tenant is not None:
                tenant.jobs_accepted += 1
                self._busy[tenant_uuid] = tenant

    def job_contexts(self) -> list[Context]:
        """The contexts of the tenants with jobs or webhooks in flight; the others leave the list."""
        with self._lock:
            busy = list(self._busy.values())
        contexts = []
        for tenant in busy:
            seen = tenant.jobs_accepted
            ctx = tenant.instance.context
            try:
                idle = jobs.next_due_date(ctx) is None and webhooks.next_webhook_date(ctx) is None
            except Exception:  # evicted meanwhile: its store is closed
                idle = True
            with self._lock:
                if idle and tenant.jobs_accepted == seen:
                    self._busy.pop(tenant.uuid, None)
                    continue
            contexts.append(ctx)
        return contexts

    # -- housekeeping --------------------------------------------------------------------------------

    def status(self) -> SandboxStatus:
        with self._lock:
            return SandboxStatus(
                tenants=self.registry.count(),
                open_here=len(self._open),
                busy_here=len(self._busy),
                created_here=self.created,
                evicted_here=self.evicted,
                rejected_here=self.rejected,
                timings_ms=list(self.creation_ms),
            )

    def sweep(self) -> int:
        """Evict idle tenants and those beyond the cap; forget the ones other processes evicted."""
        with self._lock:
            gone = self.registry.to_evict(keep=self.max_tenants, idle_before=time.time() - self.idle)
            self.registry.remove(gone)
            for tenant_uuid in gone:
                self._forget(tenant_uuid, delete=True)
            for tenant_uuid in [u for u in self._open if not self.registry.exists(u)]:
                self._forget(tenant_uuid, delete=False)
            self.evicted += len(gone)
            return len(gone)

    def evict_all(self) -> int:
        """Drop every tenant (all processes'): the next request of any visitor starts afresh."""
        with self._lock:
            gone = [uuid for uuid, _, _ in self.registry.tenants()]
            self.registry.remove(gone)
            for tenant_uuid in {*gone, *self._open}:
                self._forget(tenant_uuid, delete=True)
            self.evicted += len(gone)
            return len(gone)

    def close(self) -> None:
        with self._lock:
            for tenant_uuid in list(self._open):
                self._forget(tenant_uuid, delete=False)
            self.registry.close()
            self._template.close()

    def _maybe_sweep(self) -> None:
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + self._sweep_interval
            self.sweep()

    # -- tenants -------------------------------------------------------------------------------------

    def _create(self, *, key: str | None, session_uuid: str | None) -> Tenant | None:
        started = time.perf_counter()
        tenant_uuid = uuid_module.uuid4().hex
        with self._lock:
            store = self._new_store(tenant_uuid)
            winner = self.registry.add_tenant(tenant_uuid, time.time(), key)
            if winner != tenant_uuid:  # another process made this session's tenant first
                store.close()
                self._delete_files(tenant_uuid)
                return self._opened(winner)
            tenant = self._admit_open(tenant_uuid, store)
            if session_uuid is not None:
                ctx = tenant.instance.context
                admin = ctx.store.find(Account, {"type": "SystemAdmin"}, order_by=["create_date"], limit=1)
                if admin:
                    now = ctx.clock.now()
                    open_session(ctx=ctx, account=admin[0], now=now, expired_date=now + ctx.session_timeout,
                                 uuid=session_uuid)
            self.created += 1
            self.creation_ms = [*self.creation_ms[-999:], (time.perf_counter() - started) * 1000]
            if self.registry.count() > self.max_tenants:
                self.sweep()
        return tenant

    def _opened(self, tenant_uuid: str) -> Tenant | None:
        """The tenant, opened in this process if it is not yet; None if its database is gone."""
        with self._lock:
            tenant = self._open.get(tenant_uuid)
            if tenant is not None:
                self._open.move_to_end(tenant_uuid)
                return tenant
            if self._directory is None:
                return None  # in memory, a tenant lives only in the process that made it
            path = self._path(tenant_uuid)
            if not path.exists():
                return None
            tenant = self._admit_open(tenant_uuid, TenantStore(str(path), self._announcer(tenant_uuid)))
            # It may have jobs that a process which has since stopped accepted: let the runner look.
            self._busy[tenant_uuid] = tenant
            return tenant

    def _admit_open(self, tenant_uuid: str, store: TenantStore) -> Tenant:
        while len(self._open) >= self._max_open:
            oldest = next(iter(self._open))
            self._forget(oldest, delete=self._directory is None)
            if self._directory is None:
                self.registry.remove([oldest])
                self.evicted += 1
        tenant = self._tenant(tenant_uuid, store)
        self._open[tenant_uuid] = tenant
        return tenant

    def _new_store(self, tenant_uuid: str) -> TenantStore:
        announce = self._announcer(tenant_uuid)
        if self._directory is None:
            store = TenantStore(":memory:", announce)
            self._template.copy_into(store)
            return store
        path = self._path(tenant_uuid)
        self._template.copy_to(str(path))
        return TenantStore(str(path), announce)

    def _tenant(self, tenant_uuid: str, store: TenantStore) -> Tenant:
        clock = ServerClock(store)  # unseeded: a seeded stream would give every tenant the same UUIDs
        instance = new_instance(self.settings, store, clock, scenarios=self._scenarios,
                                fixture_counts=self._fixture_counts,
                                jobs=TenantJobs(self, tenant_uuid))
        now = time.monotonic()
        return Tenant(
            uuid=tenant_uuid, store=store, instance=instance, tokens=max(self.rate_limit, 1.0), counted_at=now,
            touched_at=time.time(),
        )

    def _announcer(self, tenant_uuid: str) -> Callable[[str], None]:
        registry = self.registry

        def announce(key: str) -> None:
            registry.add_route(key, tenant_uuid)

        return announce

    def _forget(self, tenant_uuid: str, *, delete: bool) -> None:
        tenant = self._open.pop(tenant_uuid, None)
        self._busy.pop(tenant_uuid, None)
        if tenant is not None:
            with contextlib.suppress(Exception):
                tenant.instance.journal.stop()
            tenant.store.close()
        if delete:
            self._delete_files(tenant_uuid)

    def _path(self, tenant_uuid: str) -> Path:
        assert self._directory is not None
        return self._directory / f"{tenant_uuid}.db"

    def _delete_files(self, tenant_uuid: str) -> None:
        if self._directory is None:
            return
        path = self._path(tenant_uuid)
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{path}{suffix}")


def _template(
    settings: Settings,
    fixtures: Sequence[Record],
    source: str,
    scenarios: Mapping[str, ScenarioSpec],
    startup_rules: Sequence[RuleSpec] | None,
) -> SqliteStore:
    """The database every tenant starts as: the fixtures, and the ``--faults`` rules."""
    template = SqliteStore(":memory:")
    template.create_schema()
    apply_fixtures(template, fixtures, source=source)
    if startup_rules:
        context = instance_context(settings, template, ServerClock(template))
        FaultEngine(lambda: context, scenarios, seed=settings.seed).replace_rules(startup_rules)
    return template


def sandbox_directory(database_path: str) -> Path | None:
    """Where tenants of the server database at ``database_path`` live; None when it is in memory."""
    if database_path == ":memory:":
        return None
    return Path(f"{database_path}.sandbox")

