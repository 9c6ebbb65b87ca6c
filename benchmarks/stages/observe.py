"""Stage ``metrics``: what counting every request (``/metrics``) and logging its line cost the create load.

The create load on three servers in turn, each fresh: ``--no-metrics --quiet`` (the baseline: neither),
``--quiet`` (metrics on, no request lines) and the defaults (metrics on, a request line each, written to the
server's log file); three rounds in rotating order, medians, as the fault stage does. Checks that every create
answered 200, and that ``/metrics`` counted them (or is absent).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness import Bench, Metric, clean, round_medians, session_of
from serving import CREATE, request

ROUNDS = 3
METRICS_COST_MAX = 0.03
CREATE_SERIES = 'zstack_mock_requests_total{fault="none",method="POST",operation="CreateRootVolumeTemplateFromVolumeBackup",status="200"}'


@dataclass(frozen=True)
class ObserveVariant:
    key: str  # in the run's key: "create/metrics <key> #<round>"
    label: str
    flags: tuple[str, ...]


VARIANTS = (
    ObserveVariant("off", "no metrics, no request lines", ("--no-metrics", "--quiet")),
    ObserveVariant("metrics", "metrics, no request lines", ("--quiet",)),
    ObserveVariant("metrics+log", "metrics and request lines (the defaults)", ()),
)


def run(bench: Bench) -> None:
    print(f"[{bench.step}] metrics and request lines: {ROUNDS} rounds of the create load, each on a fresh "
          "zstack-mock with neither, with metrics, and with both; the order rotates from round to round", flush=True)
    problems: list[str] = []
    order: list[str] = []
    for number in range(1, ROUNDS + 1):
        shift = (number - 1) % len(VARIANTS)
        for variant in (*VARIANTS[shift:], *VARIANTS[:shift]):
            order.append(f"{variant.key} #{number}")
            problems += [f"{variant.key} #{number}: {p}" for p in _observe_run(bench, number, variant)]
    bench.facts["metrics"] = {"rounds": ROUNDS, "order": order, "problems": problems}
    if problems:
        print("  BROKEN: " + "; ".join(problems), flush=True)


def _observe_run(bench: Bench, number: int, variant: ObserveVariant) -> list[str]:
    key = f"create/metrics {variant.key} #{number}"
    name = f"metrics-{variant.key.replace('+', '-')}-{number}"
    server = bench.mock_server(bench.workdir / f"{name}.db", reset=True, log_name=f"{name}.log", extra=variant.flags)
    server.name = variant.label
    problems: list[str] = []
    try:
        server.start()
        _, body = server.first_answer()
        run = bench.measure(server, key, "create.lua", CREATE, [session_of(body)])
        warmup = bench.warmups[key]
        if not clean(warmup) or not clean(run):
            problems.append(f"non-2xx / socket errors: warm-up {warmup.non_2xx} / {warmup.socket_errors}, "
                            f"measured {run.non_2xx} / {run.socket_errors}")
        status, text = request(server.port, "GET", "/metrics")
        counted = _counted(text.decode()) if status == 200 else None
        if variant.key == "off" and status != 404:
            problems.append(f"GET /metrics answered {status} with --no-metrics")
        if variant.key != "off" and (counted is None or counted < run.requests):
            problems.append(f"/metrics counted {counted} creates, wrk had {run.requests} answers")
    finally:
        server.stop()
    return problems


def _counted(text: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(CREATE_SERIES + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


def metrics(bench: Bench) -> list[Metric]:
    figures: dict[str, Any] | None = bench.facts.get("metrics")
    if figures is None:
        return []
    medians = round_medians(bench, "create/metrics", [v.key for v in VARIANTS], ROUNDS)
    broken = "; ".join(figures["problems"])
    rows = [Metric(f"create, {v.label} (median of {ROUNDS})", f"{medians[v.key]:,.0f} req/s", "info", None)
            for v in VARIANTS]
    off = medians["off"]
    for variant, limit in ((VARIANTS[1], METRICS_COST_MAX), (VARIANTS[2], None)):
        ratio = medians[variant.key] / off if off else 0.0
        cost = 1 - ratio
        rows.append(Metric(
            f"{variant.label}: cost vs neither (medians of {ROUNDS} rotating runs)",
            f"{medians[variant.key]:,.0f} / {off:,.0f} req/s = {ratio:.1%}: cost {cost:.1%}",
            "shown" if limit is None else f"cost <= {limit:.0%}",
            None if limit is None else bool(off) and cost <= limit and not broken,
            f"BROKEN: {broken}" if broken else "",
        ))
    return rows
