"""The one source of time and of new UUIDs.

Everything that needs "now" or a fresh resource UUID asks a ``Clock``; nothing else calls
``datetime.now()`` or ``uuid4()``. That keeps a seeded, time-frozen server possible.

``Clock`` is real time and random UUIDs. ``ServerClock``, what ``create_app`` builds, adds:

* **settable time** (``PUT /_mock/clock``): real time, real time shifted by an offset, or a frozen
  moment. The setting lives in the store's ``store_meta`` so that every process over the database
  agrees; each process keeps it in memory and reads it again at most every ``refresh_interval``
  (5 ms), so ``now()`` costs a monotonic-clock read more than ``datetime.now()``. The process that
  changes the setting uses it at once; other processes within ``refresh_interval``.
* **seeded generators** (``--seed N``): UUIDs are a hash of (seed, stream, n), where ``n`` counts
  this process's UUIDs and ``stream`` is a number the process claims from the store at start-up
  (0 on a fresh database), so two processes, or a restart over a database that already holds
  UUIDs, never repeat each other's; ``random`` (job durations) is seeded from the same pair.
  ``generator_state()`` / ``set_generator_state()`` let a reset or a snapshot restore put the
  generators back where they were.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .store.base import Store

logger = logging.getLogger("zstack_mock.clock")

#: store_meta keys: the clock setting, and the next free seeded UUID stream.
CLOCK_META_KEY = "clock"
UUID_STREAMS_META_KEY = "uuid_streams"


def _v4(raw: bytes) -> str:
    """16 bytes as a version-4, RFC 4122-variant UUID in ZStack's dash-less form."""
    octets = bytearray(raw)
    octets[6] = (octets[6] & 0x0F) | 0x40
    octets[8] = (octets[8] & 0x3F) | 0x80
    return octets.hex()


class Clock:
    """Wall-clock time in UTC and random version-4 UUIDs in ZStack's dash-less form."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def new_uuid(self) -> str:
        # uuid.uuid4().hex, without building a UUID object: random bits, version 4, RFC 4122 variant.
        return _v4(os.urandom(16))


@dataclass(frozen=True, slots=True)
class ClockSetting:
    """What time the server reports: real time (neither field), shifted by ``offset``, or ``frozen``."""

    frozen: datetime | None = None
    offset: timedelta | None = None

    @property
    def real(self) -> bool:
        return self.frozen is None and self.offset is None

    def encode(self) -> str:
        """The store_meta value: ``""`` (real time), ``frozen <ISO 8601>`` or ``offset <microseconds>``."""
        if self.frozen is not None:
            return f"frozen {self.frozen.isoformat()}"
        if self.offset is not None:
            return f"offset {self.offset // timedelta(microseconds=1)}"
        return ""

    @classmethod
    def decode(cls, value: str | None) -> ClockSetting:
        kind, _, argument = (value or "").partition(" ")
        try:
            if kind == "frozen":
                return cls(frozen=datetime.fromisoformat(argument).astimezone(UTC))
            if kind == "offset":
                return cls(offset=timedelta(microseconds=int(argument)))
        except ValueError:
            logger.warning("ignoring an unreadable clock setting %r: real time", value)
        return cls()


class ServerClock(Clock):
    """The server's clock: settable through the store, seeded when ``seed`` is given."""

    def __init__(self, store: Store, *, seed: int | None = None, stream: int = 0,
                 refresh_interval: float = 0.005) -> None:
        self._store = store
        self._refresh_interval = refresh_interval
        self._next_refresh = 0.0
        self._raw: str | None = None
        self._setting = ClockSetting()
        self.seed = seed
        self.stream = stream
        self._uuid_prefix = f"zstack-mock/{seed}/{stream}/".encode()
        self._uuids = 0
        #: Draws that shape answers (job durations); seeded with ``seed``, else from the OS.
        self.random = random.Random(self._random_seed())

    # -- time ---------------------------------------------------------------------------------------

    def now(self) -> datetime:
        if time.monotonic() >= self._next_refresh:
            self.refresh()
        setting = self._setting
        if setting.frozen is not None:
            return setting.frozen
        if setting.offset is not None:
            return datetime.now(UTC) + setting.offset
        return datetime.now(UTC)

    def refresh(self) -> None:
        """Read the setting from the store now (another process may have changed it)."""
        self._next_refresh = time.monotonic() + self._refresh_interval
        try:
            raw = self._store.get_meta(CLOCK_META_KEY)
        except Exception:  # a closed store at shutdown: keep the last setting, never fail a caller
            logger.debug("cannot read the clock setting; keeping the last one", exc_info=True)
            return
        if raw != self._raw:
            self._raw = raw
            self._setting = ClockSetting.decode(raw)

    @property
    def setting(self) -> ClockSetting:
        self.refresh()
        return self._setting

    def set(self, setting: ClockSetting) -> None:
        """Store ``setting`` for every process and use it in this one at once."""
        raw = setting.encode()
        self._store.set_meta(CLOCK_META_KEY, raw)
        self._raw, self._setting = raw, setting
        self._next_refresh = time.monotonic() + self._refresh_interval

    def move_to(self, moment: datetime, *, frozen: bool) -> None:
        """Report ``moment`` from now on: standing still there, or running on from it."""
        if frozen:
            self.set(ClockSetting(frozen=moment.astimezone(UTC)))
        else:
            self.set(ClockSetting(offset=moment - datetime.now(UTC)))

    # -- seeded generators ---------------------------------------------------------------------------

    def new_uuid(self) -> str:
        if self.seed is None:
            return super().new_uuid()
        self._uuids += 1
        digest = hashlib.blake2b(self._uuid_prefix + self._uuids.to_bytes(8, "big"), digest_size=16).digest()
        return _v4(digest)

    def generator_state(self) -> dict[str, Any] | None:
        """Where the seeded generators are (JSON-ready), or None without a seed."""
        if self.seed is None:
            return None
        version, internal, gauss = self.random.getstate()
        return {"seed": self.seed, "stream": self.stream, "uuids": self._uuids,
                "random": [version, list(internal), gauss]}

    def set_generator_state(self, state: dict[str, Any] | None = None) -> bool:
        """Put the seeded generators back to ``state`` (None: to the start); whether anything moved.

        A state from another seed or stream (a snapshot taken by another process) is ignored:
        this process's stream is its own, and moving it elsewhere could repeat another's UUIDs.
        """
        if self.seed is None:
            return False
        if state is None:
            self._uuids = 0
            self.random.seed(self._random_seed())
            return True
        if state.get("seed") != self.seed or state.get("stream") != self.stream:
            return False
        version, internal, gauss = state["random"]
        self._uuids = int(state["uuids"])
        self.random.setstate((version, tuple(internal), gauss))
        return True

    def _random_seed(self) -> str | None:
        return None if self.seed is None else f"zstack-mock/{self.seed}/{self.stream}/random"


def claim_uuid_stream(store: Store) -> int:
    """A seeded UUID stream no other process (and no earlier run over this database) has used."""
    with store.transaction():
        stream = int(store.get_meta(UUID_STREAMS_META_KEY) or 0)
        store.set_meta(UUID_STREAMS_META_KEY, str(stream + 1))
    return stream
