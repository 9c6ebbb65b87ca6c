"""The one source of time and of new UUIDs.

Everything that needs "now" or a fresh resource UUID asks a ``Clock``; nothing else calls
``datetime.now()`` or ``uuid4()``. That keeps a seeded, time-frozen server possible.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime


class Clock:
    """Wall-clock time in UTC and random version-4 UUIDs in ZStack's dash-less form."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def new_uuid(self) -> str:
        return uuid.uuid4().hex
