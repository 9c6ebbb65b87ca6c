"""``make bench``: load zstack-mock and a bare FastAPI baseline with wrk and report against the targets.

One server at a time, each on a free 127.0.0.1 port and stopped afterwards, in stages (benchmarks/stages/,
one module each; their docstrings say what they do and measure):

1. baseline: the bare FastAPI routes of benchmarks/bare_app.py, create-shaped and login-shaped;
2. mock: ``zstack-mock serve`` on a fresh temporary SQLite file: first answer, creates, VmRSS, logins;
3. restart: ``zstack-mock serve`` again on the same file: first answer on an existing database;
4. scale: ``zstack-mock generate`` 100,000 images and 100,000 backups, then queries and creates on them;
5. reset: ``POST /_mock/reset`` and a snapshot restore on the default fixtures (benchmarks/state.py);
6. async: sync creates against async accepts, and how late the jobs finish (stages/async_jobs.py);
7. faults: the create load with the fault layer off, on with no rule, and on with 100 rules;
8. journal: the create load with the request journal off (--journal-size 0) and on;
9. metrics: the create load with neither metrics nor request lines, with metrics, and with both;
10. workers: the create load on serve --workers auto (a worker per core) and --workers 1;
11. postgres: the create and query loads on SQLite, PostgreSQL and two replicas over one PostgreSQL database
    (a throwaway cluster), and resets and restores on PostgreSQL;
12. rivals: the create load on WireMock and Prism (installed from npm) beside zstack-mock (one worker and
    every core) and the bare route.

Servers are started by serving.py, loaded and measured through harness.py; report.py prints a table of
metric / value / target / PASS-FAIL and writes benchmarks/results/latest.json. Exits 0 whatever the
figures (it is a report), 1 if something crashed. See benchmarks/README.md.

Environment: BENCH_SECONDS (measured run, default 10), BENCH_WARMUP_SECONDS (default 2),
BENCH_STAGES (comma-separated subset of baseline,mock,restart,scale,reset,async,faults,journal,metrics,
workers,postgres,rivals; default all),
BENCH_SCALE_IMAGES / BENCH_SCALE_BACKUPS (size of the at-scale inventory, default 100000 each).
"""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path

from harness import Bench, Metric, ensure_wrk
from report import print_report, write_json
from serving import BenchError
from stages import (
    async_jobs,
    baseline,
    faults,
    journal,
    mock,
    observe,
    postgres,
    reset,
    restart,
    rivals,
    scale,
    workers,
)

# In the order they run, whatever the order BENCH_STAGES gives.
STAGE_RUNS: dict[str, Callable[[Bench], None]] = {
    "baseline": baseline.run,
    "mock": mock.run,
    "restart": restart.run,
    "scale": scale.run,
    "reset": reset.run,
    "async": async_jobs.run,
    "faults": faults.run,
    "journal": journal.run,
    "metrics": observe.run,
    "workers": workers.run,
    "postgres": postgres.run,
    "rivals": rivals.run,
}
STAGES = tuple(STAGE_RUNS)
STAGE_NEEDS = {"restart": "mock", "scale": "mock"}  # restart reopens mock's database; scale compares with it


def _env_seconds(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BenchError(f"{name} must be a whole number of seconds, not {raw!r}") from None
    if not 1 <= value <= 600:
        raise BenchError(f"{name} must be between 1 and 600, not {value}")
    return value


def _env_stages() -> tuple[str, ...]:
    """BENCH_STAGES: the stages to run, comma- or space-separated, in their usual order; all when unset.
    A stage that needs another brings it along (restart and scale need mock)."""
    raw = os.environ.get("BENCH_STAGES", "").replace(",", " ").split()
    if not raw or raw == ["all"]:
        return STAGES
    unknown = [name for name in raw if name not in STAGES]
    if unknown:
        raise BenchError(f"BENCH_STAGES: unknown stage(s) {', '.join(unknown)}; known: {', '.join(STAGES)}")
    wanted = set(raw)
    for name in raw:
        if name in STAGE_NEEDS and STAGE_NEEDS[name] not in wanted:
            print(f"BENCH_STAGES: {name} needs {STAGE_NEEDS[name]}; running it too", flush=True)
            wanted.add(STAGE_NEEDS[name])
    return tuple(name for name in STAGES if name in wanted)


# The report's rows in their order: each stage's own (none when it did not run), the mock stage's start-up
# row beside the restart stage's.
ROWS: tuple[Callable[[Bench], list[Metric]], ...] = (
    mock.load_metrics,
    mock.first_answer_metrics,
    restart.metrics,
    mock.memory_metrics,
    scale.metrics,
    reset.metrics,
    async_jobs.metrics,
    faults.metrics,
    journal.metrics,
    observe.metrics,
    workers.metrics,
    postgres.metrics,
    rivals.metrics,
)


def metrics(bench: Bench) -> list[Metric]:
    """The rows of the stages that ran (BENCH_STAGES may leave some out)."""
    return [row for rows in ROWS for row in rows(bench)]


def main() -> int:
    try:
        seconds = _env_seconds("BENCH_SECONDS", 10)
        warmup = _env_seconds("BENCH_WARMUP_SECONDS", 2)
        stages = _env_stages()
        wrk = ensure_wrk()
        crash: BenchError | None = None
        with tempfile.TemporaryDirectory(prefix="zstack-mock-bench-") as tmp:
            bench = Bench(wrk=wrk, seconds=seconds, warmup=warmup, workdir=Path(tmp), stages=stages)
            for number, name in enumerate(stages, 1):
                bench.step = f"{number}/{len(stages)}"
                try:
                    STAGE_RUNS[name](bench)
                except BenchError as exc:  # the stages before it still get their report
                    crash = BenchError(f"stage {name}: {exc}")
                    bench.stages = stages[: number - 1]
                    break
        results = metrics(bench)
        write_json(bench, results)
        print_report(bench, results)
        if crash is not None:
            raise crash
    except BenchError as exc:
        print(f"\nbench: crashed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nbench: interrupted", file=sys.stderr)
        return 130
    except Exception:
        traceback.print_exc()
        print("\nbench: crashed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
