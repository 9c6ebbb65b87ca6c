"""The request journal: entries buffered in memory, written to the store in batches, bounded.

A request only appends its ``Exchange`` to a deque (well under a microsecond). The first entry of a
batch schedules a write ``batch_interval`` (20 ms) later on the event loop; that write turns the
batch into entries and stores them in one transaction, dropping the oldest beyond ``size`` in the
same transaction. Under load a batch holds tens of entries, so the journal costs one commit per
interval instead of one per request.

The writes run on the event loop, not on a thread of their own: sqlite3 releases the GIL for every
row it steps, and a thread taking the GIL back waits for the loop's switch interval each time, so a
writer thread holding the store's lock stalled requests more than the write itself costs.

Reads flush first: ``flush()`` writes whatever this process holds before ``GET /_mock/requests``
answers, so a test always sees its own requests. Entries another process holds are written within
``batch_interval`` of their answer; until then that process's journal is slightly behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from datetime import datetime

from ..domain.context import Context
from ..store.records import JournalEntry
from .exchange import ENTRY_BYTES, Exchange, journal_entry

logger = logging.getLogger("zstack_mock.journal")


class Journal:
    def __init__(
        self,
        context: Callable[[], Context],
        *,
        size: int,
        entry_bytes: int = ENTRY_BYTES,
        batch_interval: float = 0.02,
        batch_limit: int = 512,
    ) -> None:
        #: Asked on every write, so that a context replaced while the server runs (a test's clock) is used.
        self._context = context
        #: Entries kept in the store; 0 disables the journal.
        self.size = size
        #: Bytes of headers and body an entry keeps at most.
        self.entry_bytes = entry_bytes
        self._batch_interval = batch_interval
        self._batch_limit = batch_limit
        self._pending: deque[Exchange] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_loop: asyncio.AbstractEventLoop | None = None

    @property
    def enabled(self) -> bool:
        return self.size > 0

    def now(self) -> datetime:
        return self._context().clock.now()

    def stop(self) -> None:
        """Write what is left (the app's shutdown)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.flush()

    def record(self, exchange: Exchange) -> None:
        """Called on the event loop by the middleware."""
        pending = self._pending
        pending.append(exchange)
        if len(pending) >= self._batch_limit:
            self.flush()
        else:
            loop = asyncio.get_running_loop()
            # A timer left on another loop (a test client's, closed since) never fires: schedule anew.
            if self._timer is None or self._timer_loop is not loop:
                self._timer = loop.call_later(self._batch_interval, self._write_due)
                self._timer_loop = loop

    def _write_due(self) -> None:
        self._timer = None
        try:
            self.flush()
        except Exception:
            logger.exception("writing the request journal failed; its entries are lost")

    def flush(self) -> int:
        """Write every buffered entry now; returns how many were written."""
        written = 0
        while batch := self._take_batch():
            self._write(batch)
            written += len(batch)
        return written

    def _take_batch(self) -> list[Exchange]:
        batch: list[Exchange] = []
        with contextlib.suppress(IndexError):  # a reset on a worker thread may empty the deque meanwhile
            while len(batch) < self._batch_limit:
                batch.append(self._pending.popleft())
        return batch

    def clear(self) -> int:
        """Forget every entry, buffered or stored; returns how many there were."""
        buffered = len(self._pending)
        self._pending.clear()
        return buffered + self._context().store.delete(JournalEntry)

    def _write(self, batch: list[Exchange]) -> None:
        entries = []
        for exchange in batch:
            try:
                entries.append(journal_entry(exchange, self.entry_bytes))
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
