"""Sandbox tenants: a private fake cloud per visitor, made by a login, gone when idle.

A tenant is a database of its own, a copy of a template built once per process from the fixtures
(and the ``--faults`` rules): SQLite's backup API writes it in a millisecond or two, or, over
PostgreSQL, a schema of the server's database is filled with it (``tenant_home``,
``app.sandbox.storage``). Each tenant is a full ``Instance``: its own store, clock, fault rules and
counters, journal and jobs, so one visitor never sees another's images, jobs, faults or requests.
The job runner of the process finishes the jobs of the tenants that have some in flight
(``job_contexts``).

Who gets a tenant: a login. In the local profile a well-formed session UUID never seen gets one
too, as an admin session; in the public profile it does not (it is ID.1001, as on a real node), so
nobody can choose, share or take over a session UUID before it is issued.

Limits: ``max_tenants``, ``idle`` seconds without a request (then the tenant expires), and a
per-tenant token bucket of ``rate_limit`` requests per second. At ``max_tenants`` a new tenant takes
the place of the least recently used one only if that one has had no request for ``evict_after``
seconds (public profile 300, local 0: any); otherwise it is refused (``SandboxFull``), so a flood of
logins never pushes out a visitor who is using the sandbox. In the public profile, requests without
a tenant and logins are also limited per client address (``addresses``).
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
import uuid as uuid_module
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..clock import ServerClock
from ..domain import jobs, webhooks
from ..domain.bounds import counted_by_type
from ..domain.context import Context
from ..domain.sessions import open_session
from ..faults.spec import RuleSpec, ScenarioSpec
from ..instance import Instance, JobWaker, new_instance
from ..settings import Settings
from ..store.base import Store
from ..store.records import Account, ApiJob, Record
from ..store.sqlite import SqliteStore
from .buckets import AddressLimits, Admission, TokenBucket
from .registry import job_key, session_key
from .storage import SESSION_UUID, FileHome, MemoryHome, TenantHome, template

logger = logging.getLogger("zstack_mock.sandbox")


@dataclass(eq=False)
class Tenant:
    uuid: str
    store: Store
    instance: Instance
    #: The tenant's rate limit; None when there is none.
    bucket: TokenBucket | None
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


def tenant_home(server_store: Store, template_store: SqliteStore, *, reset: bool) -> TenantHome:
    """Where the tenants of a server whose own database is ``server_store`` live."""
    if isinstance(server_store, SqliteStore):
        if server_store.path == ":memory:":
            return MemoryHome(template_store)
        return FileHome(Path(f"{server_store.path}.sandbox"), template_store, reset=reset)
    # Imported only here: psycopg is imported only when a PostgreSQL database is used.
    from ..store.postgres import PostgresStore
    from .postgres import PostgresHome

    if not isinstance(server_store, PostgresStore):
        raise TypeError(f"no sandbox home for a {type(server_store).__name__}")
    return PostgresHome(server_store, template_store, reset=reset)


class SandboxFull(Exception):
    """No room for a new tenant: the sandbox holds ``max_tenants`` and none has been idle long enough
    to make way. ``retry_after``: seconds until the least recently used one will have been."""

    def __init__(self, *, max_tenants: int, evict_after: float, retry_after: float) -> None:
        super().__init__(
            f"The sandbox is full: all {max_tenants} tenants are in use (none has been idle for "
            f"{evict_after:g} s), so no new session can start now; log in again in {math.ceil(retry_after)} s"
        )
        self.retry_after = retry_after


@dataclass
class SandboxStatus:
    tenants: int
    open_here: int
    busy_here: int
    created_here: int
    evicted_here: int
    rejected_here: int
    full_here: int
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
        server_store: Store,
        runner: Callable[[], JobWaker],
        reset: bool = False,
    ) -> None:
        """``server_store``: the server's own database, beside which the tenants live
        (``storage.tenant_home``); ``reset``: drop every tenant there is."""
        self.settings = settings
        self.idle = float(settings.sandbox_idle)
        self.max_tenants = settings.sandbox_max_tenants
        self.rate_limit = settings.sandbox_rate_limit
        limits = settings.limits
        self.evict_after = settings.sandbox_evict_seconds
        #: The local profile's convenience: a session UUID never seen gets a tenant of its own.
        self.adopts_unseen_sessions = not limits.public
        self.addresses = AddressLimits(anonymous_rate=limits.anonymous_rate_limit,
                                       login_rate=limits.login_rate_limit)
        self.runner = runner
        self._scenarios = scenarios
        self._template = template(settings, fixtures, fixtures_source, scenarios, startup_rules)
        try:
            self.home = tenant_home(server_store, self._template, reset=reset)
        except BaseException:
            self._template.close()
            raise
        self.registry = self.home.registry
        self._fixture_counts = counted_by_type(lambda: fixtures)
        self._open: OrderedDict[str, Tenant] = OrderedDict()
        self._max_open = self.max_tenants if self.home.max_open is None else min(self.max_tenants, self.home.max_open)
        self._busy: dict[str, Tenant] = {}
        self._lock = threading.RLock()
        # ``last_used`` is as coarse as this: fine enough for both the expiry and the eviction rule.
        self._touch_interval = min(30.0, self.idle / 10, self.evict_after / 10 if self.evict_after > 0 else math.inf)
        self._sweep_interval = min(30.0, self.idle / 4)
        self._next_sweep = 0.0
        self.created = self.evicted = self.rejected = self.refused_full = 0
        #: Milliseconds each of the last tenant creations in this process took.
        self.creation_ms: list[float] = []

    # -- finding the tenant of a request -----------------------------------------------------------

    def for_session(self, session_uuid: str) -> Tenant | None:
        """The tenant of a session the sandbox issued. None for any other (the server's own instance
        then answers ID.1001), but in the local profile a well-formed session never seen gets a new
        tenant where it is an admin session. Raises ``SandboxFull`` when that one has no room."""
        if not SESSION_UUID.match(session_uuid):
            return None
        self._maybe_sweep()
        key = session_key(session_uuid)
        found = self.registry.tenant_of(key)
        if found is not None:
            tenant = self._opened(found)
            if tenant is not None:
                return tenant
        if not self.adopts_unseen_sessions:
            return None
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
        """A fresh tenant for a login; the session the login opens is announced by the tenant's store.
        Raises ``SandboxFull`` when there is no room."""
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

    def admit(self, tenant: Tenant, *, charged: bool = True) -> Admission | None:
        """A request of the tenant: it counts as a use, and unless not ``charged`` takes one from the
        tenant's bucket; an ``Admission`` when that is empty."""
        wall = time.time()
        if wall - tenant.touched_at >= self._touch_interval:
            tenant.touched_at = wall
            self.registry.touch(tenant.uuid, wall)
        if tenant.bucket is None or not charged:
            return None
        wait = tenant.bucket.take(time.monotonic())
        if wait is None:
            return None
        self.rejected += 1
        return Admission(retry_after=wait, rate=self.rate_limit,
                         rule=f"this sandbox session allows {self.rate_limit:g} requests per second")

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

    def open_contexts(self) -> list[Context]:
        """The contexts of the tenants open in this process."""
        with self._lock:
            return [tenant.instance.context for tenant in self._open.values()]

    # -- housekeeping --------------------------------------------------------------------------------

    def status(self) -> SandboxStatus:
        with self._lock:
            return SandboxStatus(
                tenants=self.registry.count(),
                open_here=len(self._open),
                busy_here=len(self._busy),
                created_here=self.created,
                evicted_here=self.evicted,
                rejected_here=self.rejected + self.addresses.rejected,
                full_here=self.refused_full,
                timings_ms=list(self.creation_ms),
            )

    def sweep(self) -> int:
        """Evict idle tenants and those beyond the cap; forget the ones other processes evicted."""
        with self._lock:
            now = time.time()
            gone = self.registry.to_evict(keep=self.max_tenants, idle_before=now - self.idle,
                                          evictable_before=now - self.evict_after)
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
            self.home.close()
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
        # Made before taking the lock: over PostgreSQL it takes tens of milliseconds, on a worker thread.
        store = self.home.new_store(tenant_uuid, self._announcer(tenant_uuid))
        with self._lock:
            now = time.time()
            registered = self.registry.add_tenant(tenant_uuid, now, key, capacity=self.max_tenants,
                                                  evictable_before=now - self.evict_after)
            if registered.tenant != tenant_uuid:
                store.close()
                self.home.delete(tenant_uuid)
                if registered.tenant is not None:  # another process made this session's tenant first
                    return self._opened(registered.tenant)
                self.refused_full += 1
                oldest = now if registered.oldest_use is None else registered.oldest_use
                raise SandboxFull(max_tenants=self.max_tenants, evict_after=self.evict_after,
                                  retry_after=max(1.0, oldest + self.evict_after - now))
            for gone in registered.evicted:
                self._forget(gone, delete=True)
            self.evicted += len(registered.evicted)
            tenant = self._admit_open(tenant_uuid, store)
            if session_uuid is not None:
                ctx = tenant.instance.context
                admin = ctx.store.find(Account, {"type": "SystemAdmin"}, order_by=["create_date"], limit=1)
                if admin:
                    now_there = ctx.clock.now()
                    open_session(ctx=ctx, account=admin[0], now=now_there,
                                 expired_date=now_there + ctx.session_timeout, uuid=session_uuid)
            self.created += 1
            self.creation_ms = [*self.creation_ms[-999:], (time.perf_counter() - started) * 1000]
        return tenant

    def _opened(self, tenant_uuid: str) -> Tenant | None:
        """The tenant, opened in this process if it is not yet; None if its database is gone."""
        with self._lock:
            tenant = self._open.get(tenant_uuid)
            if tenant is not None:
                self._open.move_to_end(tenant_uuid)
                return tenant
            if not self.home.shared:
                return None  # in memory, a tenant lives only in the process that made it
        store = self.home.open_store(tenant_uuid, self._announcer(tenant_uuid))  # outside the lock: a connection
        if store is None:
            return None
        with self._lock:
            tenant = self._open.get(tenant_uuid)
            if tenant is not None:  # another thread opened it meanwhile
                store.close()
                return tenant
            tenant = self._admit_open(tenant_uuid, store)
            # It may have jobs that a process which has since stopped accepted: let the runner look.
            self._busy[tenant_uuid] = tenant
            return tenant

    def _admit_open(self, tenant_uuid: str, store: Store) -> Tenant:
        while len(self._open) >= self._max_open:
            oldest = next(iter(self._open))
            self._forget(oldest, delete=not self.home.shared)
            if not self.home.shared:
                self.registry.remove([oldest])
                self.evicted += 1
        tenant = self._tenant(tenant_uuid, store)
        self._open[tenant_uuid] = tenant
        return tenant

    def _tenant(self, tenant_uuid: str, store: Store) -> Tenant:
        clock = ServerClock(store)  # unseeded: a seeded stream would give every tenant the same UUIDs
        instance = new_instance(self.settings, store, clock, scenarios=self._scenarios,
                                fixture_counts=self._fixture_counts,
                                jobs=TenantJobs(self, tenant_uuid))
        bucket = None
        if self.rate_limit > 0:
            bucket = TokenBucket.full(self.rate_limit, max(self.rate_limit, 1.0), time.monotonic())
        return Tenant(uuid=tenant_uuid, store=store, instance=instance, bucket=bucket, touched_at=time.time())

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
            self.home.delete(tenant_uuid)
