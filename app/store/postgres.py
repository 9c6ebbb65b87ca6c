"""The PostgreSQL implementation of ``Store``: one psycopg connection per process, over a database that
several processes (``serve --workers N``, replicas on other machines) share.

It keeps the SQLite store's behaviour, not just its interface:

* Writes are serialized as SQLite's ``BEGIN IMMEDIATE`` serializes them: every write transaction, and
  every write outside one, first takes one advisory lock (``WRITE_LOCK``) held until it commits. A
  read-modify-write inside ``transaction()`` (a fault rule's counters, the session limit, the job
  runner finishing a due job) therefore runs alone across all processes, and its reads (``READ
  COMMITTED``, after the lock) see every commit before it. Reads outside a transaction take no lock.
* The SQL is the SQLite store's (``_Mapping``), with PostgreSQL's placeholders, ``ILIKE ... ESCAPE ''``
  for ``LIKE`` (SQLite's ``LIKE`` folds ASCII letters and has no escape character; the columns' ``"C"``
  collation folds ASCII alone), and ``NULLS FIRST`` ascending (where SQLite puts NULLs).
* Text cannot hold NUL characters in PostgreSQL: they become U+FFFD (``_text``).
* A generated key (an image ref's ``id``) is the table's largest plus one, as SQLite picks a rowid.
* Rows read by key and derived values are kept (``ReadCache``) exactly as the SQLite store keeps them;
  what stands for SQLite's ``PRAGMA data_version`` is a counter row every write transaction adds one
  to (``store_data_version``, committed with the writes, so a process that sees the new count sees
  the rows too).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar, cast

import psycopg

from .read_cache import MISSING, Kind
from .records import ALL_RECORD_TYPES, Record
from .sql import META, SCHEMA_VERSION, SCHEMA_VERSION_KEY, SQL_OPERATORS, SqlStore, StoreError, TableMapping
from .urls import display_url

R = TypeVar("R", bound=Record)
T = TypeVar("T")

#: The advisory lock every write takes: one writer at a time across every process on the database.
WRITE_LOCK = 0x7A5_7AC4
#: How long opening the connection may take before start-up gives up.
CONNECT_TIMEOUT = 10
_BUMP_AND_COMMIT = "UPDATE store_data_version SET version = version + 1 WHERE id = 1; COMMIT"


def _aware(value: datetime) -> datetime:
    """A datetime without a zone is local time, as the SQLite store reads it."""
    return value if value.tzinfo is not None else value.astimezone(UTC)


def _text(value: str) -> str:
    """PostgreSQL's text cannot hold NUL: each one is stored (and looked for) as U+FFFD, the replacement
    character (docs/behaviour.md)."""
    return value.replace("\x00", "\ufffd") if "\x00" in value else value


class PostgresMapping(TableMapping):
    PLACEHOLDER: ClassVar[str] = "%s"
    COMPARISONS: ClassVar[Mapping[str, str]] = {
        **{op: f"{sql} %s" for op, sql in SQL_OPERATORS.items()},
        "like": "ILIKE %s ESCAPE ''",
        "notlike": "NOT ILIKE %s ESCAPE ''",
    }
    TO_DB: ClassVar[Mapping[type, Callable[[Any], Any]]] = {datetime: _aware, str: _text}
    FROM_DB: ClassVar[Mapping[type, Callable[[Any], Any]]] = {}
    # Where SQLite sorts NULLs: first ascending, last descending.
    ASCENDING: ClassVar[str] = "{} NULLS FIRST"
    DESCENDING: ClassVar[str] = "{} DESC NULLS LAST"

    def __init__(self, record_type: type[Record]) -> None:
        super().__init__(record_type)
        key = self.generated_key
        if key is not None:
            # SQLite's rowid: the largest plus one (under the write lock, so no two writers pick one).
            self.insert = (
                f"INSERT INTO {self.table} ({key}, {', '.join(self.insert_columns)}) "
                f"VALUES ((SELECT COALESCE(MAX({key}), 0) + 1 FROM {self.table}), "
                f"{', '.join('%s' for _ in self.insert_columns)}) RETURNING {key}"
            )
        self.copy = f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN"


_MAPPINGS: dict[type[Any], PostgresMapping] = {t: PostgresMapping(t) for t in ALL_RECORD_TYPES}
PostgresMapping.ALL = _MAPPINGS


#: The DDL compiled from the SQLModel tables for PostgreSQL (``python -m app.store.ddl postgres``),
#: committed as the SQLite one is; a test fails when it is stale.
SCHEMA_FILE = Path(__file__).with_name("schema_postgres.sql")


class PostgresStore(SqlStore):
    MAPPING = PostgresMapping
    SCHEMA_FILE = SCHEMA_FILE
    BOOKKEEPING_TABLES = frozenset({"store_meta", "store_data_version"})

    def __init__(self, database_url: str, *, schema: str | None = None, write_lock: int = WRITE_LOCK) -> None:
        """``schema``: the PostgreSQL schema the tables are in (a sandbox tenant's), else the database's
        default; ``write_lock``: the advisory lock this store's writes take (a tenant's own, so tenants do
        not wait for each other)."""
        self.url = database_url
        #: What messages name the database by (no password).
        self.path = display_url(database_url) + ("" if schema is None else f" (schema {schema})")
        self._options = "-c timezone=UTC" + ("" if schema is None else f" -c search_path={schema}")
        self._begin_statement = f"BEGIN; SELECT pg_advisory_xact_lock({write_lock})"
        self._conn = self._connect()
        self._cursor = self._conn.cursor()
        #: Whether the open transaction wrote (its commit then adds one to the data version).
        self._wrote = False
        #: This store's own commits that added to the data version: they are not another's writes.
        self._own_commits = 0
        self._start(derived_limit=32)

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(
                self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT, options=self._options,
                application_name="zstack-mock",
            )
        except psycopg.Error as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise StoreError(f"cannot connect to {self.path}: {reason}") from None

    # -- transactions -------------------------------------------------------------------------

    def _begin(self) -> None:
        self._first_on_connection(lambda: self._script(self._begin_statement))
        self._wrote = False

    def _commit(self) -> None:
        self._script(_BUMP_AND_COMMIT if self._wrote else "COMMIT")
        if self._wrote:
            self._own_commits += 1

    def _rollback(self) -> None:
        if self._conn.closed:
            return
        try:
            self._sql("ROLLBACK")
        except psycopg.Error:
            self._conn.close()  # in an unknown state: the next call opens a new connection

    def _reconnect_if_lost(self) -> None:
        if self._conn.closed or self._conn.broken:
            self._conn.close()
            self._conn = self._connect()
            self._cursor = self._conn.cursor()
            self._cache.clear()

    def _sql(self, sql: str, params: Sequence[Any] | None = None) -> psycopg.Cursor[Any]:
        return self._cursor.execute(cast(Any, sql), params)

    def _script(self, sql: str) -> None:
        """Statements separated by ``;`` in one round trip (never prepared: that takes one statement)."""
        self._cursor.execute(cast(Any, sql), prepare=False)

    def _statement(self, sql: str, params: Sequence[Any] | None = None) -> psycopg.Cursor[Any]:
        """One statement (the caller holds the lock); outside a transaction, on a new connection if the last was lost."""
        if not self._depth:
            return self._first_on_connection(lambda: self._sql(sql, params))
        return self._sql(sql, params)

    def _first_on_connection(self, run: Callable[[], T]) -> T:
        """``run()``: a statement outside a transaction, or the start of one. If the server closed the
        connection since the last statement (it restarted), once more on a new connection: nothing was
        done on the lost one that a retry could repeat."""
        self._reconnect_if_lost()
        try:
            return run()
        except psycopg.OperationalError:
            if not self._conn.broken:
                raise
        self._reconnect_if_lost()
        return run()

    @contextmanager
    def _writing(self, kind: Kind, key: Hashable = MISSING) -> Iterator[None]:
        """A write: inside this store's transaction (one of its own when none is open)."""
        with self.transaction():
            self._wrote = True
            self._cache.written(kind, key)
            yield

    def _data_version(self) -> int:
        """Moves when another connection commits a write (as SQLite's ``PRAGMA data_version``)."""
        row = self._statement("SELECT version FROM store_data_version WHERE id = 1").fetchone()
        return (0 if row is None else int(row[0])) - self._own_commits

    # -- records ------------------------------------------------------------------------------

    def insert(self, record: R) -> R:
        mapping = _MAPPINGS[type(record)]
        with self._writing(type(record)):
            cursor = self._sql(mapping.insert, mapping.values(record))
            if mapping.generated_key is not None:
                row = cursor.fetchone()
                assert row is not None
                setattr(record, mapping.generated_key, row[0])
        return record

    def insert_many(self, records: Sequence[Record]) -> None:
        by_type: dict[type[Any], list[Record]] = {}
        for record in records:
            by_type.setdefault(type(record), []).append(record)
        with self.transaction():
            for record_type, group in by_type.items():
                with self._writing(record_type):
                    self._copy(_MAPPINGS[record_type], group, keyed=False)

    def _copy(self, mapping: PostgresMapping, records: Sequence[Record], *, keyed: bool) -> None:
        """``COPY`` the records in. A generated key is kept with ``keyed`` if the record has one; any other
        is the largest so far plus one, as SQLite numbers rows inserted one after another."""
        rows = [mapping.keyed_values(r) for r in records]
        key = mapping.generated_key
        if key is not None:
            row = self._sql(f"SELECT COALESCE(MAX({key}), 0) FROM {mapping.table}").fetchone()
            largest = 0 if row is None else int(row[0])
            position = mapping.columns.index(key)
            for values in rows:
                if keyed and values[position] is not None:
                    largest = max(largest, values[position])
                else:
                    largest += 1
                    values[position] = largest
        with self._cursor.copy(cast(Any, mapping.copy)) as copy:
            for values in rows:
                copy.write_row(values)

    # -- bookkeeping --------------------------------------------------------------------------

    def set_meta(self, key: str, value: str) -> None:
        with self._writing(META, key):
            self._sql(
                "INSERT INTO store_meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = %s",
                (_text(key), _text(value), _text(value)),
            )

    def _existing_tables(self) -> set[str]:
        with self._lock:
            rows = self._statement("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()").fetchall()
        return {str(row[0]) for row in rows}

    def fill_new_schema(self, schema: str, records: Sequence[Record], meta: Mapping[str, str]) -> None:
        """Create ``schema`` (the one this store was opened on), its tables, ``records`` and ``meta`` in
        one transaction: a sandbox tenant made from its template."""
        with self.transaction():
            self._wrote = True
            self._cache.clear()
            self._script(";\n".join([f"CREATE SCHEMA {schema}", *self.ddl()]))
            for record_type, group in self._by_type(ALL_RECORD_TYPES, records).items():
                if group:
                    self._copy(_MAPPINGS[record_type], group, keyed=True)
            for key, value in meta.items():
                self.set_meta(key, value)

    def replace_records(self, record_types: Sequence[type[Any]], records: Sequence[Record]) -> None:
        by_type = self._by_type(record_types, records)
        with self.transaction():
            self._wrote = True
            for record_type in by_type:
                self._cache.written(record_type)
            for record_type in by_type:
                # DELETE, not TRUNCATE: on tables of the fixtures' size TRUNCATE's new files cost tens of ms.
                self._sql(f"DELETE FROM {_MAPPINGS[record_type].table}")
            for record_type, group in by_type.items():
                if group:
                    self._copy(_MAPPINGS[record_type], group, keyed=True)

    def replace_inventory(self, records: Sequence[Record]) -> None:
        """Empty every table (``store_meta`` too), mark the schema's version and insert ``records``."""
        with self.transaction():
            self._cache.clear()
            self._wrote = True
            for table in self.emptied_tables():
                # DELETE, not TRUNCATE: TRUNCATE's new files cost a first start over an empty database 0.1 s.
                self._sql(f"DELETE FROM {table}")
            self.set_meta(SCHEMA_VERSION_KEY, SCHEMA_VERSION)
            self.insert_many(records)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

