"""Rows read by key, kept by a ``SqliteStore`` until the database changes under them.

A create reads five records and two ``store_meta`` values by key, each a statement and a record built
from converted columns. Most of them (the session, its account, the backup, the storage, the fault
rules' version) change far less often than they are read, so the store keeps what it read, as
converted column values, and builds a fresh record from them on each hit (a caller may change the
record it gets without changing the cache).

What is kept is exact, never a guess with a time-to-live:

* a write through this store drops what it kept of the record type it writes (of the key, for
  ``store_meta``); a row read inside a write transaction is not kept (it may be one the transaction
  wrote, and may roll back), and a rolled-back transaction drops everything;
* a write by any other connection (another worker, another replica process) is seen through SQLite's
  ``PRAGMA data_version``, which changes when another connection commits: the store reads it before
  trusting a kept row, and drops everything when it moved. Inside this store's own write transaction
  it is read once, at the transaction's first kept read; on an event loop, once a turn of the loop
  (``ReadCache._make_current`` says why that misses no commit a client could know of).

The cache holds at most ``limit`` rows; past that it starts again, so reads of ever new keys (a
client naming random UUIDs) cannot grow it.

It also keeps values derived from rows (``SqliteStore.remembered``: a query's rendered page), each with
the record types it was computed from: a write of one of them drops it, as a write drops a row, and
so does anything that drops every row. There are at most ``derived_limit`` of them (pages are large).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Iterable
from typing import Any

#: What rows are kept under: a record type, or ``"store_meta"``.
Kind = type[Any] | str

#: What the cache returns for a key it does not hold (None is a kept answer: no such row).
MISSING: Any = object()
#: The kind derived values are kept under.
DERIVED = "derived"


class ReadCache:
    def __init__(self, data_version: Callable[[], int], *, limit: int = 10_000, derived_limit: int = 32) -> None:
        self._data_version = data_version
        self._version: int | None = None
        self._limit = limit
        self._size = 0
        #: Kept rows by record type (``store_meta`` under ``str``, derived values under ``DERIVED``), then by key.
        self._rows: dict[Kind, dict[Hashable, Any]] = {}
        self._derived_limit = derived_limit
        #: The keys of the derived values computed from each record type.
        self._derived_from: dict[Kind, set[Hashable]] = {}
        #: Moves whenever something kept is dropped: a value derived across it is not kept.
        self.generation = 0
        #: Whether the version was read since this store's write transaction began.
        self._verified_in_transaction = False
        #: The event loop whose current turn the last check holds for.
        self._checked_on: asyncio.AbstractEventLoop | None = None

    def lookup(self, kind: Kind, key: Hashable, *, in_transaction: bool) -> Any:
        """The kept row (or None, a kept miss), or ``MISSING``. Call ``keep`` with what the database
        answers next, before anything else reads or writes (the caller holds the store's lock)."""
        self._make_current(in_transaction)
        return self._kept(kind, key)

    def peek(self, kind: Kind, key: Hashable) -> Any:
        """The kept row if the version was checked in this turn of the running event loop, else ``MISSING``;
        without the store's lock, so that a read the cache answers does not wait for a transaction the
        job runner's thread holds (the row is what was committed before it). Not for a thread inside its
        own write transaction: that reads the database's rows (``lookup``)."""
        if self._checked_on is None or self._checked_on is not _running_loop():
            return MISSING
        return self._kept(kind, key)

    def _kept(self, kind: Kind, key: Hashable) -> Any:
        rows = self._rows.get(kind)
        return MISSING if rows is None else rows.get(key, MISSING)

    def keep(self, kind: Kind, key: Hashable, row: Any) -> None:
        """Keep what the database answered for the key ``lookup`` just missed."""
        if self._size >= self._limit:
            self.clear()
        rows = self._rows.setdefault(kind, {})
        if key not in rows:
            self._size += 1
        rows[key] = row

    def keep_derived(self, key: Hashable, depends_on: Iterable[Kind], value: Any, *, generation: int) -> None:
        """Keep a value computed from rows of ``depends_on``, unless something was dropped since
        ``generation`` (read before the computation began): it may have read rows from before and after."""
        if generation != self.generation:
            return
        derived = self._rows.setdefault(DERIVED, {})
        if len(derived) >= self._derived_limit:
            self._drop_derived()
            derived = self._rows.setdefault(DERIVED, {})
        derived[key] = value
        for kind in depends_on:
            self._derived_from.setdefault(kind, set()).add(key)

    def written(self, kind: Kind, key: Hashable = MISSING) -> None:
        """This store wrote rows of ``kind`` (just the one of ``key``, when given)."""
        self.generation += 1
        derived_keys = self._derived_from.pop(kind, None)
        if derived_keys:
            derived = self._rows.get(DERIVED, {})
            for derived_key in derived_keys:
                derived.pop(derived_key, None)
        rows = self._rows.get(kind)
        if rows is None:
            return
        if key is MISSING:
            self._size -= len(rows)
            del self._rows[kind]
        elif rows.pop(key, MISSING) is not MISSING:
            self._size -= 1

    def clear(self) -> None:
        self.generation += 1
        self._rows.clear()
        self._derived_from.clear()
        self._size = 0

    def _drop_derived(self) -> None:
        self.generation += 1
        self._rows.pop(DERIVED, None)
        self._derived_from.clear()

    def transaction_began(self) -> None:
        self._verified_in_transaction = False

    def _make_current(self, in_transaction: bool) -> None:
        """Drop every kept row if another connection committed since the version was last read.

        A row read after this call is kept under the version read here: if another connection commits
        after it, the next check sees the version move and drops it. Inside a write transaction the
        version is read at the first kept read (no other connection can commit until it ends): a
        read-modify-write there (a rule's counters) always starts from the database's rows.

        Outside one, on an event loop, a check holds until the loop's next turn (``call_soon``): the
        reads of one stretch of a request, and of the requests already running beside it, share it.
        That loses nothing: a request whose bytes arrive after the check is started by a callback queued
        after the one that ends the check's turn (both loops run callbacks in the order they were
        queued), so its reads check anew, and a commit another process made before it sent its answer
        is seen by every request its client sends after reading that answer.
        """
        if in_transaction:
            if self._verified_in_transaction:
                return
            self._verified_in_transaction = True
        else:
            loop = _running_loop()
            if loop is not None:
                if loop is self._checked_on:
                    return
                self._checked_on = loop
                loop.call_soon(self._turn_ended)
        version = self._data_version()
        if version != self._version:
            self.clear()
            self._version = version

    def _turn_ended(self) -> None:
        self._checked_on = None


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # a thread with no loop (the job runner): every read checks
        return None
