"""Stage ``mock``: ``zstack-mock serve`` on a fresh temporary SQLite file: time to the first answer,
creates until at least 10,000 have been made (then VmRSS), a page of 50 images, logins.

Its rows: create, query and login throughput against the baseline's (when it ran), create p99, the first
answer on a fresh database, and the RSS after the creates. The restart stage reopens its database; the
scale stage compares its create figure with this stage's.
"""

from __future__ import annotations

import math
from pathlib import Path

from harness import Bench, Metric, clean, errors_note, page_bytes, ratio_metric, run_wrk, session_of
from serving import CREATE, HOST, LOGIN_PATH, QUERY_PAGE

# Targets (issue 18's, one worker, default settings).
CREATE_RATIO_MIN = 0.50
CREATE_P99_MAX_MS = 25.0
LOGIN_RATIO_MIN = 0.60
QUERY_RATIO_MIN = 0.50
FIRST_ANSWER_MAX_S = 1.0
CREATES_BEFORE_RSS = 10_000
RSS_MAX_MB = 100.0  # decimal megabytes (10^6 bytes), the stricter reading
MAX_TOP_UPS = 5


def database(bench: Bench) -> Path:
    """The SQLite file this stage creates and the restart stage reopens."""
    return bench.workdir / "bench.db"


def run(bench: Bench) -> None:
    db = database(bench)
    server = bench.mock_server(db, reset=True)
    print(f"[{bench.step}] zstack-mock on {HOST}:{server.port}, fresh database {db}", flush=True)
    try:
        server.start()
        seconds, body = server.first_answer()
        bench.facts["first_answer_fresh_s"] = seconds
        print(f"  first answer after {seconds:.3f} s", flush=True)
        bench.facts["rss_at_start_kib"] = server.rss_kib()
        session = session_of(body)

        create = bench.measure(server, "create/zstack-mock", "create.lua", CREATE, [session])
        creates = bench.warmups["create/zstack-mock"].ok + create.ok
        for _ in range(MAX_TOP_UPS):
            if creates >= CREATES_BEFORE_RSS:
                break
            missing = CREATES_BEFORE_RSS - creates
            seconds_needed = min(300, math.ceil(missing / max(create.rps, 1.0) * 1.25) + 1)
            print(
                f"  {missing:,} creates short of {CREATES_BEFORE_RSS:,}: {seconds_needed} s more",
                flush=True,
            )
            creates += run_wrk(bench.wrk, server, "create.lua", CREATE, seconds_needed, [session]).ok
        bench.facts["creates_before_rss"] = creates
        bench.facts["rss_after_creates_kib"] = server.rss_kib()
        print(
            f"  VmRSS after {creates:,} creates: {bench.facts['rss_after_creates_kib'] * 1024 / 1e6:.1f} MB",
            flush=True,
        )

        bench.facts.setdefault("query_page_bytes", {})["zstack-mock"] = page_bytes(server, session)
        bench.measure(server, "query/zstack-mock", "query.lua", QUERY_PAGE, [session])
        bench.measure(server, "login/zstack-mock", "login.lua", LOGIN_PATH, [])
    finally:
        server.stop()


def load_metrics(bench: Bench) -> list[Metric]:
    """Create, query and login throughput against the baseline, create p99."""
    runs = bench.runs
    rows: list[Metric] = []
    create, login = runs.get("create/zstack-mock"), runs.get("login/zstack-mock")
    if create is not None and "create/bare" in runs:
        rows.append(ratio_metric("create throughput vs bare", create, runs["create/bare"], CREATE_RATIO_MIN))
    if create is not None:
        rows.append(
            Metric(
                "create p99 latency",
                f"{create.p99_ms:.2f} ms",
                f"<= {CREATE_P99_MAX_MS:.0f} ms",
                create.p99_ms <= CREATE_P99_MAX_MS and clean(create),
                errors_note(create),
            )
        )
    query = runs.get("query/zstack-mock")
    if query is not None and "query/bare" in runs:
        sizes = bench.facts["query_page_bytes"]
        row = ratio_metric(f"query page of 50 vs bare ({QUERY_PAGE})", query, runs["query/bare"], QUERY_RATIO_MIN)
        size_note = f"answers of {sizes['zstack-mock']:,} / {sizes['bare']:,} bytes"
        row.note = f"{row.note}; {size_note}" if row.note else size_note
        rows.append(row)
    if login is not None and "login/bare" in runs:
        rows.append(ratio_metric("login throughput vs bare", login, runs["login/bare"], LOGIN_RATIO_MIN))
    return rows


def first_answer_metrics(bench: Bench) -> list[Metric]:
    facts = bench.facts
    if "first_answer_fresh_s" not in facts:
        return []
    return [
        Metric(
            "first answer, fresh DB",
            f"{facts['first_answer_fresh_s']:.3f} s",
            f"<= {FIRST_ANSWER_MAX_S:.0f} s",
            facts["first_answer_fresh_s"] <= FIRST_ANSWER_MAX_S,
        )
    ]


def memory_metrics(bench: Bench) -> list[Metric]:
    facts = bench.facts
    if "rss_after_creates_kib" not in facts:
        return []
    rss_mb = facts["rss_after_creates_kib"] * 1024 / 1e6
    return [
        Metric(
            f"RSS after {facts['creates_before_rss']:,} creates",
            f"{rss_mb:.1f} MB",
            f"<= {RSS_MAX_MB:.0f} MB",
            rss_mb <= RSS_MAX_MB and facts["creates_before_rss"] >= CREATES_BEFORE_RSS,
        )
    ]
