"""Stage ``reset``: how long ``POST /_mock/reset`` and a snapshot restore take on the default fixtures, as
benchmarks/state.py measures them (200 rounds on a fresh server, each dirtying the state first): the
server's own ``elapsedMs`` and the HTTP round trip, p50 / p99 / max, against 50 ms at p99."""

from __future__ import annotations

from typing import Any

import state
from harness import Bench, Metric, percentiles


def run(bench: Bench) -> None:
    print(f"[{bench.step}] reset and restore: {state.ROUNDS} rounds of each on a fresh zstack-mock", flush=True)
    figures = {name: percentiles(values) for name, values in state.measure().items()}
    bench.facts["reset_restore_ms"] = figures
    for name, figure in figures.items():
        print(f"  {name}: p50 {figure['p50']:.2f} ms, p99 {figure['p99']:.2f} ms", flush=True)


def metrics(bench: Bench) -> list[Metric]:
    figures: dict[str, dict[str, Any]] | None = bench.facts.get("reset_restore_ms")
    if figures is None:
        return []
    return [
        Metric(
            f"{name} ({figure['jobs']} rounds)",
            f"p50 {figure['p50']:.2f} / p99 {figure['p99']:.2f} / max {figure['max']:.2f} ms",
            f"p99 <= {state.TARGET_MS:g} ms",
            figure["p99"] <= state.TARGET_MS,
        )
        for name, figure in figures.items()
    ]
