"""How fast a test suite gets a server: ``MockServer`` and ``zstack-mock serve``, start to first answer, and a
reset through ``Control`` (what the pytest plugin does before every test).

1. ``MockServer()`` (in-memory database, default fixtures) in this process, after the first import: from
   the call to ``start()`` to the first 200 of ``GET /_mock/health`` on a new connection; ROUNDS starts,
   each stopped before the next. Target: median <= 100 ms.
2. ``control.reset()`` on one of them, round trip over HTTP: median and p90. Target: median <= 5 ms.
3. ``zstack-mock serve`` (a new process) on an existing database file: from Popen to the first 200 of the
   admin login; SERVE_ROUNDS restarts. Target: median <= 0.5 s.

    .venv/bin/python benchmarks/embedded.py
    BENCH_EMBEDDED_ROUNDS=50 .venv/bin/python benchmarks/embedded.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from serving import mock_server, request

ROUNDS = int(os.environ.get("BENCH_EMBEDDED_ROUNDS", "30"))
SERVE_ROUNDS = int(os.environ.get("BENCH_SERVE_ROUNDS", "5"))
RESETS = 200
START_TARGET_MS = 100.0
RESET_TARGET_MS = 5.0
SERVE_TARGET_S = 0.5


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def embedded_starts() -> list[float]:
    from zstack_mock import MockServer

    timings = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        server = MockServer().start()
        status, _ = request(server.port, "GET", "/_mock/health")
        timings.append((time.perf_counter() - started) * 1000)
        assert status == 200
        server.stop()
    return timings


def resets() -> list[float]:
    from zstack_mock import MockServer

    with MockServer() as server:
        control = server.control
        control.reset()
        timings = []
        for _ in range(RESETS):
            started = time.perf_counter()
            control.reset()
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def serve_starts() -> list[float]:
    with tempfile.TemporaryDirectory(prefix="zstack-mock-embedded-") as tmp:
        database = Path(tmp) / "existing.db"
        timings = []
        for round_number in range(SERVE_ROUNDS + 1):
            server = mock_server(database, "--log-level", "warning", reset=round_number == 0)
            try:
                server.start()
                seconds, _ = server.first_answer()
            finally:
                server.stop()
            if round_number:  # the first run made the database
                timings.append(seconds)
    return timings


def main() -> int:
    print(f"embedded: {ROUNDS} MockServer starts, {RESETS} resets, {SERVE_ROUNDS} serve restarts", flush=True)
    starts, reset_ms, serve_s = embedded_starts(), resets(), serve_starts()
    rows = [
        ("MockServer start to first answer, median", f"{statistics.median(starts):.1f} ms",
         f"<= {START_TARGET_MS:.0f} ms", statistics.median(starts) <= START_TARGET_MS),
        ("  first (imports the app) / p90 / max", f"{starts[0]:.1f} / {_percentile(starts, 0.9):.1f} / {max(starts):.1f} ms", "", None),
        ("reset through Control, median", f"{statistics.median(reset_ms):.2f} ms",
         f"<= {RESET_TARGET_MS:.0f} ms", statistics.median(reset_ms) <= RESET_TARGET_MS),
        ("  p90 / max", f"{_percentile(reset_ms, 0.9):.2f} / {max(reset_ms):.2f} ms", "", None),
        ("serve start to first answer, existing DB, median", f"{statistics.median(serve_s):.3f} s",
         f"<= {SERVE_TARGET_S} s", statistics.median(serve_s) <= SERVE_TARGET_S),
        ("  min / max", f"{min(serve_s):.3f} / {max(serve_s):.3f} s", "", None),
    ]
    for metric, value, target, ok in rows:
        verdict = "" if ok is None else ("PASS" if ok else "FAIL")
        print(f"{metric:<52} {value:>24} {target:>10} {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
