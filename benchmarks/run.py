"""``make bench``: load zstack-mock and a bare FastAPI baseline with wrk and report against the targets.

One server at a time, each on a free 127.0.0.1 port and stopped afterwards:

1. the baseline (benchmarks/bare_app.py): create-shaped and login-shaped routes, warm-up then measured run;
2. ``zstack-mock serve`` on a fresh temporary SQLite file: time to the first answer, creates until at
   least 10,000 have been made (then VmRSS), logins;
3. ``zstack-mock serve`` again on the same file: time to the first answer on an existing database;
4. at scale: ``zstack-mock generate`` 100,000 images and 100,000 backups into a new file (timed), then
   ``zstack-mock serve`` on it: query latency (one connection, so p50 is service time) and create
   throughput, compared with step 2's create figure on the default fixtures;
5. async: ``zstack-mock serve --job-duration 0.5``, fresh each time, alternating sync creates with async
   accepts (``Prefer: respond-async``) for the accept-throughput ratio; during each async run a probe submits
   a job every 100 ms with ``X-Web-Hook`` to a loopback receiver, and after it the control API
   (``/_mock/jobs``) gives every sampled job's createDate and finishDate: lateness past the 0.5 s;
6. faults (issue 5): the create load on three servers in turn, each fresh: ``--no-fault-injection`` (the
   baseline), the fault layer with no rule, and the fault layer with 100 varied rules that never match the
   load (installed with ``POST /_mock/faults``); three rounds in rotating order, medians; checks that the
   layer is in (or out of) the path, that no rule matched or fired and that every create answered 200.

Prints a table of metric / value / target / PASS-FAIL and writes benchmarks/results/latest.json.
Exits 0 whatever the figures (it is a report), 1 if something crashed. See benchmarks/README.md.

Environment: BENCH_SECONDS (measured run, default 10), BENCH_WARMUP_SECONDS (default 2),
BENCH_STAGES (comma-separated subset of baseline,mock,restart,scale,async,faults; default all),
BENCH_SCALE_IMAGES / BENCH_SCALE_BACKUPS (size of the at-scale inventory, default 100000 each).
"""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path

from harness import (
    Bench,
    Metric,
    ensure_wrk,
)
from report import print_report, write_json
from serving import (
    BenchError,
)
from stages import async_jobs, baseline, faults, mock, restart, scale

STAGES = ("baseline", "mock", "restart", "scale", "async", "faults")
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


# --------------------------------------------------------------------------- the run


class StageBench(Bench):
    """The stages, until each has a module of its own."""

# --------------------------------------------------------------------------- report


def metrics(bench: Bench) -> list[Metric]:
    """The rows of the stages that ran (BENCH_STAGES may leave some out)."""
    rows = [
        *mock.load_metrics(bench), *mock.first_answer_metrics(bench), *restart.metrics(bench),
        *mock.memory_metrics(bench),
    ]
    return [*rows, *scale.metrics(bench), *async_jobs.metrics(bench), *faults.metrics(bench)]


def main() -> int:
    try:
        seconds = _env_seconds("BENCH_SECONDS", 10)
        warmup = _env_seconds("BENCH_WARMUP_SECONDS", 2)
        stages = _env_stages()
        wrk = ensure_wrk()
        with tempfile.TemporaryDirectory(prefix="zstack-mock-bench-") as tmp:
            bench = StageBench(wrk=wrk, seconds=seconds, warmup=warmup, workdir=Path(tmp), stages=stages)
            steps: dict[str, Callable[[], None]] = {
                "baseline": lambda: baseline.run(bench),
                "mock": lambda: mock.run(bench),
                "restart": lambda: restart.run(bench),
                "scale": lambda: scale.run(bench),
                "async": lambda: async_jobs.run(bench),
                "faults": lambda: faults.run(bench),
            }
            for number, name in enumerate(stages, 1):
                bench.step = f"{number}/{len(stages)}"
                steps[name]()
        results = metrics(bench)
        write_json(bench, results)
        print_report(bench, results)
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
