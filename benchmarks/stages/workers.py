"""Stage ``workers``: the create load on ``zstack-mock serve --workers auto`` (a worker per core) against
``--workers 1``, both with the default settings otherwise: three rounds in rotating order, each run on a
fresh server, medians (stages/variants.py). Checks that every create answered 200 (the admin session,
made through one worker, must work on all) and that ``auto`` forked a worker per core.

A ``zstack-mock serve`` without ``--workers`` (an older one) is not measured: the row says so.
"""

from __future__ import annotations

import os
from typing import Any

from harness import Bench, Metric, WrkRun
from serving import NO_WORKERS, Server, serve_has_workers

from stages.variants import Variant, broken_note, median_rows, run_rounds

PREFIX = "workers"  # the runs' keys: "create/workers <variant> #<round>"
ALL_CORES_RATIO_MIN = 1.5
CORES = os.cpu_count() or 1

ONE = Variant("1", "--workers 1", ("--workers", "1"))
AUTO = Variant("auto", f"--workers auto ({CORES} cores)", ("--workers", "auto"))
VARIANTS = (ONE, AUTO)
ROW_NAME = f"create, --workers auto ({CORES} cores) vs --workers 1"


def run(bench: Bench) -> None:
    if not serve_has_workers():
        print(f"[{bench.step}] workers: {NO_WORKERS}; skipped", flush=True)
        bench.facts["workers"] = {"available": False}
        return
    print(f"[{bench.step}] workers: rounds of the create load, each on a fresh zstack-mock with --workers 1 "
          "and with --workers auto; the order rotates from round to round", flush=True)
    processes: dict[str, list[int]] = {v.key: [] for v in VARIANTS}
    rss_mb: dict[str, list[list[float]]] = {v.key: [] for v in VARIANTS}

    def check_processes(variant: Variant, server: Server, run: WrkRun) -> list[str]:
        pids = server.processes()
        count = len(pids)
        processes[variant.key].append(count)
        rss_mb[variant.key].append([_rss_mb(server, pid) for pid in pids])
        if variant is AUTO and CORES > 1 and count < CORES:
            return [f"--workers auto runs {count} processes on {CORES} cores"]
        return []

    bench.facts["workers"] = {"available": True, **run_rounds(bench, PREFIX, VARIANTS, check_processes),
                              "processes": processes, "rss_mb_after_each_run": rss_mb}


def _rss_mb(server: Server, pid: int) -> float:
    """VmRSS of one of the server's processes in MB (10^6 bytes); 0 when it has just gone."""
    try:
        return round(server.rss_kib(pid) * 1024 / 1e6, 1)
    except OSError:
        return 0.0


def metrics(bench: Bench) -> list[Metric]:
    figures: dict[str, Any] | None = bench.facts.get("workers")
    if figures is None:
        return []
    target = f">= {ALL_CORES_RATIO_MIN:g}x"
    if not figures["available"]:
        return [Metric(ROW_NAME, NO_WORKERS, target, None, "not measured")]
    medians, rows = median_rows(bench, PREFIX, VARIANTS)
    one, auto = medians[ONE.key], medians[AUTO.key]
    ratio = auto / one if one else 0.0
    broken = broken_note(figures)
    largest = max((mb for runs in figures["rss_mb_after_each_run"][AUTO.key] for mb in runs), default=0.0)
    rows.append(Metric("RSS of the largest --workers auto process after a run", f"{largest:.1f} MB", "info", None))
    rows.append(Metric(
        f"{ROW_NAME} (medians of {figures['rounds']} rotating runs)",
        f"{auto:,.0f} / {one:,.0f} req/s = {ratio:.2f}x",
        target,
        ratio >= ALL_CORES_RATIO_MIN and not broken,
        broken,
    ))
    return rows
