"""The one source of time and of new UUIDs.

Everything that needs "now" or a fresh resource UUID asks a ``Clock``; nothing else calls
``datetime.now()`` or ``uuid4()``. That keeps a seeded, time-frozen server possible.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime


class Clock:
    """Wall-clock time in UTC and random version-4 UUIDs in ZStack's dash-less form."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def new_uuid(self) -> str:
        # uuid.uuid4().hex, without building a UUID object: random bits, version 4, RFC 4122 variant.
        raw = bytearray(os.urandom(16))
        raw[6] = (raw[6] & 0x0F) | 0x40
        raw[8] = (raw[8] & 0x3F) | 0x80
        return raw.hex()
