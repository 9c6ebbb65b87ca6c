"""The report of ``make bench``: the printed tables (every wrk run; then metric / value / target /
PASS-FAIL) and benchmarks/results/latest.json."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from harness import CONNECTIONS, THREADS, Bench, Metric
from serving import BENCH_DIR, HOST, ROOT

RESULTS_FILE = BENCH_DIR / "results" / "latest.json"

def _table(headers: list[str], rows: list[list[str]], right: set[int]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        cells = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def print_report(bench: Bench, results: list[Metric]) -> None:
    print()
    print(
        f"wrk -t{THREADS} -c{CONNECTIONS} -d{bench.seconds}s after a {bench.warmup} s warm-up; "
        f"{os.cpu_count()} CPUs; one server at a time"
    )
    print()
    rows = []
    for key, run in sorted(bench.runs.items(), key=lambda item: (item[0].split("/")[0] != "create", item[0])):
        route, server = key.split("/")
        base = bench.runs.get(f"{route}/bare")
        rows.append(
            [
                route,
                server,
                f"{run.rps:,.0f}",
                f"{run.p50_ms:.2f} ms",
                f"{run.p99_ms:.2f} ms",
                f"{run.rps / base.rps:.1%}" if base and base.rps else "-",
                f"{run.requests:,}",
                str(run.non_2xx + run.socket_errors),
            ]
        )
    print(
        _table(
            ["route", "server", "req/s", "p50", "p99", "vs bare", "requests", "errors"],
            rows,
            {2, 3, 4, 5, 6, 7},
        )
    )
    print()
    table = [[m.name, m.value, m.target, _verdict(m), m.note] for m in results]
    print(_table(["metric", "value", "target", "result", ""], table, set()))
    judged = [m for m in results if m.passed is not None]
    passed = sum(bool(m.passed) for m in judged)
    print(f"\n{passed}/{len(judged)} targets met; results in {RESULTS_FILE.relative_to(ROOT)}")


def _verdict(metric: Metric) -> str:
    return "-" if metric.passed is None else "PASS" if metric.passed else "FAIL"


def _cpu_json(bench: Bench, key: str) -> dict[str, Any]:
    if key not in bench.server_cpu_s:
        return {}
    cpu, requests = bench.server_cpu_s[key], bench.runs[key].requests
    return {"server_cpu_s": round(cpu, 2), "server_cpu_us_per_request": round(cpu / max(requests, 1) * 1e6, 1)}


def write_json(bench: Bench, results: list[Metric]) -> None:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    document = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit or None,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "settings": {
            "threads": THREADS,
            "connections": CONNECTIONS,
            "seconds": bench.seconds,
            "warmup_seconds": bench.warmup,
            "host": HOST,
            "stages": list(bench.stages),
        },
        "metrics": [asdict(m) for m in results],
        "runs": {key: {**run.to_json(), **_cpu_json(bench, key)} for key, run in bench.runs.items()},
        "warmups": {key: run.to_json() for key, run in bench.warmups.items()},
        "facts": bench.facts,
        "all_passed": all(m.passed for m in results if m.passed is not None),
    }
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
