"""Stage ``metrics``: what counting every request (``/metrics``) and logging its line cost the create load.

The create load on three servers in turn, each fresh: ``--no-metrics --quiet`` (the baseline: neither),
``--quiet`` (metrics on, no request lines) and the defaults (metrics on, a request line each, written to the
server's log file); three rounds in rotating order, medians (stages/variants.py). Checks that every create
answered 200, and that ``/metrics`` counted them (or is absent).
"""

from __future__ import annotations

from typing import Any

from harness import Bench, Metric, WrkRun
from serving import Server, request

from stages.variants import Variant, broken_note, cost_metric, median_rows, run_rounds

PREFIX = "metrics"  # the runs' keys: "create/metrics <variant> #<round>"
METRICS_COST_MAX = 0.03
CREATE_SERIES = 'zstack_mock_requests_total{fault="none",method="POST",operation="CreateRootVolumeTemplateFromVolumeBackup",status="200"}'

OFF = Variant("off", "no metrics, no request lines", ("--no-metrics", "--quiet"))
METRICS = Variant("metrics", "metrics, no request lines", ("--quiet",))
BOTH = Variant("metrics+log", "metrics and request lines (the defaults)")
VARIANTS = (OFF, METRICS, BOTH)


def run(bench: Bench) -> None:
    print(f"[{bench.step}] metrics and request lines: rounds of the create load, each on a fresh "
          "zstack-mock with neither, with metrics, and with both; the order rotates from round to round", flush=True)
    bench.facts["metrics"] = run_rounds(bench, PREFIX, VARIANTS, _check_counted)


def _check_counted(variant: Variant, server: Server, run: WrkRun) -> list[str]:
    status, text = request(server.port, "GET", "/metrics")
    counted = _counted(text.decode()) if status == 200 else None
    if variant is OFF:
        return [] if status == 404 else [f"GET /metrics answered {status} with --no-metrics"]
    if counted is None or counted < run.requests:
        return [f"/metrics counted {counted} creates, wrk had {run.requests} answers"]
    return []


def _counted(text: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(CREATE_SERIES + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


def metrics(bench: Bench) -> list[Metric]:
    figures: dict[str, Any] | None = bench.facts.get("metrics")
    if figures is None:
        return []
    medians, rows = median_rows(bench, PREFIX, VARIANTS)
    broken = broken_note(figures)
    rows.append(cost_metric(f"{METRICS.label}: cost vs neither", medians[METRICS.key], medians[OFF.key],
                            METRICS_COST_MAX, broken))
    rows.append(cost_metric(f"{BOTH.label}: cost vs neither", medians[BOTH.key], medians[OFF.key], None, broken))
    return rows
