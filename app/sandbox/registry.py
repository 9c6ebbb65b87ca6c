"""The sandbox's directory of tenants: which tenant a session or a job belongs to, and when each was used.

It is shared by every process that serves the tenants (a SQLite file beside the tenants' databases, or
memory when the server's database is; over PostgreSQL two tables in the server's database, shared by
every replica: ``app.sandbox.postgres``), so a session logged in through one process is found by the
others, and any process may evict. Plain SQL on its own connection: it is not part of any tenant's
inventory, and a reset of the server's own inventory must not forget the visitors. The SQLite file is
written without fsync (it survives the process, not the machine): a checkpoint's fsync stalled the
making of a tenant by tens of milliseconds.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

_ROUTE_TO_LIVE_TENANT = (
    "SELECT r.tenant_uuid FROM sandbox_route r JOIN sandbox_tenant t ON t.uuid = r.tenant_uuid WHERE r.key = ?"
)


class Rows(Protocol):
    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

@dataclass(frozen=True, slots=True)
class Registration:
    """What ``add_tenant`` did. ``tenant``: the tenant the key now leads to, None if there was no room;
    ``evicted``: the tenants removed to make room; ``oldest_use``: with no room, when the least recently
    used tenant was last used."""

    tenant: str | None
    evicted: tuple[str, ...] = ()
    oldest_use: float | None = None


def session_key(uuid: str) -> str:
    return f"session:{uuid}"


def job_key(uuid: str) -> str:
    return f"job:{uuid}"


class TenantRegistry:
    """The registry's SQL, over the database-specific connection and statements of a subclass."""

    #: The column type of the times (seconds since the epoch, with their fraction).
    SECONDS = "REAL"
    #: What starts a write transaction that no other process's write transaction runs beside.
    BEGIN = "BEGIN IMMEDIATE"

    def __init__(self) -> None:
        self._lock = threading.RLock()
        #: Whether ``_writing``'s transaction is open.
        self._in_transaction = False
        schema = (
            f"CREATE TABLE IF NOT EXISTS sandbox_tenant (uuid TEXT PRIMARY KEY, create_time {self.SECONDS} NOT NULL, "
            f"last_used {self.SECONDS} NOT NULL)",
            "CREATE INDEX IF NOT EXISTS sandbox_tenant_last_used ON sandbox_tenant (last_used)",
            "CREATE TABLE IF NOT EXISTS sandbox_route (key TEXT PRIMARY KEY, tenant_uuid TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS sandbox_route_tenant ON sandbox_route (tenant_uuid)",
        )
        with self._writing():
            for statement in schema:
                self._sql(statement)

    def _sql(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        """Run one statement, ``?`` marking its parameters."""
        raise NotImplementedError

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """A write transaction, serialized with every other process's."""
        with self._lock:
            self._sql(self.BEGIN)
            self._in_transaction = True
            try:
                yield
            except BaseException:
                self._in_transaction = False
                self._sql("ROLLBACK")
                raise
            self._in_transaction = False
            self._sql("COMMIT")

    def tenant_of(self, key: str) -> str | None:
        """The tenant a route key leads to, if that tenant still exists."""
        with self._lock:
            row = self._sql(_ROUTE_TO_LIVE_TENANT, (key,)).fetchone()
        return None if row is None else str(row[0])

    def exists(self, tenant: str) -> bool:
        with self._lock:
            return self._sql("SELECT 1 FROM sandbox_tenant WHERE uuid = ?", (tenant,)).fetchone() is not None

    def add_tenant(self, tenant: str, now: float, key: str | None = None, *, capacity: int,
                   evictable_before: float) -> Registration:
        """Register ``tenant``, reached by ``key`` if given, if there is room: at ``capacity`` the least
        recently used tenants unused since ``evictable_before`` make way, and if too few are, nothing
        changes. When another process registered ``key`` first, this tenant is not registered and the
        answer names that process's tenant. One transaction, so processes never overfill the registry."""
        with self._writing():
            return self._register(tenant, now, key, capacity, evictable_before)

    def _register(self, tenant: str, now: float, key: str | None, capacity: int,
                  evictable_before: float) -> Registration:
        if key is not None:
            row = self._sql(_ROUTE_TO_LIVE_TENANT, (key,)).fetchone()
            if row is not None:
                return Registration(tenant=str(row[0]))
        (count,) = self._sql("SELECT COUNT(*) FROM sandbox_tenant").fetchone()
        excess = int(count) + 1 - capacity
        evicted: tuple[str, ...] = ()
        if excess > 0:
            rows = self._sql(
                "SELECT uuid FROM sandbox_tenant WHERE last_used <= ? ORDER BY last_used, uuid LIMIT ?",
                (evictable_before, excess),
            ).fetchall()
            if len(rows) < excess:
                (oldest,) = self._sql("SELECT MIN(last_used) FROM sandbox_tenant").fetchone()
                return Registration(tenant=None, oldest_use=None if oldest is None else float(oldest))
            evicted = tuple(str(row[0]) for row in rows)
            self._delete(evicted)
        if key is not None:
            self._sql("DELETE FROM sandbox_route WHERE key = ?", (key,))
            self._sql("INSERT INTO sandbox_route (key, tenant_uuid) VALUES (?, ?)", (key, tenant))
        self._sql("INSERT INTO sandbox_tenant (uuid, create_time, last_used) VALUES (?, ?, ?)", (tenant, now, now))
        return Registration(tenant=tenant, evicted=evicted)

    def add_route(self, key: str, tenant: str) -> None:
        """Lead ``key`` to ``tenant``. A key already leading to a live tenant keeps it: the first wins."""
        with self._writing():
            if self._sql(_ROUTE_TO_LIVE_TENANT, (key,)).fetchone() is None:
                self._sql("DELETE FROM sandbox_route WHERE key = ?", (key,))
                self._sql("INSERT INTO sandbox_route (key, tenant_uuid) VALUES (?, ?)", (key, tenant))

    def is_reachable(self, tenant: str) -> bool:
        """Whether any session or job leads to ``tenant``."""
        with self._lock:
            row = self._sql("SELECT 1 FROM sandbox_route WHERE tenant_uuid = ? LIMIT 1", (tenant,)).fetchone()
        return row is not None

    def touch(self, tenant: str, now: float) -> None:
        with self._lock:
            self._sql("UPDATE sandbox_tenant SET last_used = ? WHERE uuid = ?", (now, tenant))

    def count(self) -> int:
        with self._lock:
            (total,) = self._sql("SELECT COUNT(*) FROM sandbox_tenant").fetchone()
        return int(total)

    def tenants(self) -> list[tuple[str, float, float]]:
        """(uuid, create time, last used) of every tenant, most recently used first."""
        with self._lock:
            rows = self._sql(
                "SELECT uuid, create_time, last_used FROM sandbox_tenant ORDER BY last_used DESC, uuid"
            ).fetchall()
        return [(str(u), float(c), float(t)) for u, c, t in rows]

    def to_evict(self, *, keep: int, idle_before: float, evictable_before: float) -> list[str]:
        """Tenants unused since ``idle_before``, and beyond the ``keep`` most recently used those unused
        since ``evictable_before``."""
        every = self.tenants()
        idle = {uuid for uuid, _, used in every if used < idle_before}
        surplus = {uuid for uuid, _, used in every[keep:] if used <= evictable_before}
        return sorted(idle | surplus)

    def remove(self, tenants: Iterable[str]) -> None:
        uuids = list(tenants)
        if uuids:
            with self._writing():
                self._delete(uuids)

    def _delete(self, uuids: Sequence[str]) -> None:
        marks = ", ".join("?" for _ in uuids)
        self._sql(f"DELETE FROM sandbox_route WHERE tenant_uuid IN ({marks})", uuids)
        self._sql(f"DELETE FROM sandbox_tenant WHERE uuid IN ({marks})", uuids)

    def close(self) -> None:
        raise NotImplementedError


class SqliteRegistry(TenantRegistry):
    """The registry in a SQLite file beside the tenants' files (or in memory, with them)."""

    def __init__(self, path: str) -> None:
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
        self._conn.execute("PRAGMA busy_timeout = 30000")
        if path != ":memory:":
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = OFF")
        super().__init__()

    def _sql(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        return self._conn.execute(sql, params)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
