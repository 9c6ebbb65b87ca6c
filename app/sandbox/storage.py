"""A tenant's database: the template every tenant starts as, and the store that tells the registry
which sessions and jobs it holds.

Beside the server's database file the tenants live in ``<database>.sandbox/`` (one file per tenant,
plus the registry of sessions and jobs), so every worker process serves every tenant; with an
in-memory server database they live in this process's memory.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from ..clock import ServerClock
from ..faults.engine import FaultEngine
from ..faults.spec import RuleSpec, ScenarioSpec
from ..instance import instance_context
from ..seeding.fixtures import apply_fixtures
from ..settings import Settings
from ..store.base import R
from ..store.records import ApiJob, Record, Session
from ..store.sqlite import SqliteStore
from .registry import job_key, session_key

#: What a session UUID looks like on ZStack: 32 hex digits, no dashes.
SESSION_UUID = re.compile(r"^[0-9a-fA-F]{32}$")


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


def sandbox_directory(database_path: str) -> Path | None:
    """Where tenants of the server database at ``database_path`` live; None when it is in memory."""
    if database_path == ":memory:":
        return None
    return Path(f"{database_path}.sandbox")
