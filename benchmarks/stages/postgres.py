"""Stage ``postgres``: create and query throughput on PostgreSQL with one replica and with two, beside
SQLite in the same run, and how long a reset and a snapshot restore take on PostgreSQL.

Starts a throwaway PostgreSQL cluster (devtools/pgcluster.py: Debian's server programs, a temporary
folder, a free port, ``fsync`` off; ``make bench`` installs the server first when it is missing and we are
root). Three deployments, each on a new database with the default fixtures (``--reset``), one ``serve``
process (one worker) per replica:

* **SQLite**: one server over a new SQLite file, as the mock stage;
* **PostgreSQL**: one server over a new PostgreSQL database;
* **PostgreSQL, 2 replicas**: two servers on two ports over one new database (the second started once the
  first has loaded the fixtures); each load is two wrk processes at once, one against each replica with
  half the connections (``-c16``), and its figure is their sum.

Each deployment gets the create load, then the query load (a page of 50 images), with the session of one
login on the first replica (so a session the other replica does not see shows as non-2xx answers), in
three rounds in rotating order; the rows are the medians and their ratios. A non-2xx answer or a socket
error marks the stage broken. Then STATE_ROUNDS resets and restores on a fresh PostgreSQL server
(benchmarks/state.py's loop), against the 50 ms target; and the sandbox's tenants on a SQLite file and on
PostgreSQL (stages/sandbox_tenants.py): how long one takes to make, and whether making them stalls a
visitor who has one.
"""

from __future__ import annotations

import statistics
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import state
from harness import CONNECTIONS, Bench, Metric, WrkRun, clean, percentiles, rotations, run_wrk, session_of
from serving import CREATE, QUERY_PAGE, ROOT, BenchError, Server

sys.path.insert(0, str(ROOT))  # devtools/ is beside benchmarks/, not installed
from devtools.pgcluster import Cluster, ClusterError
from stages import sandbox_tenants
from stages.variants import ROUNDS, broken_note

STATE_ROUNDS = 100
LOADS = (("create", "create.lua", CREATE), ("query", "query.lua", QUERY_PAGE))


@dataclass(frozen=True)
class Deployment:
    key: str  # in the runs' keys: "<load>/<key> #<round>", "<load>/<key> <replica> #<round>"
    label: str
    postgres: bool
    replicas: int


SQLITE = Deployment("sqlite", "SQLite", postgres=False, replicas=1)
POSTGRES = Deployment("postgres", "PostgreSQL", postgres=True, replicas=1)
POSTGRES_2 = Deployment("postgres x2", "PostgreSQL, 2 replicas", postgres=True, replicas=2)
DEPLOYMENTS = (SQLITE, POSTGRES, POSTGRES_2)


def run(bench: Bench) -> None:
    print(f"[{bench.step}] postgres: rounds of the create and query loads on SQLite, on PostgreSQL and on two "
          "replicas over one PostgreSQL database; then resets and restores on PostgreSQL", flush=True)
    try:
        cluster = Cluster()
    except ClusterError as exc:  # the server is not installed
        raise BenchError(str(exc)) from None
    order: list[str] = []
    problems: list[str] = []
    try:
        cluster.start()
        for number, deployment in rotations(DEPLOYMENTS, ROUNDS):
            order.append(f"{deployment.key} #{number}")
            problems += [f"{deployment.key} #{number}: {p}" for p in _measure(bench, cluster, deployment, number)]
        state_ms = _reset_and_restore(bench, cluster)
        sandbox = {
            "SQLite": sandbox_tenants.measure(bench, bench.workdir / "sandbox.db", "SQLite"),
            "PostgreSQL": sandbox_tenants.measure(bench, cluster.create_database("sandbox"), "PostgreSQL"),
        }
    except ClusterError as exc:
        raise BenchError(str(exc)) from None
    finally:
        cluster.stop()
    if problems:
        print("  BROKEN: " + "; ".join(problems), flush=True)
    bench.facts["postgres"] = {"rounds": ROUNDS, "order": order, "problems": problems,
                               "connections_per_replica": {1: CONNECTIONS, 2: CONNECTIONS // 2},
                               "reset_restore_ms": state_ms, "sandbox": sandbox}


def _servers(bench: Bench, cluster: Cluster, deployment: Deployment, number: int) -> list[Server]:
    name = f"{deployment.key.replace(' ', '-')}-{number}"
    database: Path | str = bench.workdir / f"{name}.db"
    if deployment.postgres:
        database = cluster.create_database(name.replace("-", "_"))
    return [
        bench.mock_server(database, reset=replica == 0, log_name=f"{name}-{replica}.log")
        for replica in range(deployment.replicas)
    ]


def _measure(bench: Bench, cluster: Cluster, deployment: Deployment, number: int) -> list[str]:
    servers = _servers(bench, cluster, deployment, number)
    try:
        servers[0].start()
        _, body = servers[0].first_answer()
        for server in servers[1:]:
            server.start()
            server.first_answer("GET", "/_mock/health", None)
        session = session_of(body)
        problems = []
        for load, script, path in LOADS:
            runs = _load(bench, servers, run_keys(load, deployment, number), script, path, [session])
            if not all(clean(run) for run in runs):
                problems.append(f"{load}: {sum(r.non_2xx for r in runs)} non-2xx, "
                                f"{sum(r.socket_errors for r in runs)} socket errors")
        return problems
    finally:
        for server in servers:
            server.stop()


def run_keys(load: str, deployment: Deployment, number: int) -> list[str]:
    """The keys of a load's runs in a round: ``create/postgres #1``, or one a replica: ``create/postgres x2
    A #1``, ``create/postgres x2 B #1``."""
    if deployment.replicas == 1:
        return [f"{load}/{deployment.key} #{number}"]
    return [f"{load}/{deployment.key} {chr(ord('A') + i)} #{number}" for i in range(deployment.replicas)]


def _load(bench: Bench, servers: list[Server], keys: list[str], script: str, path: str,
          args: list[str]) -> list[WrkRun]:
    """A warm-up, then the measured run, against every server at once, the connections split between them."""
    connections = CONNECTIONS // len(servers)
    print(f"  {keys[0].split('/')[0]} on {', '.join(k.split('/')[1] for k in keys)}: {bench.warmup} s warm-up, "
          f"{bench.seconds} s measured, {connections} connections each ...", flush=True)

    def at_once(seconds: int) -> list[WrkRun]:
        with ThreadPoolExecutor(len(servers)) as pool:
            return list(pool.map(
                lambda server: run_wrk(bench.wrk, server, script, path, seconds, args, connections=connections),
                servers,
            ))

    for run_key, run in zip(keys, at_once(bench.warmup), strict=True):
        bench.warmups[run_key] = run
    cpu = [server.cpu_seconds() for server in servers]
    runs = at_once(bench.seconds)
    for run_key, run, server, before in zip(keys, runs, servers, cpu, strict=True):
        bench.runs[run_key] = run
        bench.server_cpu_s[run_key] = server.cpu_seconds() - before
    print(f"    {sum(r.rps for r in runs):,.0f} req/s, p99 {max(r.p99_ms for r in runs):.2f} ms, "
          f"{sum(r.non_2xx for r in runs)} non-2xx, {sum(r.socket_errors for r in runs)} socket errors", flush=True)
    return runs


def _reset_and_restore(bench: Bench, cluster: Cluster) -> dict[str, Any]:
    print(f"  reset and restore on PostgreSQL: {STATE_ROUNDS} rounds of each on a fresh server", flush=True)
    server = bench.mock_server(cluster.create_database("state"), reset=True, log_name="postgres-state.log")
    try:
        server.start()
        server.first_answer("GET", "/_mock/health", None)
        figures = {name: percentiles(values) for name, values in state.measure_on(server.url, STATE_ROUNDS).items()
                   if name.endswith("in the server")}
    finally:
        server.stop()
    for name, figure in figures.items():
        print(f"    {name}: p50 {figure['p50']:.2f} ms, p99 {figure['p99']:.2f} ms", flush=True)
    return figures


def _median(bench: Bench, load: str, deployment: Deployment) -> float:
    """The deployment's median req/s over the rounds (two replicas: each round's sum)."""
    return statistics.median(
        sum(bench.runs[key].rps for key in run_keys(load, deployment, number)) for number in range(1, ROUNDS + 1)
    )


def metrics(bench: Bench) -> list[Metric]:
    figures: dict[str, Any] | None = bench.facts.get("postgres")
    if figures is None:
        return []
    rows = []
    for load, _, _ in LOADS:
        name = "query, a page of 50" if load == "query" else load
        sqlite, one, two = (_median(bench, load, d) for d in DEPLOYMENTS)
        # wrk's socket errors here are its 2 s timeouts: a stalled machine, or a replica that stopped answering
        broken = broken_note({"problems": [p for p in figures["problems"] if f": {load}: " in p]})
        rows += [
            Metric(f"{name}: SQLite / PostgreSQL / PostgreSQL, 2 replicas (medians of {ROUNDS})",
                   f"{sqlite:,.0f} / {one:,.0f} / {two:,.0f} req/s", "info", None, broken),
            Metric(f"{name}: PostgreSQL vs SQLite", f"{one / sqlite if sqlite else 0:.2f}x", "shown", None),
            Metric(f"{name}: PostgreSQL, 2 replicas vs 1", f"{two / one if one else 0:.2f}x", "shown", None),
        ]
    for name, figure in figures["reset_restore_ms"].items():
        rows.append(Metric(
            f"{name}, PostgreSQL ({figure['jobs']} rounds)",
            f"p50 {figure['p50']:.2f} / p99 {figure['p99']:.2f} / max {figure['max']:.2f} ms",
            f"p99 <= {state.TARGET_MS:g} ms",
            figure["p99"] <= state.TARGET_MS,
        ))
    return rows + sandbox_tenants.metrics(figures["sandbox"])
