"""The sandbox's tenants on SQLite files and on PostgreSQL (part of the ``postgres`` stage).

For each, one ``serve --sandbox`` (local profile, no rate limits) on a new database: one visitor reads its
images (a page) REQUESTS times alone, then again while another client logs in (makes a new tenant) over
and over. Reported: how long the server took to make a tenant (its own measure, ``GET /_mock/sandbox``)
and the quiet visitor's p50 and p99 alone and beside the logins, and their ratio: making tenants must not
stall the visitors who already have one (over PostgreSQL it runs off the event loop). Beside the logins
the visitor shares the server with a second busy client, so its reads cannot stay as fast as alone; what
would show a stall is a ratio near the time a tenant takes to make over a read's (over PostgreSQL, made on
the event loop, a read's p50 went from 3 to 91 ms).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx
from harness import Bench, Metric, percentiles
from serving import LOGIN, LOGIN_PATH, auth

REQUESTS = 300
SANDBOX = ("--sandbox", "--no-public-profile", "--sandbox-rate-limit", "0")


def measure(bench: Bench, database: Path | str, label: str) -> dict[str, Any]:
    print(f"  sandbox on {label}: a visitor's {REQUESTS} reads alone, then while another client logs in "
          "over and over", flush=True)
    server = bench.mock_server(database, reset=True, log_name=f"sandbox-{label}.log", extra=SANDBOX)
    try:
        server.start()
        server.first_answer("GET", "/_mock/health", None)
        with httpx.Client(base_url=server.url, timeout=30) as client:
            session = client.put(LOGIN_PATH, json=LOGIN).json()["inventory"]["uuid"]
            alone = _reads(client, session)
            stop, logins = threading.Event(), [0]

            def log_in_again_and_again() -> None:
                with httpx.Client(base_url=server.url, timeout=30) as other:
                    while not stop.is_set():
                        other.put(LOGIN_PATH, json=LOGIN).raise_for_status()
                        logins[0] += 1

            churn = threading.Thread(target=log_in_again_and_again)
            churn.start()
            try:
                beside = _reads(client, session)
            finally:
                stop.set()
                churn.join()
            creation = client.get("/_mock/sandbox").json()["creationMs"]
    finally:
        server.stop()
    figures = {"alone": percentiles(alone), "beside_logins": percentiles(beside), "logins": logins[0],
               "creation_ms": creation}
    print(f"    tenant made in p50 {creation['p50']:.1f} ms; reads p50 {figures['alone']['p50']:.1f} ms alone, "
          f"{figures['beside_logins']['p50']:.1f} ms beside {logins[0]} logins", flush=True)
    return figures


def _reads(client: httpx.Client, session: str) -> list[float]:
    took = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        client.get("/zstack/v1/images?limit=50", headers=auth(session)).raise_for_status()
        took.append((time.perf_counter() - started) * 1000)
    return took


def metrics(figures: dict[str, dict[str, Any]]) -> list[Metric]:
    rows = []
    for label, figure in figures.items():
        alone, beside = figure["alone"], figure["beside_logins"]
        ratio = beside["p50"] / alone["p50"] if alone["p50"] else 0.0
        rows += [
            Metric(f"sandbox on {label}: a tenant made in (server's p50 / max)",
                   f"{figure['creation_ms']['p50']:.1f} / {figure['creation_ms']['max']:.1f} ms", "shown", None),
            Metric(f"sandbox on {label}: a visitor's read p50 beside another's logins vs alone",
                   f"{beside['p50']:.1f} / {alone['p50']:.1f} ms = {ratio:.2f}x (p99 {beside['p99']:.1f} / "
                   f"{alone['p99']:.1f} ms; {figure['logins']} logins)",
                   "shown", None),
        ]
    return rows
