"""What the SQL stores share: the mapping of record types to tables, and everything a store does the same
way whatever the database (reads through the read cache, derived values, conditions, updates, deletes).

``SqlStore`` holds that; ``SqliteStore`` (``sqlite.py``) and ``PostgresStore`` (``postgres.py``) add the
connection, transactions, inserts and bulk loads, the schema, and their database's spelling of the SQL
(a ``TableMapping`` subclass each).
"""

from __future__ import annotations

import operator
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar, cast

from .base import OPERATORS, Conditions, Subquery
from .columns import columns_of
from .read_cache import DERIVED, MISSING, Kind, ReadCache
from .records import Record

R = TypeVar("R", bound=Record)
T = TypeVar("T")

#: The kind under which the read cache keeps ``store_meta`` values (record types are the other kinds).
META = "store_meta"

#: Bumped whenever a table changes; a database of another version must be reset.
SCHEMA_VERSION = "5"
SCHEMA_VERSION_KEY = "schema_version"

SQL_OPERATORS = {
    "eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<=", "like": "LIKE", "notlike": "NOT LIKE",
}


class StoreError(Exception):
    """The database cannot be used as it is; the message says what to do."""


class StoreGone(StoreError):
    """The database was deleted under this store by another process: an evicted sandbox tenant's."""


class TableMapping:
    """How one record type maps to its table, all derived from its SQLModel table once: the columns
    (in the record's field order), the key, and per-column converters.

    The class attributes are what each database spells or converts its own way: each store's module
    subclasses this with its own, and ``ALL`` holds the subclass's mapping of every record type."""

    PLACEHOLDER: ClassVar[str]
    #: Each comparison operator with its bound parameter.
    COMPARISONS: ClassVar[Mapping[str, str]]
    #: Write converters, by the Python type of the value.
    TO_DB: ClassVar[Mapping[type, Callable[[Any], Any]]]
    #: Read converters, by the Python type of the column (never given None).
    FROM_DB: ClassVar[Mapping[type, Callable[[Any], Any]]]
    ALL: ClassVar[Mapping[type[Any], TableMapping]]
    #: How ``order`` sorts a column (where NULLs go differs between databases).
    ASCENDING: ClassVar[str] = "{}"
    DESCENDING: ClassVar[str] = "{} DESC"

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
        #: (position, converter) of each column the database cannot give as the field takes it.
        self._read_conversions = tuple(
            (index, self.FROM_DB[value_types[column]]) for index, column in enumerate(self.columns)
            if value_types[column] in self.FROM_DB
        )
        self._where_cache: dict[tuple[str, ...], str] = {}
        self.select = f"SELECT {', '.join(self.columns)} FROM {self.table}"
        #: The integer key the database generates (SQLite's rowid), if the table has one; inserts leave it out.
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
        """Every column's value, the generated key too (None: the database generates one)."""
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

    @classmethod
    def to_db(cls, value: Any) -> Any:
        convert = cls.TO_DB.get(type(value))
        return value if convert is None else convert(value)

    def mapping_of(self, record_type: type[Any]) -> TableMapping:
        """The mapping of a subquery's record type."""
        return self.ALL[record_type]

    def order(self, order_by: Sequence[str]) -> str:
        parts = []
        for item in order_by:
            column = item.lstrip("-")
            if column not in self.column_set:
                raise ValueError(f"{self.table} has no field {column!r}")
            parts.append((self.DESCENDING if item.startswith("-") else self.ASCENDING).format(column))
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



class _Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class SqlStore:
    """The part of a ``Store`` that is the same SQL on every database.

    A subclass opens its connection, then calls ``_start`` with its read cache's size, and provides
    ``_begin``, ``_commit`` and ``_rollback`` (the statements of ``transaction``), ``_statement`` (runs one,
    the caller holding the lock), ``_writing`` (around a write statement), ``_existing_tables``, ``set_meta``
    and ``_data_version``."""

    #: The database's spelling; ``MAPPING.ALL`` maps every record type.
    MAPPING: ClassVar[type[TableMapping]]
    #: What messages name the database by.
    path: str
    #: The database's DDL, compiled from the SQLModel tables and committed (``make schema``).
    SCHEMA_FILE: ClassVar[Path]
    #: The store's own tables besides the records': the meta rows (and, on PostgreSQL, the data version).
    BOOKKEEPING_TABLES: ClassVar[frozenset[str]] = frozenset({"store_meta"})

    def _start(self, *, derived_limit: int) -> None:
        self._lock = threading.RLock()
        self._depth = 0
        #: The thread whose write transaction is open, if one is.
        self._transaction_thread: int | None = None
        self._cache = ReadCache(self._data_version, derived_limit=derived_limit)

    # -- transactions ---------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction of this store's; a nested call joins the outer one."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._begin()
            self._depth = 1
            self._transaction_thread = threading.get_ident()
            self._cache.transaction_began()
            try:
                yield
                self._depth, self._transaction_thread = 0, None
                self._commit()
            except BaseException:
                self._depth, self._transaction_thread = 0, None
                self._cache.clear()  # whatever it kept while this transaction wrote: start again
                self._rollback()
                raise

    # -- what each database does its own way ---------------------------------------------------

    def _begin(self) -> None:
        """Start a write transaction that no other connection's write runs beside."""
        raise NotImplementedError

    def _commit(self) -> None:
        raise NotImplementedError

    def _rollback(self) -> None:
        raise NotImplementedError

    def _statement(self, sql: str, params: Sequence[Any]) -> _Cursor:
        raise NotImplementedError

    def _writing(self, kind: Kind, key: Hashable = MISSING) -> AbstractContextManager[None]:
        """Around one write statement: the cache forgets what it changes."""
        raise NotImplementedError

    def set_meta(self, key: str, value: str) -> None:
        raise NotImplementedError

    def _existing_tables(self) -> set[str]:
        """The tables the database holds (in this store's schema)."""
        raise NotImplementedError

    def _data_version(self) -> int:
        """Changes whenever another connection commits (SQLite's ``PRAGMA data_version``)."""
        raise NotImplementedError

    # -- records ------------------------------------------------------------------------------

    def _in_own_transaction(self) -> bool:
        return self._transaction_thread == threading.get_ident()

    def get(self, record_type: type[R], **key: Any) -> R | None:
        mapping = self.MAPPING.ALL[record_type]

        def read() -> tuple[Any, ...] | None:
            where, params = mapping.where(key)
            row = self._statement(mapping.select + where, params).fetchone()
            return None if row is None else tuple(mapping.converted(row))

        values = self._kept_or_read(record_type, tuple(key.items()), read)
        return None if values is None else cast(R, mapping.construct(*values))

    def find(
        self,
        record_type: type[R],
        where: Conditions | None = None,
        *,
        order_by: Sequence[str] = (),
        limit: int | None = None,
        offset: int = 0,
    ) -> list[R]:
        mapping = self.MAPPING.ALL[record_type]
        clause, params = mapping.where(where)
        sql = mapping.select + clause + mapping.order(order_by)
        if limit is not None:
            sql += f" LIMIT {mapping.PLACEHOLDER} OFFSET {mapping.PLACEHOLDER}"
            params += [limit, offset]
        with self._lock:
            rows = self._statement(sql, params).fetchall()
        return [mapping.record(row) for row in rows]

    def count(self, record_type: type[Any], where: Conditions | None = None, *, at_most: int | None = None) -> int:
        mapping = self.MAPPING.ALL[record_type]
        clause, params = mapping.where(where)
        sql = f"SELECT COUNT(*) FROM {mapping.table}" + clause
        if at_most is not None:
            sql = f"SELECT COUNT(*) FROM (SELECT 1 FROM {mapping.table}{clause} LIMIT {mapping.PLACEHOLDER}) AS counted"
            params = [*params, at_most]
        with self._lock:
            row = self._statement(sql, params).fetchone()
        return 0 if row is None else int(row[0])

    def update(self, record_type: type[Any], where: Conditions, changes: Mapping[str, Any]) -> int:
        mapping = self.MAPPING.ALL[record_type]
        for column in changes:
            if column not in mapping.column_set:
                raise ValueError(f"{mapping.table} has no field {column!r}")
        clause, params = mapping.where(where)
        assignments = ", ".join(f"{c} = {mapping.PLACEHOLDER}" for c in changes)
        values = [mapping.to_db(v) for v in changes.values()]
        with self._writing(record_type):
            rowcount: int = self._statement(f"UPDATE {mapping.table} SET {assignments}{clause}", values + params).rowcount
        return rowcount

    def delete(self, record_type: type[Any], where: Conditions | None = None) -> int:
        mapping = self.MAPPING.ALL[record_type]
        clause, params = mapping.where(where)
        with self._writing(record_type):
            rowcount: int = self._statement(f"DELETE FROM {mapping.table}{clause}", params).rowcount
        return rowcount

    @staticmethod
    def _by_type(record_types: Sequence[type[Any]], records: Sequence[Record]) -> dict[type[Any], list[Record]]:
        """``replace_records``' records grouped by type, every one of a type being replaced."""
        by_type: dict[type[Any], list[Record]] = {t: [] for t in record_types}
        for record in records:
            if type(record) not in by_type:
                raise ValueError(f"{type(record).__name__} is not among the tables being replaced")
            by_type[type(record)].append(record)
        return by_type

    # -- bookkeeping --------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        mapping = self.MAPPING

        def read() -> str | None:
            row = self._statement(f"SELECT value FROM store_meta WHERE key = {mapping.PLACEHOLDER}",
                                  (mapping.to_db(key),)).fetchone()
            return None if row is None else str(row[0])

        value: str | None = self._kept_or_read(META, key, read)
        return value

    # -- the schema -------------------------------------------------------------------------------

    @classmethod
    def ddl(cls) -> list[str]:
        return [s.strip() for s in cls.SCHEMA_FILE.read_text(encoding="utf-8").split(";\n") if s.strip()]

    @classmethod
    def emptied_tables(cls) -> list[str]:
        """The tables a new inventory replaces: the records' and the meta rows."""
        return ["store_meta", *(m.table for m in cls.MAPPING.ALL.values())]

    def create_schema(self, *, check_version: bool = True) -> None:
        """Create the tables that are missing. A database of another schema version is refused, or
        without ``check_version`` its tables are dropped and created anew."""
        inventory = {m.table for m in self.MAPPING.ALL.values()}
        existing = self._existing_tables()
        stale: set[str] = set()
        if existing & inventory:
            version = self.get_meta(SCHEMA_VERSION_KEY) if "store_meta" in existing else None
            if version == SCHEMA_VERSION and inventory | self.BOOKKEEPING_TABLES <= existing:
                return
            if version != SCHEMA_VERSION:
                if check_version:
                    raise StoreError(
                        f"the database {self.path} holds schema version {version}, this zstack-mock uses "
                        f"{SCHEMA_VERSION}: start once with --reset to recreate it"
                    )
                stale = existing & set(self.emptied_tables())
        with self.transaction():
            self._cache.clear()
            for table in stale:
                self._statement(f"DROP TABLE {table}", ())
            for statement in self.ddl():
                self._statement(statement, ())
            self.set_meta(SCHEMA_VERSION_KEY, SCHEMA_VERSION)

    def meta_items(self) -> dict[str, str]:
        """Every ``store_meta`` row."""
        with self._lock:
            rows = self._statement("SELECT key, value FROM store_meta", ()).fetchall()
        return {str(key): str(value) for key, value in rows}

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
