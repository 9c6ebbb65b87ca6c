"""Where the tenants' databases live (a ``TenantHome``), the template every tenant starts as, and the
stores that tell the registry which sessions and jobs they hold.

* Beside a server database file the tenants live in ``<database>.sandbox/`` (``FileHome``: one file per
  tenant, plus the registry), so every worker process serves every tenant.
* With an in-memory server database they live in this process's memory (``MemoryHome``).
* Over PostgreSQL each tenant is a schema of the server's database (``app.sandbox.postgres``), so every
  replica serves every tenant.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from ..clock import ServerClock
from ..faults.engine import FaultEngine
from ..faults.spec import RuleSpec, ScenarioSpec
from ..instance import instance_context
from ..seeding.fixtures import apply_fixtures
from ..settings import Settings
from ..store.base import R, Store
from ..store.records import ApiJob, Record, Session
from ..store.sqlite import SqliteStore
from .registry import SqliteRegistry, TenantRegistry, job_key, session_key

#: What a session UUID looks like on ZStack: 32 hex digits, no dashes.
SESSION_UUID = re.compile(r"^[0-9a-fA-F]{32}$")
#: Open tenant databases a process keeps at most when they are files (each holds three descriptors).
MAX_OPEN_FILES = 200

Announce = Callable[[str], None]


class Announcing:
    """A tenant's store: every session or job stored in it is announced to the registry, so that later
    requests naming that session, and polls of that job, find this tenant. Mixed into a store class."""

    _announce: Announce

    def insert(self, record: R) -> R:
        stored: R = super().insert(record)  # type: ignore[misc]
        self._route(record)
        return stored

    def insert_many(self, records: Sequence[Record]) -> None:
        super().insert_many(records)  # type: ignore[misc]
        for record in records:
            self._route(record)

    def _route(self, record: Record) -> None:
        if isinstance(record, Session):
            self._announce(session_key(record.uuid))
        elif isinstance(record, ApiJob):
            self._announce(job_key(record.uuid))


class TenantStore(Announcing, SqliteStore):
    """A tenant's SQLite database."""

    def __init__(self, path: str, announce: Announce) -> None:
        super().__init__(path, lightweight=True)
        self._announce = announce


class TenantHome:
    """Where tenants' databases are made, opened and deleted, and the registry that leads to them."""

    registry: TenantRegistry
    #: Whether other processes can open a tenant made here (else it lives in this process alone).
    shared: bool
    #: The tenants a process keeps open at most (None: all of them).
    max_open: int | None
    #: Whether finding, making and opening tenants should run on a worker thread rather than the event
    #: loop (a database server's round trips and connections; SQLite's are microseconds).
    off_loop: bool = False

    def new_store(self, tenant_uuid: str, announce: Announce) -> Store:
        """A new tenant's database, a copy of the template."""
        raise NotImplementedError

    def open_store(self, tenant_uuid: str, announce: Announce) -> Store | None:
        """An existing tenant's database; None if it is gone (or lives in another process's memory)."""
        raise NotImplementedError

    def delete(self, tenant_uuid: str) -> None:
        """Delete a tenant's database (its store in this process is closed)."""

    def close(self) -> None:
        self.registry.close()


class MemoryHome(TenantHome):
    shared = False
    max_open = None

    def __init__(self, template_store: SqliteStore) -> None:
        self.registry = SqliteRegistry(":memory:")
        self._template = template_store

    def new_store(self, tenant_uuid: str, announce: Announce) -> Store:
        store = TenantStore(":memory:", announce)
        self._template.copy_into(store)
        return store

    def open_store(self, tenant_uuid: str, announce: Announce) -> Store | None:
        return None


class FileHome(TenantHome):
    shared = True
    max_open = MAX_OPEN_FILES

    def __init__(self, directory: Path, template_store: SqliteStore, *, reset: bool) -> None:
        if reset:
            shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True, exist_ok=True)
        self._directory = directory
        self.registry = SqliteRegistry(str(directory / "tenants.db"))
        self._template = template_store

    def new_store(self, tenant_uuid: str, announce: Announce) -> Store:
        path = self._path(tenant_uuid)
        self._template.copy_to(str(path))
        return TenantStore(str(path), announce)

    def open_store(self, tenant_uuid: str, announce: Announce) -> Store | None:
        path = self._path(tenant_uuid)
        return TenantStore(str(path), announce) if path.exists() else None

    def delete(self, tenant_uuid: str) -> None:
        path = self._path(tenant_uuid)
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{path}{suffix}")

    def _path(self, tenant_uuid: str) -> Path:
        return self._directory / f"{tenant_uuid}.db"


def template(
    settings: Settings,
    fixtures: Sequence[Record],
    source: str,
    scenarios: Mapping[str, ScenarioSpec],
    startup_rules: Sequence[RuleSpec] | None,
) -> SqliteStore:
    """The database every tenant starts as: the fixtures, and the ``--faults`` rules."""
    store = SqliteStore(":memory:")
    store.create_schema()
    apply_fixtures(store, fixtures, source=source)
    if startup_rules:
        context = instance_context(settings, store, ServerClock(store))
        FaultEngine(lambda: context, scenarios, seed=settings.seed).replace_rules(startup_rules)
    return store
