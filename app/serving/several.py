"""``serve --workers N`` for N > 1: what the workers share besides the database, and the app each builds.

The database holds the state; the workers also share the order of the journal's entries (memory
made before the fork, ``journal.order``) and the Prometheus counts (files in a directory of the
parent's, removed at exit, so that ``/metrics`` answers for all of them).
"""

from __future__ import annotations

import gc
import shutil
import sys
import tempfile
from typing import Any

from ..journal.order import SharedOrder
from ..observe.metrics import forget_process, share_between_processes
from ..settings import Settings
from ..store.sqlite import sqlite_path
from ..store.urls import is_postgres_url
from .config import raise_open_file_limit
from .workers import Supervisor


def workers_problem(settings: Settings) -> str | None:
    """Why ``settings`` cannot be served by its number of workers, if they cannot."""
    if settings.worker_count == 1:
        return None
    if not is_postgres_url(settings.database_url) and sqlite_path(settings.database_url) == ":memory:":
        return (f"--workers {settings.workers} needs a database file (sqlite:///PATH): {settings.database_url} is "
                "in memory, a private one in each worker")
    if sys.platform == "win32":
        return "--workers above 1 needs fork(), which Windows does not have"
    return None


def serve_workers(settings: Settings) -> int:
    """Serve with ``settings.worker_count`` processes until SIGTERM or SIGINT; the exit code."""
    from ..main import create_app

    raise_open_file_limit(settings.limits.max_connections)
    worker_settings = settings.model_copy(update={"reset": False})
    metrics_directory = tempfile.mkdtemp(prefix="zstack-mock-metrics-") if settings.metrics else None
    if metrics_directory is not None:
        share_between_processes(metrics_directory)

    journal_order = SharedOrder(settings.worker_count)

    def build_app(index: int) -> Any:
        journal_order.join(index)
        return create_app(worker_settings, install_rules=False)

    def worker_gone(index: int, pid: int) -> None:
        journal_order.abandon(index)
        if metrics_directory is not None:
            forget_process(pid)

    # What the imports and the start-up made is shared with the workers, unchanged: keep it out of
    # the collector's sight, so that it does not write to (and copy) those pages in each of them.
    gc.collect()
    gc.freeze()
    try:
        return Supervisor(settings, build_app, on_worker_exit=worker_gone).run()
    finally:
        if metrics_directory is not None:
            shutil.rmtree(metrics_directory, ignore_errors=True)
