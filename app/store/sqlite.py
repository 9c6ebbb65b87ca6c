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
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from .read_cache import MISSING, Kind
from .records import ALL_RECORD_TYPES, Record
from .sql import META, SCHEMA_VERSION, SCHEMA_VERSION_KEY, SQL_OPERATORS, SqlStore, TableMapping

R = TypeVar("R", bound=Record)
T = TypeVar("T")

#: How long a statement waits for another process's write lock before it fails.
BUSY_TIMEOUT = 30.0
#: SQLite's result codes for a lock held by another connection (and the one retrying cannot cure).
_SQLITE_BUSY = 5
_SQLITE_BUSY_SNAPSHOT = 517


def _datetime_to_db(value: datetime) -> str:
    """ISO 8601 in UTC with a fixed ``+00:00`` suffix: sorts as text and reads back aware."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")


#: Values of these types are stored as text (datetimes) or 0/1 (booleans); the rest as they are.
_TO_DB: dict[type, Callable[[Any], Any]] = {datetime: _datetime_to_db, bool: int}
#: Read converters, by the Python type of the column (never given None).
_FROM_DB: dict[type, Callable[[Any], Any]] = {datetime: datetime.fromisoformat, bool: bool}


class SqliteMapping(TableMapping):
    PLACEHOLDER: ClassVar[str] = "?"
    COMPARISONS: ClassVar[Mapping[str, str]] = {op: f"{sql} ?" for op, sql in SQL_OPERATORS.items()}
    TO_DB: ClassVar[Mapping[type, Callable[[Any], Any]]] = _TO_DB
    FROM_DB: ClassVar[Mapping[type, Callable[[Any], Any]]] = _FROM_DB


_MAPPINGS: dict[type[Any], SqliteMapping] = {t: SqliteMapping(t) for t in ALL_RECORD_TYPES}
SqliteMapping.ALL = _MAPPINGS


def sqlite_path(database_url: str) -> str:
    """``sqlite:///relative.db``, ``sqlite:////abs.db`` and ``sqlite://`` (memory) to a sqlite3 path."""
    if not database_url.startswith("sqlite:"):
        raise ValueError(f"not a SQLite URL: {database_url!r}")
    rest = database_url.removeprefix("sqlite:").removeprefix("//")
    if rest in ("", "/", "/:memory:"):
        return ":memory:"
    return rest.removeprefix("/")


#: The DDL compiled from the SQLModel tables (``app.store.ddl``), committed so that start-up does not
#: import SQLAlchemy's compiler; ``make schema`` rewrites it and a test fails when it is stale.
SCHEMA_FILE = Path(__file__).with_name("schema_sqlite.sql")


class SqliteStore(SqlStore):
    MAPPING = SqliteMapping
    SCHEMA_FILE = SCHEMA_FILE

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
        self._start(derived_limit=4 if lightweight else 32)  # a tenant keeps few pages: there are hundreds

    # -- transactions -------------------------------------------------------------------------

    def _begin(self) -> None:
        self._sql("BEGIN IMMEDIATE")

    def _commit(self) -> None:
        self._sql("COMMIT")

    def _rollback(self) -> None:
        self._sql("ROLLBACK")

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

    def _data_version(self) -> int:
        """Changes whenever another connection commits (SQLite's ``PRAGMA data_version``)."""
        (version,) = self._sql("PRAGMA data_version").fetchone()
        return int(version)

    def _statement(self, sql: str, params: Sequence[Any]) -> sqlite3.Cursor:
        return self._sql(sql, params)

    @contextmanager
    def _writing(self, kind: Kind, key: Hashable = MISSING) -> Iterator[None]:
        with self._lock:
            self._cache.written(kind, key)
            yield

    # -- records ------------------------------------------------------------------------------

    def insert(self, record: R) -> R:
        mapping = _MAPPINGS[type(record)]
        with self._writing(type(record)):
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

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction():
            self._cache.written(META, key)
            self._execute("DELETE FROM store_meta WHERE key = ?", (key,))
            self._execute("INSERT INTO store_meta (key, value) VALUES (?, ?)", (key, value))

    def _existing_tables(self) -> set[str]:
        rows = self._execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        return {str(row[0]) for row in rows}

    def replace_records(self, record_types: Sequence[type[Any]], records: Sequence[Record]) -> None:
        by_type = self._by_type(record_types, records)
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
        statements = self.ddl()
        indexes = [s for s in statements if s.startswith("CREATE") and " INDEX " in s.split("(", 1)[0]]
        with self.transaction():
            self._cache.clear()
            for table in self.emptied_tables():
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

