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
``batch_interval`` of their answer; until then that process's journal is slightly behind. The
workers of one ``serve --workers N`` do better (``order``): their entries are written in the order
the answers were sent, and ``caught_up()`` waits for the entries every worker recorded before it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime

from ..domain.context import Context
from ..store.records import JournalEntry
from ..store.sql import StoreGone
from . import order
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
        #: With several workers: the numbers that order their entries.
        self._order = order.installed()
        self._waiting_since: float | None = None
        self._stopping = False

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
        self._stopping = True  # every entry now, whatever another worker holds
        self.flush()

    def record(self, exchange: Exchange) -> None:
        """Called on the event loop by the middleware."""
        pending = self._pending
        if self._order is not None:
            exchange.number = self._order.take(self)
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
        except StoreGone:
            self._pending.clear()  # an evicted sandbox tenant's: nobody can read its journal again
        except Exception:
            logger.exception("writing the request journal failed; its entries are lost")
        if self._pending and self._timer is None:  # waiting for another worker's older entries
            loop = asyncio.get_running_loop()
            self._timer, self._timer_loop = loop.call_later(self._batch_interval / 4, self._write_due), loop

    async def caught_up(self, timeout: float = order.PATIENCE) -> None:
        """Write what this process holds, and with several workers wait (at most ``timeout``) until
        every entry recorded by any of them before now is written too."""
        self.flush()
        if self._order is None:
            return
        number, deadline = self._order.current(), time.monotonic() + timeout
        while not self._order.settled(number) and time.monotonic() < deadline:
            await asyncio.sleep(0.002)
            self.flush()

    def flush(self) -> int:
        """Write every buffered entry now; returns how many were written."""
        written = 0
        while batch := self._take_batch():
            self._write(batch)
            written += len(batch)
        return written

    def _take_batch(self) -> list[Exchange]:
        batch: list[Exchange] = []
        below = self._writable_below()
        with contextlib.suppress(IndexError):  # a reset on a worker thread may empty the deque meanwhile
            while len(batch) < self._batch_limit and self._pending[0].number < below:
                batch.append(self._pending.popleft())
        return batch

    def _writable_below(self) -> float:
        """Entries numbered below this may be written now (every one, but with several workers)."""
        if self._order is None or self._stopping:
            return float("inf")
        below = self._order.frontier()
        if not self._pending or self._pending[0].number < below:
            self._waiting_since = None
            return below
        now = time.monotonic()
        if self._waiting_since is None:
            self._waiting_since = now
        if now - self._waiting_since < order.PATIENCE:
            return below
        logger.warning("journal entries waited %.1f s for another worker's; written out of order", order.PATIENCE)
        self._waiting_since = None
        return float("inf")

    def clear(self) -> int:
        """Forget every entry, buffered or stored; returns how many there were."""
        buffered = len(self._pending)
        self._pending.clear()
        self._released()
        return buffered + self._context().store.delete(JournalEntry)

    def _write(self, batch: list[Exchange]) -> None:
        entries = []
        for exchange in batch:
            try:
                entries.append(journal_entry(exchange, self.entry_bytes))
            except Exception:  # one odd request must not cost the others their entries
                logger.exception("cannot journal %s %s", exchange.method, exchange.path)
        if not entries:
            self._released()
            return
        store = self._context().store
        try:
            with store.transaction():
                store.insert_many(entries)
                newest = store.find(JournalEntry, order_by=["-id"], limit=1)
                if newest and newest[0].id is not None and newest[0].id > self.size:
                    store.delete(JournalEntry, {"id__le": newest[0].id - self.size})
        finally:
            self._released()

    def _released(self) -> None:
        """Tell the other workers which entries this journal still holds unwritten."""
        if self._order is not None:
            with contextlib.suppress(IndexError):
                self._order.release(self, self._pending[0].number)
                return
            self._order.release(self, None)
