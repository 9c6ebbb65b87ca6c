"""What every domain operation works with: the store, the clock, and the server's policies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from app.clock import Clock
from app.store.base import Store


@dataclass(frozen=True, slots=True)
class Context:
    store: Store
    clock: Clock
    session_timeout: timedelta = timedelta(seconds=7200)
    #: Live sessions one account may hold before ID.1006 (session.maxConcurrent); 0 = no limit.
    max_sessions_per_account: int = 500
