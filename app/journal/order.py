"""The order of the journal's entries across the worker processes of one server (``serve --workers N``).

Each worker buffers its entries and writes them in batches (``recorder``), and an entry gets its id
when it is written: two workers' batches would interleave by when they were written, not by when the
requests were answered. So each entry takes a number, from one counter the workers share, when it is
recorded (just before its answer's last byte goes out), and each worker publishes the smallest
number it holds unwritten. A worker writes only the entries numbered below every other worker's
smallest unwritten one, so the ids follow the numbers: the order the answers were sent. A worker
waits for another at most ``PATIENCE`` seconds (one busy with a long task), then writes anyway.

The counter and one slot per worker live in memory shared by the fork (made by the parent before
it); the counter moves under a POSIX lock on a file, which the kernel releases if its holder dies.
"""

from __future__ import annotations

import fcntl
import mmap
import struct
import tempfile
import threading

#: Seconds a worker's entries wait for another worker's older ones before being written anyway.
PATIENCE = 1.0
_NUMBER = struct.Struct("q")

_installed: SharedOrder | None = None


def installed() -> SharedOrder | None:
    """This process's shared order, if it is one of several workers."""
    return _installed


class SharedOrder:
    def __init__(self, workers: int) -> None:
        self._memory = mmap.mmap(-1, _NUMBER.size * (workers + 1))  # counter, then a slot per worker
        self._lock_file = tempfile.TemporaryFile()  # noqa: SIM115 - open as long as the server runs
        self._thread_lock = threading.Lock()  # a POSIX lock does not exclude the process's own threads
        self.workers = workers
        self.index = 0
        #: This process's journals and the smallest number each holds unwritten.
        self._held: dict[int, int] = {}

    def join(self, index: int) -> None:
        """In worker ``index``, after the fork: its journals use this order from now on."""
        global _installed
        self.index = index
        self._held.clear()
        _installed = self

    def abandon(self, index: int) -> None:
        """In the parent: worker ``index`` has gone with what it held; nobody waits for that."""
        self._set_slot(index, 0)

    def take(self, journal: object) -> int:
        """The next number, for an entry of ``journal``, now held unwritten."""
        with self._thread_lock:
            fcntl.lockf(self._lock_file, fcntl.LOCK_EX)
            try:
                number = self.current() + 1
                _NUMBER.pack_into(self._memory, 0, number)
                if not self._held:
                    self._set_slot(self.index, number)
                self._held.setdefault(id(journal), number)
            finally:
                fcntl.lockf(self._lock_file, fcntl.LOCK_UN)
        return number

    def release(self, journal: object, oldest: int | None) -> None:
        """``journal`` has written its entries below ``oldest`` (None: all of them)."""
        with self._thread_lock:
            if oldest is None:
                self._held.pop(id(journal), None)
            else:
                self._held[id(journal)] = oldest
            self._set_slot(self.index, min(self._held.values(), default=0))

    def frontier(self) -> float:
        """Entries numbered below this may be written: every other worker's older ones are."""
        return min((slot for index, slot in self._slots() if slot and index != self.index), default=float("inf"))

    def current(self) -> int:
        return int(_NUMBER.unpack_from(self._memory, 0)[0])

    def settled(self, number: int) -> bool:
        """Whether every entry numbered up to ``number`` has been written, in every worker."""
        return all(not slot or slot > number for _, slot in self._slots())

    def _slots(self) -> list[tuple[int, int]]:
        return [(index, _NUMBER.unpack_from(self._memory, _NUMBER.size * (index + 1))[0])
                for index in range(self.workers)]

    def _set_slot(self, index: int, number: int) -> None:
        _NUMBER.pack_into(self._memory, _NUMBER.size * (index + 1), number)
