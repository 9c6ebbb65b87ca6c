"""Kinds of zstack-mock server compared under the create load in rotating rounds: each run on a fresh
``serve --reset`` with the kind's flags, each kind first, in the middle and last once, and the figures
taken between the medians of each kind (throughput drifts by a fifth from minute to minute on a shared
machine, more than most of the costs measured). The faults, metrics, journal and workers stages use it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from harness import Bench, Metric, WrkRun, clean, rotations, round_medians, session_of
from serving import CREATE, Server

ROUNDS = 3


@dataclass(frozen=True)
class Variant:
    key: str  # in the run's key: "create/<prefix> <key> #<round>"
    label: str
    flags: tuple[str, ...] = ()  # added to ``zstack-mock serve --reset``


# Checks a run's server after its measured run (the server still up): what went wrong, if anything.
AfterRun = Callable[[Variant, Server, WrkRun], list[str]]


def run_key(prefix: str, key: str, number: int) -> str:
    return f"create/{prefix} {key} #{number}"


def unclean_problems(bench: Bench, key: str) -> list[str]:
    """A problem when the warm-up or the measured run of ``key`` had a non-2xx answer or a socket error."""
    warmup, run = bench.warmups[key], bench.runs[key]
    if clean(warmup) and clean(run):
        return []
    return [f"non-2xx / socket errors: warm-up {warmup.non_2xx} / {warmup.socket_errors}, "
            f"measured {run.non_2xx} / {run.socket_errors}"]


def _measure(bench: Bench, prefix: str, number: int, variant: Variant, after: AfterRun | None) -> list[str]:
    key = run_key(prefix, variant.key, number)
    name = re.sub(r"[^A-Za-z0-9]+", "-", f"{prefix}-{variant.key}-{number}")
    server = bench.mock_server(bench.workdir / f"{name}.db", reset=True, log_name=f"{name}.log", extra=variant.flags)
    server.name = variant.label
    try:
        server.start()
        _, body = server.first_answer()
        run = bench.measure(server, key, "create.lua", CREATE, [session_of(body)])
        return unclean_problems(bench, key) + (after(variant, server, run) if after else [])
    finally:
        server.stop()


def run_rounds(
    bench: Bench, prefix: str, variants: Sequence[Variant], after: AfterRun | None = None
) -> dict[str, Any]:
    """Every variant once a round, for ``ROUNDS`` rounds in rotating order; the stage's facts: the order
    the runs took and the problems found (any makes the stage broken)."""
    order: list[str] = []
    problems: list[str] = []
    for number, variant in rotations(variants, ROUNDS):
        order.append(f"{variant.key} #{number}")
        problems += [f"{variant.key} #{number}: {p}" for p in _measure(bench, prefix, number, variant, after)]
    if problems:
        print("  BROKEN: " + "; ".join(problems), flush=True)
    return {"rounds": ROUNDS, "order": order, "problems": problems}


def median_rows(
    bench: Bench, prefix: str, variants: Sequence[Variant], rounds: int = ROUNDS
) -> tuple[dict[str, float], list[Metric]]:
    """Each variant's median req/s, and the rows that show them."""
    medians = round_medians(bench, f"create/{prefix}", [v.key for v in variants], rounds)
    rows = [Metric(f"create, {v.label} (median of {rounds})", f"{medians[v.key]:,.0f} req/s", "info", None)
            for v in variants]
    return medians, rows


def broken_note(figures: dict[str, Any]) -> str:
    broken = "; ".join(figures["problems"])
    return f"BROKEN: {broken}" if broken else ""


def cost_metric(name: str, value: float, base: float, limit: float | None, broken: str, rounds: int = ROUNDS) -> Metric:
    """``1 - value / base`` against ``limit`` (None: shown, not judged); a broken stage fails it."""
    ratio = value / base if base else 0.0
    cost = 1 - ratio
    return Metric(
        f"{name} (medians of {rounds} rotating runs)",
        f"{value:,.0f} / {base:,.0f} req/s = {ratio:.1%}: cost {cost:.1%}",
        "shown" if limit is None else f"cost <= {limit:.0%}",
        None if limit is None else bool(base) and cost <= limit and not broken,
        broken,
    )
