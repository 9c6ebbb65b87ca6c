"""SQLite against PostgreSQL in the same run: create, login and query throughput over HTTP, and how long a
reset and a snapshot restore take on the default fixtures.

Starts a throwaway PostgreSQL cluster (tests/postgres.py: Debian's server programs, a temporary folder, a
free port), then for each database ``zstack-mock serve --reset`` (one process) on a free port, and loads it
with wrk (``-t2 -c32``, as ``make bench``): creates, logins, and a page of 50 images with the session's
account. Then ROUNDS resets and restores (benchmarks/state.py's loop) as the server times them.

    .venv/bin/python benchmarks/postgres.py           # BENCH_SECONDS=5, BENCH_STATE_ROUNDS=50
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import httpx
from harness import ensure_wrk, run_wrk
from serving import CREATE, LOGIN, LOGIN_PATH, QUERY_PAGE, VENV_BIN, Server, free_port
from state import _dirty, _timed

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.postgres import Cluster  # the tests' cluster, from the repository root

SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_STATE_ROUNDS", "50"))


def _server(database_url: str, log: Path) -> Server:
    argv = [str(VENV_BIN / "zstack-mock"), "serve", "--port", str(free_port()), "--database-url", database_url,
            "--reset", "--quiet", "--log-level", "warning"]
    return Server("zstack-mock", argv, os.environ, log)


def measure(database_url: str, log: Path) -> dict[str, float]:
    wrk = ensure_wrk()
    server = _server(database_url, log)
    server.start()
    try:
        server.first_answer("GET", "/_mock/health", None)
        with httpx.Client(base_url=server.url, timeout=30) as client:
            session = client.put(LOGIN_PATH, json=LOGIN).json()["inventory"]["uuid"]
            figures = {
                "create/s": run_wrk(wrk, server, "create.lua", CREATE, SECONDS, [session]).rps,
                "login/s": run_wrk(wrk, server, "login.lua", LOGIN_PATH, SECONDS, []).rps,
                "query page of 50/s": run_wrk(wrk, server, "query.lua", QUERY_PAGE, SECONDS, [session]).rps,
            }
            client.post("/_mock/reset").raise_for_status()
            assert client.post("/_mock/snapshots", json={"name": "fixtures"}).status_code == 201
            resets, restores = [], []
            for n in range(ROUNDS):
                _dirty(client, n)
                resets.append(_timed(client, "/_mock/reset")[0])
                _dirty(client, n)
                restores.append(_timed(client, "/_mock/snapshots/fixtures/restore")[0])
        figures["reset ms p50"] = statistics.median(resets)
        figures["reset ms max"] = max(resets)
        figures["restore ms p50"] = statistics.median(restores)
        figures["restore ms max"] = max(restores)
        return figures
    finally:
        server.stop()


def main() -> int:
    cluster = Cluster().start()
    try:
        with tempfile.TemporaryDirectory(prefix="zstack-mock-bench-pg-") as tmp:
            runs: dict[str, Callable[[], dict[str, float]]] = {
                "SQLite": lambda: measure(f"sqlite:///{tmp}/bench.db", Path(tmp) / "sqlite.log"),
                "PostgreSQL": lambda: measure(cluster.database(), Path(tmp) / "postgres.log"),
            }
            results = {name: run() for name, run in runs.items()}
    finally:
        cluster.stop()
    print(f"one serve process each, wrk -t2 -c32 for {SECONDS} s, {ROUNDS} resets and restores, "
          f"{os.cpu_count()} CPUs")
    print(f"{'':<22}{'SQLite':>12}{'PostgreSQL':>12}{'ratio':>8}")
    for key in results["SQLite"]:
        sqlite, postgres = results["SQLite"][key], results["PostgreSQL"][key]
        print(f"{key:<22}{sqlite:>12.1f}{postgres:>12.1f}{postgres / sqlite if sqlite else 0:>8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
