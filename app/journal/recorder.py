"""The request journal: entries buffered in memory, written to the store in batches, bounded.

A request only appends its ``Exchange`` to a deque (well under a microsecond). A writer thread
wakes when the first entry of a batch arrives, waits ``batch_interval`` (10 ms) for more, then turns
the batch into entries and writes them in one transaction, dropping the oldest beyond ``size`` in
the same transaction. sqlite3 releases the GIL while it writes, so on a machine with two cores most
of that work runs beside the event loop rather than in a request's latency.

Reads flush first: ``flush()`` writes whatever this process holds before ``GET /_mock/requests``
answers, so a test always sees its own requests. Entries another process holds are written within
``batch_interval`` of their answer; until then that process's journal is slightly behind.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime

from app.domain.context import Context
from app.journal.exchange import Exchange, journal_entry
from app.store.records import JournalEntry

logger = logging.getLogger("zstack_mock.journal")


class Journal:
    def __init__(
        self,
        context: Callable[[], Context],
        *,
        size: int,
        batch_interval: float = 0.01,
        batch_limit: int = 512,
    ) -> None:
        #: Asked on every write, so that a context replaced while the server runs (a test's clock) is used.
        self._context = context
        #: Entries kept in the store; 0 disables the journal.
        self.size = size
        self._batch_interval = batch_interval
        self._batch_limit = batch_limit
        self._pending: deque[Exchange] = deque()
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        return self.size > 0

    def now(self) -> datetime:
        return self._context().clock.now()

    def start(self) -> None:
        if self.enabled and self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="zstack-mock journal", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the writer and write what is left."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.flush()

    def record(self, exchange: Exchange) -> None:
        pending = self._pending
        pending.append(exchange)
        if len(pending) == 1:
            self._wake.set()
        elif len(pending) >= self._batch_limit and self._thread is None:
            self.flush()  # no writer thread (an app used without its lifespan): stay bounded

    def flush(self) -> int:
        """Write every buffered entry now; returns how many were written."""
        written = 0
        with self._write_lock:
            while self._pending:
                batch = [self._pending.popleft() for _ in range(min(len(self._pending), self._batch_limit))]
                self._write(batch)
                written += len(batch)
        return written

    def clear(self) -> int:
        """Forget every entry, buffered or stored; returns how many there were."""
        with self._write_lock:
            buffered = len(self._pending)
            self._pending.clear()
            return buffered + self._context().store.delete(JournalEntry)

    def _write(self, batch: list[Exchange]) -> None:
        entries = []
        for exchange in batch:
            try:
                entries.append(journal_entry(exchange))
            except Exception:  # one odd request must not cost the others their entries
                logger.exception("cannot journal %s %s", exchange.method, exchange.path)
        if not entries:
            return
        store = self._context().store
        with store.transaction():
            store.insert_many(entries)
            newest = store.find(JournalEntry, order_by=["-id"], limit=1)
            if newest and newest[0].id is not None and newest[0].id > self.size:
                store.delete(JournalEntry, {"id__le": newest[0].id - self.size})

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait()
            self._wake.clear()
            # Gather what arrives within one interval into the same transaction.
            if self._stopping.wait(self._batch_interval):
                return
            try:
                self.flush()
            except Exception:
                logger.exception("writing the request journal failed; retrying")
                self._stopping.wait(0.25)
                self._wake.set()
