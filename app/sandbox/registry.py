"""The sandbox's directory of tenants: which tenant a session or a job belongs to, and when each was used.

It is shared by every worker process (a SQLite file beside the tenants' databases, or memory when the
server's database is), so a session logged in through one worker is found by the others, and any
worker may evict. Plain SQL on its own connection: it is not part of any tenant's inventory, and a
reset of the server's own inventory must not forget the visitors. Like the tenants' databases it is
written without fsync (it survives the process, not the machine): a checkpoint's fsync stalled the
making of a tenant by tens of milliseconds.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS sandbox_tenant (uuid TEXT PRIMARY KEY, create_time REAL NOT NULL, "
    "last_used REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS sandbox_tenant_last_used ON sandbox_tenant (last_used)",
    "CREATE TABLE IF NOT EXISTS sandbox_route (key TEXT PRIMARY KEY, tenant_uuid TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS sandbox_route_tenant ON sandbox_route (tenant_uuid)",
)


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
    def __init__(self, path: str) -> None:
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
        self._conn.execute("PRAGMA busy_timeout = 30000")
        if path != ":memory:":
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = OFF")
        self._lock = threading.RLock()
        with self._lock:
            for statement in _SCHEMA:
                self._conn.execute(statement)

    def tenant_of(self, key: str) -> str | None:
        """The tenant a route key leads to, if that tenant still exists."""
        with self._lock:
            row = self._conn.execute(
                "SELECT r.tenant_uuid FROM sandbox_route r JOIN sandbox_tenant t ON t.uuid = r.tenant_uuid "
                "WHERE r.key = ?", (key,)
            ).fetchone()
        return None if row is None else str(row[0])

    def exists(self, tenant: str) -> bool:
        with self._lock:
            return self._conn.execute("SELECT 1 FROM sandbox_tenant WHERE uuid = ?", (tenant,)).fetchone() is not None

    def add_tenant(self, tenant: str, now: float, key: str | None = None, *, capacity: int,
                   evictable_before: float) -> Registration:
        """Register ``tenant``, reached by ``key`` if given, if there is room: at ``capacity`` the least
        recently used tenants unused since ``evictable_before`` make way, and if too few are, nothing
        changes. When another process registered ``key`` first, this tenant is not registered and the
        answer names that process's tenant. One transaction, so processes never overfill the registry."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                registration = self._register(tenant, now, key, capacity, evictable_before)
                self._conn.execute("COMMIT" if registration.tenant == tenant else "ROLLBACK")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return registration

    def _register(self, tenant: str, now: float, key: str | None, capacity: int,
                  evictable_before: float) -> Registration:
        if key is not None:
            row = self._conn.execute(
                "SELECT r.tenant_uuid FROM sandbox_route r JOIN sandbox_tenant t ON t.uuid = r.tenant_uuid "
                "WHERE r.key = ?", (key,)
            ).fetchone()
            if row is not None:
                return Registration(tenant=str(row[0]))
        (count,) = self._conn.execute("SELECT COUNT(*) FROM sandbox_tenant").fetchone()
        excess = int(count) + 1 - capacity
        evicted: tuple[str, ...] = ()
        if excess > 0:
            rows = self._conn.execute(
                "SELECT uuid FROM sandbox_tenant WHERE last_used <= ? ORDER BY last_used, uuid LIMIT ?",
                (evictable_before, excess),
            ).fetchall()
            if len(rows) < excess:
                (oldest,) = self._conn.execute("SELECT MIN(last_used) FROM sandbox_tenant").fetchone()
                return Registration(tenant=None, oldest_use=None if oldest is None else float(oldest))
            evicted = tuple(str(row[0]) for row in rows)
            self._delete(evicted)
        if key is not None:
            self._conn.execute("DELETE FROM sandbox_route WHERE key = ?", (key,))
            self._conn.execute("INSERT INTO sandbox_route (key, tenant_uuid) VALUES (?, ?)", (key, tenant))
        self._conn.execute(
            "INSERT INTO sandbox_tenant (uuid, create_time, last_used) VALUES (?, ?, ?)", (tenant, now, now)
        )
        return Registration(tenant=tenant, evicted=evicted)

    def add_route(self, key: str, tenant: str) -> None:
        """Lead ``key`` to ``tenant``. A key already leading to a live tenant keeps it: the first wins."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                row = self._conn.execute(
                    "SELECT r.tenant_uuid FROM sandbox_route r JOIN sandbox_tenant t ON t.uuid = r.tenant_uuid "
                    "WHERE r.key = ?", (key,)
                ).fetchone()
                if row is None:
                    self._conn.execute("DELETE FROM sandbox_route WHERE key = ?", (key,))
                    self._conn.execute("INSERT INTO sandbox_route (key, tenant_uuid) VALUES (?, ?)", (key, tenant))
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def is_reachable(self, tenant: str) -> bool:
        """Whether any session or job leads to ``tenant``."""
        with self._lock:
            row = self._conn.execute("SELECT 1 FROM sandbox_route WHERE tenant_uuid = ? LIMIT 1", (tenant,)).fetchone()
        return row is not None

    def touch(self, tenant: str, now: float) -> None:
        with self._lock:
            self._conn.execute("UPDATE sandbox_tenant SET last_used = ? WHERE uuid = ?", (now, tenant))

    def count(self) -> int:
        with self._lock:
            (total,) = self._conn.execute("SELECT COUNT(*) FROM sandbox_tenant").fetchone()
        return int(total)

    def tenants(self) -> list[tuple[str, float, float]]:
        """(uuid, create time, last used) of every tenant, most recently used first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT uuid, create_time, last_used FROM sandbox_tenant ORDER BY last_used DESC"
            ).fetchall()
        return [(str(u), float(c), float(t)) for u, c, t in rows]

    def to_evict(self, *, keep: int, idle_before: float, evictable_before: float) -> list[str]:
        """Tenants unused since ``idle_before``, and beyond the ``keep`` most recently used those unused
        since ``evictable_before``."""
        with self._lock:
            idle = self._conn.execute(
                "SELECT uuid FROM sandbox_tenant WHERE last_used < ?", (idle_before,)
            ).fetchall()
            surplus = self._conn.execute(
                "SELECT uuid FROM (SELECT uuid, last_used FROM sandbox_tenant ORDER BY last_used DESC "
                "LIMIT -1 OFFSET ?) WHERE last_used <= ?", (keep, evictable_before)
            ).fetchall()
        return sorted({str(row[0]) for row in (*idle, *surplus)})

    def remove(self, tenants: Iterable[str]) -> None:
        uuids = list(tenants)
        if not uuids:
            return
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._delete(uuids)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def _delete(self, uuids: Sequence[str]) -> None:
        marks = ", ".join("?" for _ in uuids)
        self._conn.execute(f"DELETE FROM sandbox_route WHERE tenant_uuid IN ({marks})", uuids)
        self._conn.execute(f"DELETE FROM sandbox_tenant WHERE uuid IN ({marks})", uuids)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
