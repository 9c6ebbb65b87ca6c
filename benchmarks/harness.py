"""What every stage of ``make bench`` measures with: wrk, the figures of a run, the result rows.

Each load is ``wrk -t2 -c32 -d<seconds>s --timeout 2s`` with a script of benchmarks/wrk/, whose ``done()``
hook (wrk/report.lua) prints requests, errors and exact latency percentiles as one JSON line; a measured
run is preceded by a warm-up with the same script whose figures are kept apart. The server's CPU time
during a measured run comes from ``/proc/<pid>/stat`` (serving.Server).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import statistics
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import serving
from serving import BENCH_DIR, CREATE, HOST, QUERY_PAGE, STORAGE, BenchError, Server, auth, request

WRK_DIR = BENCH_DIR / "wrk"
THREADS = 2
CONNECTIONS = 32
WRK_TIMEOUT = "2s"
T = TypeVar("T")


# --------------------------------------------------------------------------- wrk


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk not found: installing it with apt-get (Debian package wrk)", flush=True)
    apt_install("wrk")
    found = shutil.which("wrk")
    if not found:
        raise BenchError("wrk is still missing after apt-get install wrk")
    return found


def apt_install(package: str) -> None:
    """``apt-get install -y <package>`` (needs root); ``apt-get update`` and again if the first attempt fails."""
    install = ["apt-get", "install", "-y", "-q", package]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(install, env=env, timeout=600).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, timeout=600, check=True)
        subprocess.run(install, env=env, timeout=600, check=True)


@dataclass
class WrkRun:
    requests: int
    seconds: float
    non_2xx: int  # responses with a status >= 400
    socket_errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    mean_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def ok(self) -> int:
        return self.requests - self.non_2xx

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "rps": round(self.rps, 1)}


def run_wrk(
    wrk: str, server: Server, script: str, path: str, seconds: int, args: list[str], *, connections: int = CONNECTIONS
) -> WrkRun:
    argv = [
        wrk,
        f"-t{min(THREADS, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        WRK_TIMEOUT,
        "-s",
        str(WRK_DIR / script),
        f"http://{HOST}:{server.port}{path}",
    ]
    if args:
        argv += ["--", *args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    server.check_alive()
    lines = [line for line in done.stdout.splitlines() if line.startswith("BENCH_RESULT ")]
    if done.returncode != 0 or not lines:
        raise BenchError(f"wrk failed ({done.returncode}): {' '.join(argv)}\n{done.stdout}{done.stderr}")
    raw = json.loads(lines[-1].removeprefix("BENCH_RESULT "))
    errors, latency = raw["errors"], raw["latency_us"]
    return WrkRun(
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        non_2xx=errors["status"],
        socket_errors=errors["connect"] + errors["read"] + errors["write"] + errors["timeout"],
        p50_ms=latency["p50"] / 1000,
        p90_ms=latency["p90"] / 1000,
        p99_ms=latency["p99"] / 1000,
        p999_ms=latency["p999"] / 1000,
        max_ms=latency["max"] / 1000,
        mean_ms=latency["mean"] / 1000,
    )


# --------------------------------------------------------------------------- the run


@dataclass
class Bench:
    """One ``make bench``: its settings, and what the stages measured so far (the report's input)."""

    wrk: str
    seconds: int
    warmup: int
    workdir: Path
    runs: dict[str, WrkRun] = field(default_factory=dict)  # "create/bare", "login/zstack-mock", ...
    warmups: dict[str, WrkRun] = field(default_factory=dict)
    server_cpu_s: dict[str, float] = field(default_factory=dict)  # the server's CPU time in each measured run
    facts: dict[str, Any] = field(default_factory=dict)
    step: str = ""  # "2/5": printed at the start of each stage
    stages: tuple[str, ...] = ()

    def mock_server(
        self, db: Path | str, *, reset: bool, log_name: str | None = None, extra: tuple[str, ...] = ()
    ) -> Server:
        """``zstack-mock serve`` on a temporary database, a SQLite file or a database URL (plus ``extra``
        flags), without the caller's ``ZSTACK_MOCK_*`` variables and with no cap on sessions (the login load
        opens tens of thousands)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("ZSTACK_MOCK_")}
        env["ZSTACK_MOCK_MAX_SESSIONS_PER_ACCOUNT"] = "0"  # every login opens a session: lift the 500 cap
        log = self.workdir / (log_name or ("zstack-mock.log" if reset else "zstack-mock-restart.log"))
        return serving.mock_server(db, *extra, reset=reset, log_path=log, env=env)

    def measure(self, server: Server, key: str, script: str, path: str, args: list[str]) -> WrkRun:
        label = f"{key} ({server.name})"
        print(f"  {label}: {self.warmup} s warm-up, {self.seconds} s measured ...", flush=True)
        self.warmups[key] = run_wrk(self.wrk, server, script, path, self.warmup, args)
        cpu = server.cpu_seconds()
        run = self.runs[key] = run_wrk(self.wrk, server, script, path, self.seconds, args)
        cpu = self.server_cpu_s[key] = server.cpu_seconds() - cpu
        print(
            f"    {run.rps:,.0f} req/s, p50 {run.p50_ms:.2f} ms, p99 {run.p99_ms:.2f} ms, "
            f"{run.requests:,} requests, {run.non_2xx} non-2xx, {run.socket_errors} socket errors; "
            f"server CPU {cpu / max(run.requests, 1) * 1e6:,.0f} us a request",
            flush=True,
        )
        return run

    def measure_latency(self, server: Server, key: str, path: str, session: str) -> WrkRun:
        print(f"  {key}: {self.seconds} s on one connection ...", flush=True)
        run = self.runs[key] = run_wrk(self.wrk, server, "query.lua", path, self.seconds, [session], connections=1)
        print(f"    p50 {run.p50_ms:.2f} ms, p99 {run.p99_ms:.2f} ms, {run.requests:,} requests", flush=True)
        return run


# --------------------------------------------------------------------------- result rows and figures


@dataclass
class Metric:
    name: str
    value: str
    target: str
    passed: bool | None  # None: a figure shown beside a target, not one itself
    note: str = ""


def ratio_metric(name: str, run: WrkRun, base: WrkRun, minimum: float) -> Metric:
    ratio = run.rps / base.rps if base.rps else 0.0
    value = f"{run.rps:,.0f} / {base.rps:,.0f} req/s = {ratio:.1%}"
    notes = [errors_note(run), f"bare: {errors_note(base)}" if errors_note(base) else ""]
    return Metric(
        name, value, f">= {minimum:.0%} of bare", ratio >= minimum and clean(run) and clean(base),
        "; ".join(n for n in notes if n),
    )


def clean(run: WrkRun) -> bool:
    return run.non_2xx == 0 and run.socket_errors == 0


def errors_note(run: WrkRun) -> str:
    return "" if clean(run) else f"{run.non_2xx} non-2xx, {run.socket_errors} socket errors"


def percentiles(values: list[float]) -> dict[str, Any]:
    """Nearest-rank p50 / p99 and the max of ``values`` (milliseconds), and how many there were."""
    if not values:
        return {"jobs": 0, "p50": None, "p99": None, "max": None}
    ordered = sorted(values)

    def rank(p: float) -> float:
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]

    return {"jobs": len(ordered), "p50": round(rank(50), 2), "p99": round(rank(99), 2), "max": round(ordered[-1], 2)}


# --------------------------------------------------------------------------- HTTP


def session_of(login_answer: bytes) -> str:
    """The session uuid in a login's answer (what Server.first_answer returns)."""
    return str(json.loads(login_answer)["inventory"]["uuid"])


def get_json(server: Server, path: str, timeout: float = 60.0) -> Any:
    status, body = request(server.port, "GET", path, timeout=timeout)
    if status != 200:
        raise BenchError(f"GET {path} answered {status}: {body[:300]!r}")
    return json.loads(body)


def page_bytes(server: Server, session: str) -> int:
    """The size of the query load's answer (the bare page and zstack-mock's are to be alike)."""
    status, body = request(server.port, "GET", QUERY_PAGE, headers=auth(session))
    if status != 200:
        raise BenchError(f"GET {QUERY_PAGE} answered {status}: {body[:300]!r}")
    return len(body)


def create(port: int, session: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """The request wrk/create.lua sends (plus ``headers``)."""
    body = json.dumps({"params": {"backupStorageUuid": STORAGE, "name": "bench"}})
    return request(port, "POST", CREATE, body.encode(), {**auth(session), **(headers or {})})


def rotations(variants: Sequence[T], rounds: int) -> Iterator[tuple[int, T]]:
    """(round, variant) for ``rounds`` rounds, each round starting one variant later than the last, so
    each variant comes first, in the middle and last and a drift of the machine's speed favours none."""
    for number in range(1, rounds + 1):
        shift = (number - 1) % len(variants)
        for variant in (*variants[shift:], *variants[:shift]):
            yield number, variant


def round_medians(bench: Bench, prefix: str, keys: list[str], rounds: int) -> dict[str, float]:
    """The median req/s of each kind of server over rotating rounds: runs keyed ``<prefix> <key> #<round>``."""
    return {key: statistics.median(bench.runs[f"{prefix} {key} #{n}"].rps for n in range(1, rounds + 1))
            for key in keys}
