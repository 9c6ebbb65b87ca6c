"""Stage ``async``: ``zstack-mock serve --job-duration 0.5``, fresh each time, alternating sync creates with
async accepts (``Prefer: respond-async``, wrk/create_async.lua) for the accept-throughput ratio; during
each async run a probe submits a job every 100 ms with ``X-Web-Hook`` to a loopback receiver, and after it
the control API (``/_mock/jobs``) gives every sampled job's createDate and finishDate: lateness past the
0.5 s (stages/jobs.py).

Three rounds, each a sync run then an async run, every run on a fresh server; accept throughput is
compared between the medians of the three runs of each (throughput drifts on a shared machine). The
server is stopped only after the drain.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime
from typing import Any

from harness import Bench, Metric, clean, errors_note, run_wrk, session_of
from serving import CREATE, Server

from stages.jobs import (
    DRAIN_TIMEOUT_S,
    JOB_DURATION_S,
    JOBS_LIST_LIMIT,
    PROBE_INTERVAL_S,
    AsyncRound,
    JobProbe,
    WebhookReceiver,
    list_jobs,
    summarise,
    wait_for_drain,
)

# Targets: accepts at 90% of the sync creates' rate at least, and jobs Ready on time under load.
ROUNDS = 3  # sync and async runs alternate, each on a fresh server; medians of each
ACCEPT_RATIO_MIN = 0.90
JOB_LATENESS_P99_MAX_MS = 50.0
WEBHOOK_WAIT_S = 10.0  # after the drain, wait this long at most for the probe's last webhooks


def run(bench: Bench) -> None:
    print(
        f"[{bench.step}] async jobs: {ROUNDS} rounds of a sync create run then an async accept run, "
        f"each on a fresh zstack-mock --job-duration {JOB_DURATION_S:g}",
        flush=True,
    )
    rounds: list[AsyncRound] = []
    with WebhookReceiver() as receiver:
        for number in range(1, ROUNDS + 1):
            _sync_round(bench, number)
            rounds.append(_async_round(bench, number, receiver))
    bench.facts["async"] = summarise(rounds)


def _async_server(bench: Bench, name: str) -> tuple[Server, str]:
    """A fresh ``zstack-mock serve --job-duration 0.5``, started, and an admin session on it."""
    server = bench.mock_server(
        bench.workdir / f"{name}.db", reset=True, log_name=f"{name}.log",
        extra=("--job-duration", f"{JOB_DURATION_S:g}"),
    )
    server.start()
    _, body = server.first_answer()
    return server, session_of(body)


def _sync_round(bench: Bench, number: int) -> None:
    server, session = _async_server(bench, f"sync-{number}")
    try:
        bench.measure(server, f"create/zstack-mock sync #{number}", "create.lua", CREATE, [session])
    finally:
        server.stop()


def _async_round(bench: Bench, number: int, receiver: WebhookReceiver) -> AsyncRound:
    key = f"create/zstack-mock async #{number}"
    server, session = _async_server(bench, f"async-{number}")
    try:
        print(
            f"  {key}: {bench.warmup} s warm-up, {bench.seconds} s measured, probe job every "
            f"{PROBE_INTERVAL_S * 1000:.0f} ms ...",
            flush=True,
        )
        bench.warmups[key] = run_wrk(bench.wrk, server, "create_async.lua", CREATE, bench.warmup, [session])
        probe = JobProbe(server.port, session, receiver.url)
        window_start = datetime.now(UTC)
        probe.start()
        try:
            run = bench.runs[key] = run_wrk(
                bench.wrk, server, "create_async.lua", CREATE, bench.seconds, [session]
            )
        finally:
            load_end = time.perf_counter()
            probe.stop()  # waits for its request in flight, if any
            window_end = datetime.now(UTC)
        print(
            f"    {run.rps:,.0f} accepts/s, p50 {run.p50_ms:.2f} ms, p99 {run.p99_ms:.2f} ms, "
            f"{run.requests:,} requests, {run.non_2xx} non-2xx, {run.socket_errors} socket errors",
            flush=True,
        )
        drain_s = wait_for_drain(server, load_end)
        still_running = [] if drain_s is not None else list_jobs(server, "status=Running&")
        arrivals = receiver.wait_for([s.uuid for s in probe.accepted], WEBHOOK_WAIT_S)
        listed = list_jobs(server)
        failed_on_server = len(list_jobs(server, "status=Failed&"))
    finally:
        server.stop()
    result = AsyncRound.build(
        number, run, window_start, window_end, drain_s, listed, still_running, failed_on_server, probe, arrivals
    )
    print(f"    {result.describe()}", flush=True)
    return result


def _lateness(figures: dict[str, Any]) -> str:
    if not figures["jobs"]:
        return "no jobs"
    return (
        f"p50 {figures['p50']:.1f} / p99 {figures['p99']:.1f} / max {figures['max']:.1f} ms, "
        f"{figures['jobs']:,} jobs"
    )


def metrics(bench: Bench) -> list[Metric]:
    runs, figures = bench.runs, bench.facts.get("async")
    if figures is None:
        return []
    syncs = [runs[f"create/zstack-mock sync #{n}"] for n in range(1, ROUNDS + 1)]
    asyncs = [runs[f"create/zstack-mock async #{n}"] for n in range(1, ROUNDS + 1)]
    sync_rps = statistics.median(r.rps for r in syncs)
    async_rps = statistics.median(r.rps for r in asyncs)
    ratio = async_rps / sync_rps if sync_rps else 0.0
    unclean = [r for r in (*syncs, *asyncs) if not clean(r)]
    server = figures["lateness_ms"]
    problems = []
    if figures["failed"]:
        problems.append(f"{figures['failed']} jobs failed")
    if figures["unfinished"] or not figures["all_drained"]:
        problems.append(f"{figures['unfinished']:,} jobs still Running {DRAIN_TIMEOUT_S:.0f} s after the load")
    sampled = sum(r["listed_jobs"] for r in figures["rounds"])
    if not all(r["listed_all_jobs_of_the_run"] for r in figures["rounds"]):
        problems.append(f"sample: the newest {JOBS_LIST_LIMIT:,} jobs of each run ({sampled:,} of {figures['accepted']:,})")
    drain = figures["drain_s_max"]
    return [
        Metric(
            f"async accept vs sync create (medians of {ROUNDS} alternating runs)",
            f"{async_rps:,.0f} / {sync_rps:,.0f} req/s = {ratio:.1%}",
            f">= {ACCEPT_RATIO_MIN:.0%}",
            ratio >= ACCEPT_RATIO_MIN and not unclean,
            errors_note(unclean[0]) if unclean else "",
        ),
        Metric(
            f"accept -> Ready lateness, server (finishDate - createDate - {JOB_DURATION_S:g} s)",
            _lateness(server),
            f"p99 <= {JOB_LATENESS_P99_MAX_MS:.0f} ms",
            bool(server["jobs"]) and server["p99"] <= JOB_LATENESS_P99_MAX_MS
            and not figures["failed"] and not figures["unfinished"] and figures["all_drained"],
            "; ".join(problems),
        ),
        Metric(
            f"accept -> webhook lateness, probe every {PROBE_INTERVAL_S * 1000:.0f} ms (202 to POST - "
            f"{JOB_DURATION_S:g} s)",
            _lateness(figures["probe_webhook_lateness_ms"]),
            "info (target on the row above)",
            None,
            f"{figures['probe_missing_webhooks']} webhooks missing, {figures['probe_errors']} probe errors"
            if figures["probe_missing_webhooks"] or figures["probe_errors"] else "",
        ),
        Metric(
            "async jobs: accepted (wrk's 202s) / finished; drain",
            f"{figures['accepted']:,} / {figures['finished']:,}; "
            + (f"none Running {drain:.2f} s after the load" if figures["all_drained"] else "NOT all drained"),
            "info",
            None,
            "" if figures["created"] is None else f"the server created {figures['created']:,} (requests in flight)",
        ),
    ]
