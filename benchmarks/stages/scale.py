"""Stage ``scale``: ``zstack-mock generate`` 100,000 images and 100,000 backups into a new file (timed), then
``zstack-mock serve`` on it: query latency (one connection, so p50 is service time) and create
throughput, compared with the mock stage's create figure on the default fixtures.

Throughput drifts by a fifth from minute to minute on a shared machine, so the create ratio is taken
between the medians of three runs each, alternating a fresh default-fixtures server with the at-scale
one (the mock stage's run is the first default one). BENCH_SCALE_IMAGES / BENCH_SCALE_BACKUPS shrink the
inventory for a quick run.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import time

from harness import Bench, Metric, clean, errors_note, session_of
from serving import BACKUP, CREATE, ROOT, VENV_BIN, BenchError, auth, request

IMAGES = int(os.environ.get("BENCH_SCALE_IMAGES", "100000"))
BACKUPS = int(os.environ.get("BENCH_SCALE_BACKUPS", "100000"))
LABEL = f"{IMAGES // 1000}k"  # in the run keys: "query page/100k", "create/zstack-mock 100k #2"
GENERATE_MAX_S = 20.0
PAGE_QUERY = "q=platform=Linux&q=status=Ready&sort=-createDate&limit=50&replyWithCount=true"
PAGE_P50_MAX_MS = 20.0
UUID_P50_MAX_MS = 5.0
CREATE_RATIO_MIN = 0.85
CREATE_ROUNDS = 3


def run(bench: Bench) -> None:
    db = bench.workdir / "scale.db"
    print(
        f"[{bench.step}] at scale: generating {IMAGES:,} images and {BACKUPS:,} backups into {db}",
        flush=True,
    )
    argv = [
        str(VENV_BIN / "zstack-mock"), "generate", "--images", str(IMAGES), "--backups",
        str(BACKUPS), "--seed", "1", "--database-url", f"sqlite:///{db}",
    ]
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600)
    bench.facts["scale_generate_s"] = time.perf_counter() - started
    if done.returncode != 0:
        raise BenchError(f"zstack-mock generate failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    print(f"  generated and loaded in {bench.facts['scale_generate_s']:.1f} s", flush=True)

    server = bench.mock_server(db, reset=False, log_name="zstack-mock-scale.log")
    try:
        server.start()
        _, body = server.first_answer()
        session = session_of(body)
        status, page = request(server.port, "GET", f"/zstack/v1/images?{PAGE_QUERY}", headers=auth(session))
        if status != 200:
            raise BenchError(f"the scale query answered {status}: {page[:300]!r}")
        listed = json.loads(page)
        bench.facts["scale_page_total"] = listed.get("total")
        uuid = listed["inventories"][0]["uuid"]
        bench.measure_latency(server, f"query page/{LABEL}", f"/zstack/v1/images?{PAGE_QUERY}", session)
        bench.measure_latency(server, f"query by uuid/{LABEL}", f"/zstack/v1/images/{uuid}", session)
        backup, storage = _ready_backup(server.port, session)
        create_path = CREATE.replace(BACKUP, backup)
        bench.measure(server, f"create/zstack-mock {LABEL}", "create.lua", create_path, [session, storage])
    finally:
        server.stop()
    # Throughput drifts by a fifth from minute to minute on a shared machine, so the ratio is taken
    # between medians of runs that alternate: default fixtures, at scale, default, at scale...
    for round_number in range(2, CREATE_ROUNDS + 1):
        default_db = bench.workdir / f"default-{round_number}.db"
        default = bench.mock_server(default_db, reset=True, log_name=f"default-{round_number}.log")
        try:
            default.start()
            _, body = default.first_answer()
            default_session = session_of(body)
            bench.measure(default, f"create/zstack-mock #{round_number}", "create.lua", CREATE, [default_session])
        finally:
            default.stop()
        scaled = bench.mock_server(db, reset=False, log_name=f"scale-{round_number}.log")
        try:
            scaled.start()
            _, body = scaled.first_answer()
            scaled_session = session_of(body)
            bench.measure(
                scaled, f"create/zstack-mock {LABEL} #{round_number}", "create.lua", create_path,
                [scaled_session, storage],
            )
        finally:
            scaled.stop()


def _ready_backup(port: int, session: str) -> tuple[str, str]:
    """A generated backup and an Enabled, Connected storage holding it, found through the query API."""
    path = "/zstack/v1/backup-storage?q=state=Enabled&q=status=Connected&fields=uuid"
    _, body = request(port, "GET", path, headers=auth(session))
    for storage in json.loads(body)["inventories"]:
        path = f"/zstack/v1/volume-backups?q=backupStorageRefs.backupStorageUuid={storage['uuid']}&limit=1&fields=uuid"
        _, body = request(port, "GET", path, headers=auth(session))
        found = json.loads(body)["inventories"]
        if found:
            return found[0]["uuid"], storage["uuid"]
    raise BenchError("the generated inventory has no backup on an Enabled, Connected backup storage")


def metrics(bench: Bench) -> list[Metric]:
    runs, facts = bench.runs, bench.facts
    if "scale_generate_s" not in facts:
        return []
    page, lookup = runs[f"query page/{LABEL}"], runs[f"query by uuid/{LABEL}"]
    scaled = [runs[f"create/zstack-mock {LABEL}"]]
    defaults = [runs["create/zstack-mock"]]
    for round_number in range(2, CREATE_ROUNDS + 1):
        scaled.append(runs[f"create/zstack-mock {LABEL} #{round_number}"])
        defaults.append(runs[f"create/zstack-mock #{round_number}"])
    scaled_rps = statistics.median(r.rps for r in scaled)
    default_rps = statistics.median(r.rps for r in defaults)
    ratio = scaled_rps / default_rps if default_rps else 0.0
    unclean = [r for r in scaled if not clean(r)]
    size = f"{IMAGES // 1000}k images + {BACKUPS // 1000}k backups"
    return [
        Metric(
            f"generate + load {size}",
            f"{facts['scale_generate_s']:.1f} s",
            f"<= {GENERATE_MAX_S:.0f} s",
            facts["scale_generate_s"] <= GENERATE_MAX_S,
        ),
        Metric(
            "filtered page of 50, p50",
            f"{page.p50_ms:.2f} ms",
            f"<= {PAGE_P50_MAX_MS:.0f} ms",
            page.p50_ms <= PAGE_P50_MAX_MS and clean(page),
            errors_note(page),
        ),
        Metric(
            "/images/{uuid} lookup, p50",
            f"{lookup.p50_ms:.2f} ms",
            f"<= {UUID_P50_MAX_MS:.0f} ms",
            lookup.p50_ms <= UUID_P50_MAX_MS and clean(lookup),
            errors_note(lookup),
        ),
        Metric(
            f"create with {size} vs default (medians of {CREATE_ROUNDS} alternating runs)",
            f"{scaled_rps:,.0f} / {default_rps:,.0f} req/s = {ratio:.1%}",
            f">= {CREATE_RATIO_MIN:.0%}",
            ratio >= CREATE_RATIO_MIN and not unclean,
            errors_note(unclean[0]) if unclean else "",
        ),
    ]
