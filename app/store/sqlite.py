"""The SQLite implementation of ``Store``: one ``sqlite3`` connection per process, WAL mode.

Several processes can open the same file: WAL lets readers run beside the writer, every write
transaction starts with ``BEGIN IMMEDIATE`` so two writers queue instead of deadlocking, and a
writer that finds the lock taken waits for it (``_sql``) rather than fail. The SQL is plain ANSI
(no upserts, no SQLite functions); only the connection set-up and the DDL compiler are SQLite-specific.
"""

from __future__ import annotations

import operator
import sqlite3
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar, cast

from .base import OPERATORS, Conditions, Subquery
from .columns import columns_of
from .read_cache import DERIVED, MISSING, Kind, ReadCache
from .records import ALL_RECORD_TYPES, Record

R = TypeVar("R", bound=Record)
T = TypeVar("T")

#: The kind under which the read cache keeps ``store_meta`` values (record types are the other kinds).
_META = "store_meta"

#: How long a statement waits for another process's write lock before it fails.
BUSY_TIMEOUT = 30.0
#: SQLite's result codes for a lock held by another connection (and the one retrying cannot cure).
_SQLITE_BUSY = 5
_SQLITE_BUSY_SNAPSHOT = 517

#: Bumped whenever a table changes; a database of another version must be reset.
SCHEMA_VERSION = "5"
SCHEMA_VERSION_KEY = "schema_version"


class StoreError(Exception):
    """The database cannot be used as it is; the message says what to do."""

_SQL_OPERATORS = {
    "eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<=", "like": "LIKE", "notlike": "NOT LIKE",
}


def _datetime_to_db(value: datetime) -> str:
    """ISO 8601 in UTC with a fixed ``+00:00`` suffix: sorts as text and reads back aware."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")


#: Values of these types are stored as text (datetimes) or 0/1 (booleans); the rest as they are.
_TO_DB: dict[type, Callable[[Any], Any]] = {datetime: _datetime_to_db, bool: int}
#: Read converters, by the Python type of the column (never given None).
_FROM_DB: dict[type, Callable[[Any], Any]] = {datetime: datetime.fromisoformat, bool: bool}


def _to_db(value: Any) -> Any:
    convert = _TO_DB.get(type(value))
    return value if convert is None else convert(value)


class _Mapping:
    """How one record type maps to its table, all derived from its SQLModel table once: the columns
    (in the record's field order), the key, and per-column converters.

    The class attributes are what another database spells or converts differently (``postgres.py``
    subclasses this with its own)."""

    PLACEHOLDER: ClassVar[str] = "?"
    #: Each comparison operator with its bound parameter.
    COMPARISONS: ClassVar[Mapping[str, str]] = {op: f"{sql} ?" for op, sql in _SQL_OPERATORS.items()}
    TO_DB: ClassVar[Mapping[type, Callable[[Any], Any]]] = _TO_DB
    FROM_DB: ClassVar[Mapping[type, Callable[[Any], Any]]] = _FROM_DB

    def __init__(self, record_type: type[Record]) -> None:
        columns = columns_of(record_type)
        value_types = {column.name: column.type for column in columns}
        self.record_type = record_type
        #: Called with a row's values in field order: every SELECT lists the columns in that order.
        self.construct: Callable[..., Any] = record_type
        self.table: str = record_type.__tablename__
        self.columns = tuple(column.name for column in columns)
        self.column_set = frozenset(self.columns)
        self.key: tuple[str, ...] = record_type.__key__
        #: (position, converter) of each column SQLite cannot give as the field takes it.
        self._read_conversions = tuple(
            (index, self.FROM_DB[value_types[column]]) for index, column in enumerate(self.columns)
            if value_types[column] in self.FROM_DB
        )
        self._where_cache: dict[tuple[str, ...], str] = {}
        self.select = f"SELECT {', '.join(self.columns)} FROM {self.table}"
        #: The integer key SQLite generates (the rowid), if the table has one; inserts leave it out.
        self.generated_key: str | None = record_type.__generated_key__
        self.autoincrement = self.generated_key is not None
        insert_columns = tuple(c for c in self.columns if c != self.generated_key)
        self.insert_columns = insert_columns
        self._insert_getter = operator.attrgetter(*insert_columns)
        self._insert_conversions = _write_conversions([value_types[c] for c in insert_columns], self.TO_DB)
        self.insert = (
            f"INSERT INTO {self.table} ({', '.join(insert_columns)}) "
            f"VALUES ({', '.join(self.PLACEHOLDER for _ in insert_columns)})"
        )
        #: Every column, the generated key too (``replace_records`` keeps keys).
        self.insert_keyed = (
            f"INSERT INTO {self.table} ({', '.join(self.columns)}) VALUES ({', '.join(self.PLACEHOLDER for _ in self.columns)})"
        )
        self._keyed_getter = operator.attrgetter(*self.columns)
        self._keyed_conversions = _write_conversions([value_types[c] for c in self.columns], self.TO_DB)

    def record(self, row: Sequence[Any]) -> Any:
        if not self._read_conversions:
            return self.construct(*row)
        return self.construct(*self.converted(row))

    def converted(self, row: Sequence[Any]) -> Sequence[Any]:
        """A row's values as the record's fields take them (a page of a query converts thousands)."""
        if not self._read_conversions:
            return row
        return _converted(list(row), self._read_conversions)

    def values(self, record: Record) -> list[Any]:
        return _converted(list(self._insert_getter(record)), self._insert_conversions)

    def keyed_values(self, record: Record) -> list[Any]:
        """Every column's value, the generated key too (None: SQLite generates one)."""
        return _converted(list(self._keyed_getter(record)), self._keyed_conversions)

    def where(self, conditions: Conditions | None) -> tuple[str, list[Any]]:
        if not conditions:
            return "", []
        pairs = list(conditions.items()) if isinstance(conditions, Mapping) else list(conditions)
        shape = tuple(spec for spec, _ in pairs)
        clause = self._where_cache.get(shape)
        if clause is not None:
            return clause, [self.to_db(value) for _, value in pairs]
        conjunction, params = self.conjunction(pairs)
        clause = " WHERE " + conjunction
        if not any(spec.endswith(("__in", "__notin", "__isnull")) for spec in shape):
            # One bound parameter per condition: the clause depends on the field names alone.
            self._where_cache[shape] = clause
        return clause, params

    def conjunction(self, pairs: Sequence[tuple[str, Any]]) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        for spec, value in pairs:
            column, _, op = spec.partition("__")
            op = op or "eq"
            if column not in self.column_set:
                raise ValueError(f"{self.table} has no field {column!r}")
            if op not in OPERATORS:
                raise ValueError(f"unknown operator {op!r}")
            if op == "isnull":
                clauses.append(f"{column} IS NULL" if value else f"{column} IS NOT NULL")
            elif op in ("in", "notin"):
                negate = "NOT " if op == "notin" else ""
                if isinstance(value, Subquery):
                    inner = self.mapping_of(value.record_type)
                    if value.select not in inner.column_set:
                        raise ValueError(f"{inner.table} has no field {value.select!r}")
                    sub_clause, sub_params = inner.conjunction(
                        list(value.where.items()) if isinstance(value.where, Mapping) else list(value.where)
                    )
                    clauses.append(f"{column} {negate}IN (SELECT {value.select} FROM {inner.table} WHERE {sub_clause})")
                    params.extend(sub_params)
                    continue
                items = list(value)
                if not items:
                    clauses.append("1 = 1" if negate else "1 = 0")
                else:
                    clauses.append(f"{column} {negate}IN ({', '.join(self.PLACEHOLDER for _ in items)})")
                    params.extend(self.to_db(v) for v in items)
            else:
                clauses.append(f"{column} {self.COMPARISONS[op]}")
                params.append(self.to_db(value))
        return " AND ".join(clauses) if clauses else "1 = 1", params

    def to_db(self, value: Any) -> Any:
        convert = self.TO_DB.get(type(value))
        return value if convert is None else convert(value)

    def mapping_of(self, record_type: type[Any]) -> _Mapping:
        """The mapping of a subquery's record type."""
        return _MAPPINGS[record_type]

    def order(self, order_by: Sequence[str]) -> str:
        parts = []
        for item in order_by:
            column = item.lstrip("-")
            if column not in self.column_set:
                raise ValueError(f"{self.table} has no field {column!r}")
            parts.append(f"{column} DESC" if item.startswith("-") else column)
        return " ORDER BY " + ", ".join(parts) if parts else ""


def _write_conversions(
    value_types: Sequence[type], to_db: Mapping[type, Callable[[Any], Any]]
) -> tuple[tuple[int, Callable[[Any], Any]], ...]:
    """(position, converter) of each written column whose values the database cannot take as they are."""
    return tuple((index, to_db[t]) for index, t in enumerate(value_types) if t in to_db)


def _converted(row: list[Any], conversions: Sequence[tuple[int, Callable[[Any], Any]]]) -> list[Any]:
    for index, convert in conversions:
        if row[index] is not None:
            row[index] = convert(row[index])
    return row


_MAPPINGS: dict[type[Any], _Mapping] = {t: _Mapping(t) for t in ALL_RECORD_TYPES}


def sqlite_path(database_url: str) -> str:
    """``sqlite:///relative.db``, ``sqlite:////abs.db`` and ``sqlite://`` (memory) to a sqlite3 path."""
    if not database_url.startswith("sqlite:"):
        raise ValueError(f"not a SQLite URL: {database_url!r}")
    rest = database_url.removeprefix("sqlite:").removeprefix("//")
    if rest in ("", "/", "/:memory:"):
        return ":memory:"
    return rest.removeprefix("/")


class SqliteStore:
    def __init__(self, path: str, *, lightweight: bool = False) -> None:
        """``lightweight``: one of hundreds of small, disposable databases (a sandbox tenant's). No
        checkpoint thread (SQLite checkpoints the WAL itself during commits), no memory map (which
        would count each tenant's whole file in the process's resident memory), and no fsync: the
        data survive the process, not the machine, and opening or closing one never waits for a disk."""
        self.path = path
        # No busy timeout of SQLite's own: it sleeps 1, 2, 5, 10... ms between tries, each a stall of the event
        # loop, where the write lock another worker holds is free again within a tenth of that (``_sql``).
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=0)
        self._sql(f"PRAGMA synchronous = {'OFF' if lightweight else 'NORMAL'}")
        if not lightweight:
            self._sql("PRAGMA mmap_size = 268435456")
        self._checkpointer: _Checkpointer | None = None
        if path != ":memory:":
            self._sql("PRAGMA journal_mode = WAL")
            if not lightweight:
                # Checkpoints (the only writes that fsync) run on a background thread, not in a request.
                self._sql("PRAGMA wal_autocheckpoint = 0")
                self._checkpointer = _Checkpointer(path)
        self._lock = threading.RLock()
        self._depth = 0
        #: The thread whose write transaction is open, if one is.
        self._transaction_thread: int | None = None
        # A tenant keeps few pages: there are hundreds of tenants.
        self._cache = ReadCache(self._data_version, derived_limit=4 if lightweight else 32)

    # -- transactions -------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._sql("BEGIN IMMEDIATE")
            self._depth = 1
            self._transaction_thread = threading.get_ident()
            self._cache.transaction_began()
            try:
                yield
            except BaseException:
                self._depth, self._transaction_thread = 0, None
                self._cache.clear()  # whatever it kept while this transaction wrote: start again
                self._sql("ROLLBACK")
                raise
            self._depth, self._transaction_thread = 0, None
            self._sql("COMMIT")

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._sql(sql, params)

    def _sql(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """``execute``; while another connection holds the write lock, tried again after 50 us, then
        100, 200... (at most 2 ms apart, for ``BUSY_TIMEOUT`` seconds)."""
        try:
            return self._conn.execute(sql, params)
        except sqlite3.OperationalError as exc:
            if not _busy(exc):
                raise
        return _when_free(lambda: self._conn.execute(sql, params))

    def _sql_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            self._conn.executemany(sql, rows)
        except sqlite3.OperationalError as exc:
            if not _busy(exc):
                raise
            _when_free(lambda: self._conn.executemany(sql, rows))

    def _in_own_transaction(self) -> bool:
        return self._transaction_thread == threading.get_ident()

    def _data_version(self) -> int:
        """Changes whenever another connection commits (SQLite's ``PRAGMA data_version``)."""
        (version,) = self._sql("PRAGMA data_version").fetchone()
        return int(version)

    # -- records ------------------------------------------------------------------------------

    def get(self, record_type: type[R], **key: Any) -> R | None:
        mapping = _MAPPINGS[record_type]

        def read() -> tuple[Any, ...] | None:
            where, params = mapping.where(key)
            row = self._sql(mapping.select + where, params).fetchone()
            return None if row is None else tuple(mapping.converted(row))

        values = self._kept_or_read(record_type, tuple(key.items()), read)
        return None if values is None else mapping.construct(*values)

    def find(
        self,
        record_type: type[R],
        where: Conditions | None = None,
        *,
        order_by: Sequence[str] = (),
        limit: int | None = None,
        offset: int = 0,
    ) -> list[R]:
        mapping = _MAPPINGS[record_type]
        clause, params = mapping.where(where)
        sql = mapping.select + clause + mapping.order(order_by)
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [limit, offset]
        with self._lock:
            rows = self._sql(sql, params).fetchall()
        return [mapping.record(row) for row in rows]

    def count(self, record_type: type[Any], where: Conditions | None = None, *, at_most: int | None = None) -> int:
        mapping = _MAPPINGS[record_type]
        clause, params = mapping.where(where)
        sql = f"SELECT COUNT(*) FROM {mapping.table}" + clause
        if at_most is not None:
            sql = f"SELECT COUNT(*) FROM (SELECT 1 FROM {mapping.table}{clause} LIMIT ?)"
            params = [*params, at_most]
        with self._lock:
            (total,) = self._sql(sql, params).fetchone()
        return int(total)

    def insert(self, record: R) -> R:
        mapping = _MAPPINGS[type(record)]
        with self._lock:
            self._cache.written(type(record))
            cursor = self._sql(mapping.insert, mapping.values(record))
        if mapping.generated_key is not None:
            setattr(record, mapping.generated_key, cursor.lastrowid)
        return record

    def insert_many(self, records: Sequence[Record]) -> None:
        by_type: dict[type[Any], list[Record]] = {}
        for record in records:
            by_type.setdefault(type(record), []).append(record)
        with self.transaction():
            for record_type, group in by_type.items():
                mapping = _MAPPINGS[record_type]
                self._cache.written(record_type)
                if not mapping.autoincrement:
                    # In key order, each insert appends to the primary-key B-tree instead of splitting
                    # a random page: a bulk load of random UUIDs runs several times faster.
                    group = sorted(group, key=operator.attrgetter(*mapping.key))
                self._sql_many(mapping.insert, [mapping.values(r) for r in group])

    def update(self, record_type: type[Any], where: Conditions, changes: Mapping[str, Any]) -> int:
        mapping = _MAPPINGS[record_type]
        for column in changes:
            if column not in mapping.column_set:
                raise ValueError(f"{mapping.table} has no field {column!r}")
        clause, params = mapping.where(where)
        assignments = ", ".join(f"{c} = ?" for c in changes)
        values = [_to_db(v) for v in changes.values()]
        with self._lock:
            self._cache.written(record_type)
            cursor = self._sql(f"UPDATE {mapping.table} SET {assignments}{clause}", values + params)
        return cursor.rowcount

    def delete(self, record_type: type[Any], where: Conditions | None = None) -> int:
        mapping = _MAPPINGS[record_type]
        clause, params = mapping.where(where)
        with self._lock:
            self._cache.written(record_type)
            return self._sql(f"DELETE FROM {mapping.table}{clause}", params).rowcount

    # -- bookkeeping --------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        def read() -> str | None:
            row = self._sql("SELECT value FROM store_meta WHERE key = ?", (key,)).fetchone()
            return None if row is None else str(row[0])

        value: str | None = self._kept_or_read(_META, key, read)
        return value

    def _kept_or_read(self, kind: Kind, key: Hashable, read: Callable[[], Any]) -> Any:
        """What the read cache keeps for ``key``, else ``read()`` (kept, unless read inside a transaction:
        a row read there may be one it wrote, and may roll back)."""
        if not self._in_own_transaction():
            kept = self._cache.peek(kind, key)
            if kept is not MISSING:
                return kept
        with self._lock:
            kept = self._cache.lookup(kind, key, in_transaction=self._depth > 0)
            if kept is not MISSING:
                return kept
            fresh = read()
            if not self._depth:
                self._cache.keep(kind, key, fresh)
            return fresh

    def remembered(self, key: Hashable, depends_on: Iterable[type[Any]], compute: Callable[[], T]) -> T:
        if not self._in_own_transaction():
            kept = self._cache.peek(DERIVED, key)
            if kept is not MISSING:
                return cast(T, kept)
        with self._lock:
            kept = self._cache.lookup(DERIVED, key, in_transaction=self._depth > 0)
            if kept is not MISSING:
                return cast(T, kept)
            generation = self._cache.generation
        value = compute()  # not under the lock: the job runner's transactions need not wait for it
        with self._lock:
            if not self._depth:
                self._cache.keep_derived(key, depends_on, value, generation=generation)
        return value

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction():
            self._cache.written(_META, key)
            self._execute("DELETE FROM store_meta WHERE key = ?", (key,))
            self._execute("INSERT INTO store_meta (key, value) VALUES (?, ?)", (key, value))

    def create_schema(self, *, check_version: bool = True) -> None:
        """Create missing tables. Skips the DDL compiler (and its SQLAlchemy import) when all exist."""
        expected = {m.table for m in _MAPPINGS.values()} | {"store_meta"}
        rows = self._execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        existing = {row[0] for row in rows}
        stale: set[str] = set()
        if existing & (expected - {"store_meta"}):
            version = self.get_meta(SCHEMA_VERSION_KEY) if "store_meta" in existing else None
            if version == SCHEMA_VERSION and expected <= existing:
                return
            if check_version:
                raise StoreError(
                    f"the database {self.path} holds schema version {version}, this zstack-mock uses "
                    f"{SCHEMA_VERSION}: start once with --reset to recreate it"
                )
            stale = existing & set(_table_names())
        with self.transaction():
            self._cache.clear()
            for table in stale:
                self._execute(f"DROP TABLE {table}")
            for statement in _ddl():
                self._execute(statement)
            self.set_meta(SCHEMA_VERSION_KEY, SCHEMA_VERSION)

    def replace_records(self, record_types: Sequence[type[Any]], records: Sequence[Record]) -> None:
        by_type: dict[type[Any], list[Record]] = {t: [] for t in record_types}
        for record in records:
            if type(record) not in by_type:
                raise ValueError(f"{type(record).__name__} is not among the tables being replaced")
            by_type[type(record)].append(record)
        with self.transaction():
            for record_type, group in by_type.items():
                mapping = _MAPPINGS[record_type]
                self._cache.written(record_type)
                self._execute(f"DELETE FROM {mapping.table}")
                if not group:
                    continue
                if not mapping.autoincrement:
                    group.sort(key=operator.attrgetter(*mapping.key))  # appends to the B-tree, as insert_many
                self._sql_many(mapping.insert_keyed, [mapping.keyed_values(r) for r in group])

    def replace_inventory(self, records: Sequence[Record]) -> None:
        """Drop every table, recreate the schema and insert ``records``, in one transaction.

        Secondary indexes are built after the rows are in: one sort per index instead of a
        B-tree insert at a random place per row.
        """
        statements = _ddl()
        indexes = [s for s in statements if s.startswith("CREATE") and " INDEX " in s.split("(", 1)[0]]
        with self.transaction():
            self._cache.clear()
            for table in _table_names():
                self._execute(f"DROP TABLE IF EXISTS {table}")
            for statement in statements:
                if statement not in indexes:
                    self._execute(statement)
            self.set_meta(SCHEMA_VERSION_KEY, SCHEMA_VERSION)
            self.insert_many(records)
            for statement in indexes:
                self._execute(statement)

    def copy_to(self, path: str) -> None:
        """Write a copy of the whole database to a new file at ``path`` (SQLite's online backup)."""
        target = sqlite3.connect(path, isolation_level=None)
        try:
            target.execute("PRAGMA synchronous = OFF")
            with self._lock:
                self._conn.backup(target)
        finally:
            target.close()

    def copy_into(self, other: SqliteStore) -> None:
        """Overwrite ``other``'s whole database with a copy of this one (an in-memory tenant)."""
        with self._lock, other._lock:
            other._cache.clear()  # the backup writes through other's own connection: no data_version change
            self._conn.backup(other._conn)

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        with self._lock:
            self._conn.close()


class _Checkpointer:
    """Copies the WAL back into the database file every ``interval`` seconds, on its own connection.

    A passive checkpoint never waits for writers, and sqlite3 releases the GIL while it works, so
    the request path never pays for the fsync.
    """

    def __init__(self, path: str, interval: float = 0.5) -> None:
        self._path = path
        self._interval = interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="zstack-mock-checkpointer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            while not self._stopped.wait(self._interval):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:
                    continue
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            conn.close()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)


def _busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == _SQLITE_BUSY and code != _SQLITE_BUSY_SNAPSHOT


def _when_free(attempt: Callable[[], T]) -> T:
    deadline = time.monotonic() + BUSY_TIMEOUT
    delay = 0.00005
    while True:
        time.sleep(delay)
        try:
            return attempt()
        except sqlite3.OperationalError as exc:
            if not _busy(exc) or time.monotonic() > deadline:
                raise
        delay = min(delay * 2, 0.002)


def _table_names() -> list[str]:
    return ["store_meta", *(m.table for m in _MAPPINGS.values())]


#: The DDL compiled from the SQLModel tables (``app.store.ddl``), committed so that start-up does not
#: import SQLAlchemy's compiler; ``make schema`` rewrites it and a test fails when it is stale.
SCHEMA_FILE = Path(__file__).with_name("schema_sqlite.sql")


def _ddl() -> list[str]:
    return [s.strip() for s in SCHEMA_FILE.read_text(encoding="utf-8").split(";\n") if s.strip()]
