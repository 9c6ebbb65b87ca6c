"""The rivals stage's own outputs beside the report's rows: a Markdown table (benchmarks/results/rivals.md)
and a bar chart of throughput and p99 per server (benchmarks/results/rivals.png, drawn with matplotlib)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import CONNECTIONS, THREADS, Bench
from serving import BENCH_DIR, BenchError

RESULTS = BENCH_DIR / "results"
TABLE_FILE = RESULTS / "rivals.md"
CHART_FILE = RESULTS / "rivals.png"
COLOURS = {  # by the rival's key; another server is drawn grey
    "bare": "#888888",
    "wiremock": "#d9822b",
    "wiremock-no-journal": "#f0b27a",
    "zstack-mock": "#2b7bd9",
    "zstack-mock-all-cores": "#1a4f8f",
    "prism": "#8e44ad",
}


def percent(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.0%}"


def times(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}x"


def errors_note(entry: dict[str, Any]) -> str:
    """``"N non-2xx, M socket errors"`` when a server's runs had any, else empty."""
    if not entry["non_2xx"] and not entry["socket_errors"]:
        return ""
    return f"{entry['non_2xx']} non-2xx, {entry['socket_errors']} socket errors"


def write_table(
    bench: Bench, figures: dict[str, dict[str, Any]], unavailable: dict[str, dict[str, str]], load: dict[str, float]
) -> Path:
    rounds = len(next(iter(figures.values()))["first_answers_s"])
    lines = [
        "# zstack-mock beside its rivals",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs: `wrk -t{THREADS} -c{CONNECTIONS} "
        f"-d{bench.seconds}s` after a {bench.warmup} s warm-up, POST on the create path (`wrk/create.lua`), "
        f"one server at a time, {rounds} rounds in rotating order, medians. Start to first answer: from "
        "starting the process to its first 200 (to the login, or WireMock's stub; Prism's upstream was "
        f"already up). One-minute load average {load['before']:.2f} at the first run, {load['after']:.2f} after "
        "the last (wrk and the servers count in it: a figure to compare between runs, not an alarm).",
        "",
        "| server | req/s | p99 | start to first answer | vs bare | vs WireMock (journal on) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {e['label']} | {e['rps']:,.0f} | {e['p99_ms']:.1f} ms | {e['first_answer_s']:.2f} s "
        f"| {percent(e['vs_bare'])} | {times(e['vs_wiremock'])} |"
        for e in figures.values()
    ]
    lines += [f"| {e['label']} | {e['reason']} | | | | |" for e in unavailable.values()]
    errors = [f"{e['label']}: {errors_note(e)}" for e in figures.values() if errors_note(e)]
    if errors:
        lines += ["", "Errors (warm-ups and measured runs; wrk gives up on a request after 2 s, a socket error): "
                  + "; ".join(errors)]
    RESULTS.mkdir(parents=True, exist_ok=True)
    TABLE_FILE.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return TABLE_FILE


def require_chart_library() -> None:
    """Before the stage's minutes of load, not after them: the chart's library is there."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise BenchError(
            "the rivals chart needs matplotlib: run make bench (it installs the bench extra), or "
            ".venv/bin/pip install -e '.[dev,bench]'"
        ) from None


def write_chart(figures: dict[str, dict[str, Any]]) -> Path:
    require_chart_library()
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot
    labels = [e["label"] for e in figures.values()]
    positions = range(len(labels))
    figure, (throughput, p99) = pyplot.subplots(1, 2, figsize=(13, 0.6 * len(labels) + 1.6), sharey=True)
    for axes, field, title, fmt in (
        (throughput, "rps", "throughput (req/s, higher is better)", "{:,.0f}"),
        (p99, "p99_ms", "p99 latency (ms, lower is better)", "{:.1f}"),
    ):
        values = [e[field] for e in figures.values()]
        bars = axes.barh(positions, values, color=[COLOURS.get(key, "#555555") for key in figures])
        axes.bar_label(bars, labels=[fmt.format(v) for v in values], padding=3)
        axes.set_title(title)
        axes.margins(x=0.2)
    throughput.set_yticks(list(positions), labels)
    throughput.invert_yaxis()
    figure.suptitle(f"create: wrk -t{THREADS} -c{CONNECTIONS}, medians of the rounds, one server at a time")
    figure.tight_layout()
    RESULTS.mkdir(parents=True, exist_ok=True)
    figure.savefig(CHART_FILE, dpi=110)
    pyplot.close(figure)
    return CHART_FILE
