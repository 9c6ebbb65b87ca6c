"""The sandbox over PostgreSQL: every tenant is a schema of the server's database, and the registry is
two tables beside the server's own, so every replica (and every ``--workers`` process) serves every
visitor, whichever one its next request lands on.

A tenant's schema holds the same tables as the server's, made from the template in one transaction
(``PostgresStore.fill_new_schema``); its store is a connection of its own whose ``search_path`` is the
schema, and whose writes take an advisory lock of the tenant's own (tenants never wait for each other,
and a tenant's job is still finished once across replicas). A process keeps at most ``MAX_OPEN``
tenants' connections open; others are opened again, in a few milliseconds, when a request needs them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg

from ..store.postgres import CONNECT_TIMEOUT, PostgresMapping, PostgresStore
from ..store.records import ALL_RECORD_TYPES, Record
from ..store.sql import StoreError, StoreGone
from ..store.sqlite import SqliteStore
from .registry import Rows, TenantRegistry
from .storage import Announce, Announcing, TenantHome

logger = logging.getLogger("zstack_mock.sandbox")

#: The advisory lock the registry's writes take (the server's own store takes ``WRITE_LOCK``).
REGISTRY_LOCK = 0x7A5_7AC5
#: Tenants' connections a process keeps open at most: PostgreSQL's default allows 100 connections in
#: all, and every replica and worker process holds its own.
MAX_OPEN = 16
#: Tenants' schemas are named by this and the tenant's UUID (32 hex digits).
SCHEMA_PREFIX = "sandbox_t_"
#: How long dropping a tenant's schema waits for a lock another process holds on it.
DROP_LOCK_TIMEOUT = "5s"


def tenant_schema(tenant_uuid: str) -> str:
    if len(tenant_uuid) != 32 or any(c not in "0123456789abcdef" for c in tenant_uuid):
        raise ValueError(f"not a tenant UUID: {tenant_uuid!r}")
    return SCHEMA_PREFIX + tenant_uuid


def tenant_write_lock(tenant_uuid: str) -> int:
    """The advisory lock of a tenant's writes: 60 bits of its UUID, above every lock of the server's."""
    return (1 << 60) | int(tenant_uuid[:15], 16)


class TenantPostgresStore(Announcing, PostgresStore):
    """A tenant's schema. Another process may drop it (an eviction) while this one has it open: a
    statement then raises ``StoreGone``."""

    def __init__(self, url: str, tenant_uuid: str, announce: Announce) -> None:
        self.schema = tenant_schema(tenant_uuid)
        super().__init__(url, schema=self.schema, write_lock=tenant_write_lock(tenant_uuid))
        self._announce = announce

    def _sql(self, sql: str, params: Sequence[Any] | None = None) -> psycopg.Cursor[Any]:
        with self._gone_if_dropped():
            return super()._sql(sql, params)

    def _script(self, sql: str) -> None:
        with self._gone_if_dropped():
            super()._script(sql)

    def _copy(self, mapping: PostgresMapping, records: Sequence[Record], *, keyed: bool) -> None:
        with self._gone_if_dropped():
            super()._copy(mapping, records, keyed=keyed)

    @contextmanager
    def _gone_if_dropped(self) -> Iterator[None]:
        try:
            yield
        except (psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName):
            raise StoreGone(f"the sandbox tenant's schema {self.schema} was dropped (evicted)") from None

    def exists(self) -> bool:
        with self._lock:
            row = self._statement("SELECT 1 FROM pg_namespace WHERE nspname = %s", (self.schema,)).fetchone()
        return row is not None


class PostgresRegistry(TenantRegistry):
    """The registry in the server's PostgreSQL database, and the listing and dropping of tenants' schemas."""

    SECONDS = "DOUBLE PRECISION"
    BEGIN = f"BEGIN; SELECT pg_advisory_xact_lock({REGISTRY_LOCK})"

    def __init__(self, url: str) -> None:
        self._url = url
        self._conn = self._connect()
        super().__init__()

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(self._url, autocommit=True, connect_timeout=CONNECT_TIMEOUT,
                                   application_name="zstack-mock sandbox")
        except psycopg.Error as exc:
            raise StoreError(f"the sandbox cannot connect to its database: {' '.join(str(exc).split())}") from None

    def _sql(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        """The statement; a statement outside a transaction (or the start of one) once more on a new
        connection if the server closed the last (it restarted)."""
        statement, values = sql.replace("?", "%s"), tuple(params) or None
        if self._conn.closed or self._conn.broken:
            self._conn = self._connect()
        try:
            cursor: Rows = self._conn.execute(statement, values)
        except psycopg.OperationalError:
            if not self._conn.broken or self._in_transaction:
                raise
            self._conn = self._connect()
            cursor = self._conn.execute(statement, values)
        return cursor

    def drop_schemas(self, schemas: Sequence[str]) -> None:
        """Drop tenants' schemas (each in its own transaction: one another process holds does not keep
        the others)."""
        with self._lock:
            for schema in schemas:
                try:
                    self._sql(f"SET lock_timeout = '{DROP_LOCK_TIMEOUT}'; DROP SCHEMA IF EXISTS {schema} CASCADE; "
                              "SET lock_timeout = 0")
                except psycopg.Error as exc:
                    logger.warning("could not drop the sandbox schema %s: %s", schema, exc)

    def tenant_schemas(self) -> list[str]:
        with self._lock:
            rows = self._sql("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, ?)",
                             (SCHEMA_PREFIX,)).fetchall()
        return [str(row[0]) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class PostgresHome(TenantHome):
    shared = True
    max_open = MAX_OPEN
    off_loop = True

    def __init__(self, server_store: PostgresStore, template_store: SqliteStore, *, reset: bool) -> None:
        self._url = server_store.url
        self.registry = self._registry = registry = PostgresRegistry(self._url)
        if reset:
            registry.remove([uuid for uuid, _, _ in registry.tenants()])
            registry.drop_schemas(registry.tenant_schemas())
        self._records: list[Record] = [r for t in ALL_RECORD_TYPES for r in template_store.find(t)]
        self._meta = template_store.meta_items()

    def new_store(self, tenant_uuid: str, announce: Announce) -> TenantPostgresStore:
        store = TenantPostgresStore(self._url, tenant_uuid, announce)
        try:
            store.fill_new_schema(store.schema, self._records, self._meta)
        except BaseException:
            store.close()
            raise
        return store

    def open_store(self, tenant_uuid: str, announce: Announce) -> TenantPostgresStore | None:
        store = TenantPostgresStore(self._url, tenant_uuid, announce)
        if store.exists():
            return store
        store.close()
        return None

    def delete(self, tenant_uuid: str) -> None:
        self._registry.drop_schemas([tenant_schema(tenant_uuid)])
