"""Sandbox load check: many visitors on one ``--sandbox`` server, against the same load without it.

Starts ``zstack-mock serve`` twice (the real command, a fresh temporary SQLite file each, the default
fixtures, no rate limit per tenant or per client address, so the load is not throttled): once with
``--sandbox``, once without as the baseline. Against each, TENANTS visitors, CONCURRENCY at a time, make REQUESTS requests each:

    log in (a new tenant under --sandbox), create an image named after the visitor, then list the
    images, read its own image and read another visitor's image, in turn, until REQUESTS are made.

Checks, under --sandbox: no request fails, every listing holds the fixtures' images and the visitor's
own and nothing else, and another visitor's image is never visible (no cross-tenant leak). Reports
requests per second (sandbox as a ratio of the baseline), the server's RSS before and after and its
growth per tenant, how long the server took to make each tenant (its own measure, GET /_mock/sandbox)
against the 20 ms target, and the client's latency of a visitor's first request.

    .venv/bin/python benchmarks/sandbox.py
    BENCH_SANDBOX_TENANTS=1000 .venv/bin/python benchmarks/sandbox.py
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from dataclasses import dataclass, field

import httpx
from serving import CREATE, LOGIN, LOGIN_PATH, STORAGE, auth, zstack_mock

TENANTS = int(os.environ.get("BENCH_SANDBOX_TENANTS", "200"))
REQUESTS = int(os.environ.get("BENCH_SANDBOX_REQUESTS", "20"))
CONCURRENCY = int(os.environ.get("BENCH_SANDBOX_CONCURRENCY", "16"))
CREATE_TARGET_MS = 20.0
FIXTURE_IMAGES = {"centos-7-template", "ubuntu-22.04-iso", "alice-debian-template"}


@dataclass
class Outcome:
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    first_request_ms: list[float] = field(default_factory=list)
    images: dict[int, str] = field(default_factory=dict)


async def _visitor(client: httpx.AsyncClient, n: int, outcome: Outcome, sandbox: bool) -> None:
    started = time.perf_counter()
    response = await client.put(LOGIN_PATH, json=LOGIN)
    outcome.first_request_ms.append((time.perf_counter() - started) * 1000)
    outcome.requests += 1
    if response.status_code != 200:
        outcome.errors.append(f"visitor {n} login: {response.status_code} {response.text[:200]}")
        return
    headers = auth(response.json()["inventory"]["uuid"])
    name = f"visitor-{n}"
    response = await client.post(CREATE, json={"params": {"backupStorageUuid": STORAGE, "name": name}},
                                 headers=headers)
    outcome.requests += 1
    if response.status_code != 200:
        outcome.errors.append(f"visitor {n} create: {response.status_code} {response.text[:200]}")
        return
    mine = response.json()["inventory"]["uuid"]
    outcome.images[n] = mine
    for i in range(REQUESTS - 2):
        kind = i % 3
        if kind == 0:
            response = await client.get("/zstack/v1/images", headers=headers)
        elif kind == 1:
            response = await client.get(f"/zstack/v1/images/{mine}", headers=headers)
        else:
            other = outcome.images.get(n - 1) or outcome.images.get(n + 1) or mine
            response = await client.get(f"/zstack/v1/images/{other}", headers=headers)
        outcome.requests += 1
        if response.status_code != 200:
            outcome.errors.append(f"visitor {n} request {i}: {response.status_code} {response.text[:200]}")
            continue
        if not sandbox:
            continue
        inventories = response.json()["inventories"]
        names = {image["name"] for image in inventories}
        if kind == 0 and names != FIXTURE_IMAGES | {name}:
            outcome.leaks.append(f"visitor {n} lists {sorted(names - FIXTURE_IMAGES - {name})}")
        elif kind == 1 and names != {name}:
            outcome.leaks.append(f"visitor {n} cannot read its own image: {names}")
        elif kind == 2 and other != mine and inventories:
            outcome.leaks.append(f"visitor {n} reads another visitor's image {other}")


async def _load(base_url: str, sandbox: bool) -> tuple[Outcome, float]:
    outcome = Outcome()
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for n in range(TENANTS):
            queue.put_nowait(n)

        async def worker() -> None:
            while not queue.empty():
                await _visitor(client, queue.get_nowait(), outcome, sandbox)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - started
    return outcome, elapsed


def _run(sandbox: bool) -> dict[str, object]:
    flags = ["--journal-size", "10000", "--max-sessions-per-account", "0"]
    if sandbox:
        # All visitors log in from one address: the public profile's per-address limits would pace them.
        flags += ["--sandbox", "--sandbox-rate-limit", "0", "--sandbox-max-tenants", str(max(TENANTS, 1000)),
                  "--login-rate-limit", "0", "--anonymous-rate-limit", "0"]
    with zstack_mock(*flags, name="sandbox") as server:
        # Warm the request path the same way in both runs, without making a tenant.
        for _ in range(20):
            httpx.get(f"{server.url}/zstack/v1/images")
        rss_before = server.rss_kib()
        outcome, elapsed = asyncio.run(_load(server.url, sandbox))
        rss_after = server.rss_kib()
        status = httpx.get(f"{server.url}/_mock/sandbox").json()
    return {"outcome": outcome, "elapsed": elapsed, "rss_before": rss_before, "rss_after": rss_after,
            "status": status}


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def main() -> int:
    print(f"sandbox load: {TENANTS} visitors x {REQUESTS} requests, {CONCURRENCY} at a time, one server each run")
    baseline = _run(sandbox=False)
    sandboxed = _run(sandbox=True)
    failed = False
    print(f"{'run':<10} {'requests':>8} {'errors':>6} {'leaks':>6} {'req/s':>8} {'RSS before':>11} {'RSS after':>10}"
          f" {'first req p50/p99 ms':>21}")
    for label, run in (("baseline", baseline), ("sandbox", sandboxed)):
        outcome = run["outcome"]
        assert isinstance(outcome, Outcome)
        rate = outcome.requests / float(run["elapsed"])  # type: ignore[arg-type]
        run["rate"] = rate
        first = f"{statistics.median(outcome.first_request_ms):.1f} / {_pct(outcome.first_request_ms, 0.99):.1f}"
        print(f"{label:<10} {outcome.requests:>8} {len(outcome.errors):>6} {len(outcome.leaks):>6} {rate:>8.0f}"
              f" {run['rss_before']:>8} KiB {run['rss_after']:>7} KiB {first:>21}")
        for problem in (outcome.errors + outcome.leaks)[:5]:
            print(f"    {problem}")
        failed = failed or bool(outcome.errors) or bool(outcome.leaks)
    status = sandboxed["status"]
    assert isinstance(status, dict)
    tenants = int(status["tenants"])
    growth = (int(sandboxed["rss_after"]) - int(sandboxed["rss_before"])) / max(tenants, 1)  # type: ignore[call-overload]
    base_growth = (int(baseline["rss_after"]) - int(baseline["rss_before"])) / TENANTS  # type: ignore[call-overload]
    print(f"tenants made: {tenants} (expected {TENANTS}) {'PASS' if tenants == TENANTS else 'FAIL'}")
    print(f"RSS growth per tenant: {growth:.1f} KiB (baseline, same load without tenants: {base_growth:.1f} KiB per visitor)")
    creation = status.get("creationMs") or {}
    verdict = "PASS" if creation and creation["p99"] <= CREATE_TARGET_MS else "FAIL"
    print(f"tenant creation in the server: p50 {creation.get('p50')} / p99 {creation.get('p99')} / max "
          f"{creation.get('max')} ms   p99 <= {CREATE_TARGET_MS:g} ms {verdict}")
    ratio = float(sandboxed["rate"]) / float(baseline["rate"])  # type: ignore[arg-type]
    print(f"throughput, sandbox vs baseline: {ratio:.1%}")
    no_problems = not failed and tenants == TENANTS
    print(f"errors and leaks: {'none: PASS' if no_problems else 'FAIL'}")
    # A missed speed target is a report, as in run.py; errors and leaks are failures.
    return 0 if no_problems else 1


if __name__ == "__main__":
    sys.exit(main())
