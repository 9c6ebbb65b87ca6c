"""Replicas for the tests: ``zstack-mock serve`` processes over one PostgreSQL database."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

from tests.workers.support import Workers


@contextmanager
def two_replicas(database_url: str, *args: str) -> Iterator[tuple[Workers, Workers]]:
    """Replica A (one process) and replica B (``--workers 2``) over one database, started with ``args``;
    each must stop cleanly, with no traceback in its output."""
    started: list[Workers] = []
    try:
        started.append(Workers(database_url, *args, workers="1"))
        started.append(Workers(database_url, *args, workers="2"))
        yield started[0], started[1]
    finally:
        for code, _, stderr in [replica.stop() for replica in started]:
            assert code in (0, -signal.SIGTERM), stderr  # one process ends by the signal it was sent
            assert "Traceback" not in stderr, stderr
