"""``make bench``: load zstack-mock and a bare FastAPI baseline with wrk and report against the targets.

One server at a time, each on a free 127.0.0.1 port and stopped afterwards:

1. the baseline (benchmarks/bare_app.py): create-shaped and login-shaped routes, warm-up then measured run;
2. ``zstack-mock serve`` on a fresh temporary SQLite file: time to the first answer, creates until at
   least 10,000 have been made (then VmRSS), logins;
3. ``zstack-mock serve`` again on the same file: time to the first answer on an existing database;
4. at scale: ``zstack-mock generate`` 100,000 images and 100,000 backups into a new file (timed), then
   ``zstack-mock serve`` on it: query latency (one connection, so p50 is service time) and create
   throughput, compared with step 2's create figure on the default fixtures;
5. async: ``zstack-mock serve --job-duration 0.5``, fresh each time, alternating sync creates with async
   accepts (``Prefer: respond-async``) for the accept-throughput ratio; during each async run a probe submits
   a job every 100 ms with ``X-Web-Hook`` to a loopback receiver, and after it the control API
   (``/_mock/jobs``) gives every sampled job's createDate and finishDate: lateness past the 0.5 s;
6. faults (issue 5): the create load on three servers in turn, each fresh: ``--no-fault-injection`` (the
   baseline), the fault layer with no rule, and the fault layer with 100 varied rules that never match the
   load (installed with ``POST /_mock/faults``); three rounds in rotating order, medians; checks that the
   layer is in (or out of) the path, that no rule matched or fired and that every create answered 200.

Prints a table of metric / value / target / PASS-FAIL and writes benchmarks/results/latest.json.
Exits 0 whatever the figures (it is a report), 1 if something crashed. See benchmarks/README.md.

Environment: BENCH_SECONDS (measured run, default 10), BENCH_WARMUP_SECONDS (default 2),
BENCH_STAGES (comma-separated subset of baseline,mock,restart,scale,async,faults; default all),
BENCH_SCALE_IMAGES / BENCH_SCALE_BACKUPS (size of the at-scale inventory, default 100000 each).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from harness import (
    Bench,
    Metric,
    WrkRun,
    clean,
    create,
    ensure_wrk,
    errors_note,
    get_json,
    percentiles,
    run_wrk,
    session_of,
)
from report import print_report, write_json
from serving import (
    BACKUP,
    CREATE,
    HOST,
    STOP_TIMEOUT,
    STORAGE,
    BenchError,
    Server,
    request,
)
from stages import baseline, mock, restart, scale

# The async stage (issue 4): accepts at least as fast as sync creates, and jobs Ready on time under load.
ASYNC_ROUNDS = 3  # sync and async runs alternate, each on a fresh server; medians of each
ASYNC_ACCEPT_RATIO_MIN = 1.0
JOB_DURATION_S = 0.5  # --job-duration: every job takes exactly this long
JOB_LATENESS_P99_MAX_MS = 50.0
PROBE_INTERVAL_S = 0.1  # the webhook probe submits a job this often while wrk runs
JOBS_LIST_LIMIT = 10_000  # the most GET /_mock/jobs returns (newest first)
DRAIN_TIMEOUT_S = 60.0  # after the load, wait this long at most for the last job to finish
DRAIN_POLL_S = 0.01
WEBHOOK_WAIT_S = 10.0  # after the drain, wait this long at most for the probe's last webhooks

# The faults stage (issue 5): what the fault layer costs the create load, with no rule and with 100 rules
# that never match it. Three servers (layer off, on with no rule, on with the rules), each fresh, in three
# rounds of rotating order; medians of each.
FAULTS_ROUNDS = 3
FAULT_RULES = 100
FAULT_NO_RULE_COST_MAX = 0.05
FAULT_RULES_COST_MAX = 0.15


@dataclass(frozen=True)
class FaultVariant:
    key: str  # in the run's key: "create/faults <key> #<round>"
    label: str
    layer: bool  # False: serve --no-fault-injection
    rules: int  # rules installed before the warm-up


FAULT_VARIANTS = (
    FaultVariant("off", "fault layer off", False, 0),
    FaultVariant("no rule", "fault layer, no rule", True, 0),
    FaultVariant(f"{FAULT_RULES} rules", f"fault layer, {FAULT_RULES} non-matching rules", True, FAULT_RULES),
)
SCENARIO_PROBE = '{"error": {"code": "SYS.1000", "details": "bench: is the fault layer in the path?"}}'

STAGES = ("baseline", "mock", "restart", "scale", "async", "faults")
STAGE_NEEDS = {"restart": "mock", "scale": "mock"}  # restart reopens mock's database; scale compares with it


def _env_seconds(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BenchError(f"{name} must be a whole number of seconds, not {raw!r}") from None
    if not 1 <= value <= 600:
        raise BenchError(f"{name} must be between 1 and 600, not {value}")
    return value


def _env_stages() -> tuple[str, ...]:
    """BENCH_STAGES: the stages to run, comma- or space-separated, in their usual order; all when unset.
    A stage that needs another brings it along (restart and scale need mock)."""
    raw = os.environ.get("BENCH_STAGES", "").replace(",", " ").split()
    if not raw or raw == ["all"]:
        return STAGES
    unknown = [name for name in raw if name not in STAGES]
    if unknown:
        raise BenchError(f"BENCH_STAGES: unknown stage(s) {', '.join(unknown)}; known: {', '.join(STAGES)}")
    wanted = set(raw)
    for name in raw:
        if name in STAGE_NEEDS and STAGE_NEEDS[name] not in wanted:
            print(f"BENCH_STAGES: {name} needs {STAGE_NEEDS[name]}; running it too", flush=True)
            wanted.add(STAGE_NEEDS[name])
    return tuple(name for name in STAGES if name in wanted)


# --------------------------------------------------------------------------- the run


class StageBench(Bench):
    """The stages, until each has a module of its own."""

    # ----------------------------------------------------------------------- async jobs (issue 4)

    def run_async(self) -> None:
        print(
            f"[{self.step}] async jobs: {ASYNC_ROUNDS} rounds of a sync create run then an async accept run, "
            f"each on a fresh zstack-mock --job-duration {JOB_DURATION_S:g}",
            flush=True,
        )
        rounds: list[AsyncRound] = []
        with WebhookReceiver() as receiver:
            for number in range(1, ASYNC_ROUNDS + 1):
                self._sync_round(number)
                rounds.append(self._async_round(number, receiver))
        self.facts["async"] = summarise_async(rounds)

    def _async_server(self, name: str) -> tuple[Server, str]:
        """A fresh ``zstack-mock serve --job-duration 0.5``, started, and an admin session on it."""
        server = self.mock_server(
            self.workdir / f"{name}.db", reset=True, log_name=f"{name}.log",
            extra=("--job-duration", f"{JOB_DURATION_S:g}"),
        )
        server.start()
        _, body = server.first_answer()
        return server, session_of(body)

    def _sync_round(self, number: int) -> None:
        server, session = self._async_server(f"sync-{number}")
        try:
            self.measure(server, f"create/zstack-mock sync #{number}", "create.lua", CREATE, [session])
        finally:
            server.stop()

    def _async_round(self, number: int, receiver: WebhookReceiver) -> AsyncRound:
        key = f"create/zstack-mock async #{number}"
        server, session = self._async_server(f"async-{number}")
        try:
            print(
                f"  {key}: {self.warmup} s warm-up, {self.seconds} s measured, probe job every "
                f"{PROBE_INTERVAL_S * 1000:.0f} ms ...",
                flush=True,
            )
            self.warmups[key] = run_wrk(self.wrk, server, "create_async.lua", CREATE, self.warmup, [session])
            probe = JobProbe(server.port, session, receiver.url)
            window_start = datetime.now(UTC)
            probe.start()
            try:
                run = self.runs[key] = run_wrk(
                    self.wrk, server, "create_async.lua", CREATE, self.seconds, [session]
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
            drain_s = _drain(server, load_end)
            still_running = [] if drain_s is not None else _list_jobs(server, "status=Running&")
            arrivals = receiver.wait_for([s.uuid for s in probe.accepted], WEBHOOK_WAIT_S)
            listed = _list_jobs(server)
            failed_on_server = len(_list_jobs(server, "status=Failed&"))
        finally:
            server.stop()
        result = AsyncRound.build(
            number, run, window_start, window_end, drain_s, listed, still_running, failed_on_server, probe, arrivals
        )
        print(f"    {result.describe()}", flush=True)
        return result

    # ----------------------------------------------------------------------- the fault layer (issue 5)

    def run_faults(self) -> None:
        rules = fault_rules()
        print(
            f"[{self.step}] fault layer: {FAULTS_ROUNDS} rounds of the create load, each on a fresh zstack-mock "
            f"with the layer off (--no-fault-injection), on with no rule, and on with {len(rules)} rules that "
            "never match it; the order rotates from round to round",
            flush=True,
        )
        checks: list[dict[str, Any]] = []
        for number in range(1, FAULTS_ROUNDS + 1):
            shift = (number - 1) % len(FAULT_VARIANTS)
            for variant in (*FAULT_VARIANTS[shift:], *FAULT_VARIANTS[:shift]):
                checks.append(self._fault_run(number, variant, rules[: variant.rules]))
        problems = [f"{c['run']}: {p}" for c in checks for p in c["problems"]]
        self.facts["faults"] = {
            "rounds": FAULTS_ROUNDS,
            "order": [c["run"] for c in checks],
            "rules": rules,
            "checks": checks,
            "problems": problems,
        }
        if problems:
            print("  BROKEN: " + "; ".join(problems), flush=True)

    def _fault_run(self, number: int, variant: FaultVariant, rules: list[dict[str, Any]]) -> dict[str, Any]:
        """One server, one measured create run; what was checked around it and what went wrong."""
        key = f"create/faults {variant.key} #{number}"
        name = f"faults-{variant.key.replace(' ', '-')}-{number}"
        server = self.mock_server(
            self.workdir / f"{name}.db", reset=True, log_name=f"{name}.log",
            extra=() if variant.layer else ("--no-fault-injection",),
        )
        server.name = variant.label
        problems: list[str] = []
        check: dict[str, Any] = {"run": key.removeprefix("create/"), "problems": problems}
        try:
            server.start()
            _, body = server.first_answer()
            session = session_of(body)
            # Is the layer in the path (or out of it)? An inline scenario answers 503 through it; without
            # the layer the header means nothing and the create succeeds.
            status, _ = create(server.port, session, {"X-Mock-Scenario": SCENARIO_PROBE})
            check["scenario_probe_status"] = status
            if status != (503 if variant.layer else 200):
                problems.append(
                    f"a create with X-Mock-Scenario answered {status}: the fault layer is "
                    f"{'not in' if variant.layer else 'in'} the path"
                )
            if rules:
                status, answer = request(server.port, "POST", "/_mock/faults", json.dumps(rules).encode())
                if status != 201:
                    problems.append(f"POST /_mock/faults answered {status}: {answer[:300]!r}")
            # The load's request, once, before the warm-up: it must succeed and no rule may match it.
            status, answer = create(server.port, session)
            check["create_probe_status"] = status
            if status != 200:
                problems.append(f"the create answered {status} before the load: {answer[:200]!r}")
            if variant.layer:
                problems += _rule_problems(server, len(rules), "before the load")
            run = self.measure(server, key, "create.lua", CREATE, [session])
            warmup = self.warmups[key]
            if not clean(warmup) or not clean(run):
                problems.append(
                    f"non-2xx / socket errors: warm-up {warmup.non_2xx} / {warmup.socket_errors}, "
                    f"measured {run.non_2xx} / {run.socket_errors}"
                )
            if variant.layer:
                counters = _rule_counters(server)
                check.update(counters)
                problems += _rule_problems(server, len(rules), "after the load", counters)
        finally:
            server.stop()
        return check


def fault_rules() -> list[dict[str, Any]]:
    """100 rules as a test suite might leave installed, none of which matches the load's create (POST on the
    create path for backup b67eee0a... on storage 4ed18086..., admin's session, Content-Type and
    Authorization headers only, sync). Most are on the create operation and fail on a later condition
    (another backup or storage, a header, another account: the caller's account is looked up from the
    session), so matching really walks them; the rest name other operations, methods or path globs."""
    admin_backup, storage = BACKUP, STORAGE
    other_backups = [
        "0e6c5f0aa6b547c1ae83dd0cbb3a6a5a", "f10898262650401ea3dcbc64d4fc1966",
        "0cf5a36042dd4fbbba65ca71ba86097e", "16515e7c1f4d4fb28299b4e1259ed3aa",
    ]
    other_storages = ["7806dfb8224f4ae0a16f27db56255dd3", "05b9749991f34b4a9d0d61a2fddaaf18"]
    accounts = ["alice", "bob", "a2536f110d5343a6b12eff3d815c695f", "d18225383b0d4f1d861f9aa60e081b9d"]
    create = "CreateRootVolumeTemplateFromVolumeBackup"
    effects: list[dict[str, Any]] = [
        {"error": {"code": "SYS.1002", "details": "Failed to download image[name:{name}] on all backup storage",
                   "cause": {"code": "SYS.1006", "details": "backup storage is Disconnected"}}},
        {"error": {"code": "SYS.1000"}},
        {"error": {"code": "ID.1003", "details": "quota exceeded"}},
        {"http": {"status": 502, "body": "<h1>502 Bad Gateway</h1>", "contentType": "text/html"}},
        {"wire": "reset"},
        {"wire": {"kind": "truncate"}},
        {"latency": {"lognormal": {"median": 0.3, "sigma": 0.6}}},
        {"latency": 0.5, "error": {"code": "SYS.1001"}},
    ]
    modifiers: list[dict[str, Any]] = [{}, {"probability": 0.3}, {"times": 2}, {"after": 3}, {"ttl": 3600}]

    def synthetic(n: int) -> str:
        return hashlib.md5(f"bench-fault-{n}".encode()).hexdigest()  # 32 hex digits, like a ZStack UUID

    matches: list[dict[str, Any]] = []
    # 24: creates from another backup (the fixtures' other four, and twenty that do not exist)
    matches += [{"operation": create, "backupUuid": b} for b in other_backups]
    matches += [{"operation": create, "backupUuid": synthetic(n)} for n in range(20)]
    # 12: creates on another backup storage
    matches += [{"operation": create, "backupStorageUuid": s} for s in other_storages]
    matches += [{"operation": create, "backupStorageUuid": synthetic(100 + n)} for n in range(10)]
    # 10: this backup, but another storage (fails on the last uuid condition)
    matches += [
        {"operation": create, "method": "POST", "backupUuid": admin_backup, "backupStorageUuid": s}
        for s in [*other_storages, *(synthetic(200 + n) for n in range(8))]
    ]
    # 10: another backup on this storage; a client header the load does not send
    matches += [{"operation": create, "backupUuid": synthetic(400 + n), "backupStorageUuid": storage} for n in range(5)]
    matches += [{"operation": create, "headers": {"X-Client": f"ci-runner-{n}"}} for n in range(5)]
    # 10: this backup and storage, but a header condition the load does not meet
    matches += [
        {"operation": create, "backupUuid": admin_backup, "headers": {"X-Test-Case": f"case-{n}"}} for n in range(5)
    ]
    matches += [
        {"operation": create, "backupUuid": admin_backup, "backupStorageUuid": storage, "headers": h}
        for h in (
            {"X-Chaos": True}, {"Authorization": False}, {"Prefer": "respond-async"},
            {"Content-Type": "text/plain"}, {"X-Job-UUID": True},
        )
    ]
    # 8: this backup and storage, another caller (admin's session is looked up each request)
    matches += [
        {"operation": create, "backupUuid": admin_backup, "backupStorageUuid": storage, "account": a}
        for a in accounts
    ]
    matches += [{"operation": create, "account": a} for a in accounts]
    # 6: job faults, which a synchronous create does not start
    jobs = [
        {"match": {"operation": create}, "job": {"hold": True}},
        {"match": {"operation": create, "backupUuid": admin_backup}, "job": {"hold": True}},
        {"match": {"operation": create, "backupUuid": admin_backup},
         "job": {"error": {"code": "SYS.1002"}, "afterSeconds": 0.2}},
        {"match": {"operation": create, "backupStorageUuid": storage}, "job": {"error": {"code": "SYS.1001"}}},
        {"match": {"operation": create, "account": "admin"}, "job": {"hold": True}, "times": 5},
        {"match": {"path": "/zstack/v1/images/**"}, "job": {"error": {"code": "SYS.1000"}}, "probability": 0.5},
    ]
    # 10: other operations
    matches += [
        {"operation": "QueryImage"},
        {"operation": "QueryImage", "headers": {"X-Test-Case": "list-images"}},
        {"operation": "QueryImage", "account": "alice"},
        {"operation": "LogInByAccount", "account": "alice"},
        {"operation": "LogInByAccount", "account": "bob"},
        {"operation": "LogInByAccount", "account": "mallory"},
        {"operation": ["LogOut", "ValidateSession"]},
        {"operation": "QueryVolumeBackup", "method": "GET"},
        {"operation": ["QueryBackupStorage", "QueryImageStoreBackupStorage"]},
        {"operation": "QueryApiJob"},
    ]
    # 10: method and path globs
    matches += [
        {"method": "GET", "path": "/zstack/v1/images/**"},
        {"method": "GET", "path": "/zstack/v1/volume-backups/*"},
        {"path": "/zstack/api"},
        {"path": "/zstack/api/result/*"},
        {"path": "/zstack/v1/accounts/**"},
        {"method": "DELETE", "path": "/zstack/v1/**"},
        {"method": "PUT", "path": "/zstack/v1/images/root-volume-templates/**"},
        {"path": f"/zstack/v1/images/root-volume-templates/from/volume-template/{other_backups[0]}"},
        {"path": "/zstack/v1/images/root-volume-templates/from/volume-template/*", "backupStorageUuid": synthetic(300)},
        {"operation": create, "path": "/zstack/api"},  # the same API on the RPC surface only
    ]
    rules = [
        {"name": f"bench rule {n}", "match": match, **effects[n % len(effects)], **modifiers[n % len(modifiers)]}
        for n, match in enumerate(matches)
    ]
    rules += [{"name": f"bench job rule {n}", **rule} for n, rule in enumerate(jobs)]
    assert len(rules) == FAULT_RULES, len(rules)
    random.Random(5).shuffle(rules)  # kinds interleaved, not grouped; the same order every run
    return rules


def _rule_counters(server: Server) -> dict[str, Any]:
    status, body = request(server.port, "GET", "/_mock/faults")
    if status != 200:
        raise BenchError(f"GET /_mock/faults answered {status}: {body[:300]!r}")
    rules = json.loads(body)["rules"]
    return {
        "rules_installed": len(rules),
        "rules_matched": sum(r["matched"] for r in rules),
        "rules_fired": sum(r["fired"] for r in rules),
        "rules_spent_or_expired": sum(bool(r["spent"] or r["expired"]) for r in rules),
    }


def _rule_problems(server: Server, expected: int, when: str, counters: dict[str, Any] | None = None) -> list[str]:
    counters = counters or _rule_counters(server)
    problems = []
    if counters["rules_installed"] != expected:
        problems.append(f"{counters['rules_installed']} rules installed {when}, not {expected}")
    if counters["rules_matched"] or counters["rules_fired"]:
        problems.append(f"rules matched {counters['rules_matched']} / fired {counters['rules_fired']} times {when}")
    if counters["rules_spent_or_expired"]:
        problems.append(f"{counters['rules_spent_or_expired']} rules spent or expired {when}")
    return problems


# --------------------------------------------------------------------------- async helpers


def _list_jobs(server: Server, query: str = "") -> list[dict[str, Any]]:
    """``GET /_mock/jobs?<query>limit=10000``: the newest 10,000 jobs (the control API's cap)."""
    jobs: list[dict[str, Any]] = get_json(server, f"/_mock/jobs?{query}limit={JOBS_LIST_LIMIT}")["jobs"]
    return jobs


def _drain(server: Server, load_end: float) -> float | None:
    """Seconds from the end of the load until no job is Running (polled every 10 ms); None on timeout."""
    deadline = load_end + DRAIN_TIMEOUT_S
    while time.perf_counter() < deadline:
        server.check_alive()
        if not get_json(server, "/_mock/jobs?status=Running&limit=1")["jobs"]:
            return time.perf_counter() - load_end
        time.sleep(DRAIN_POLL_S)
    return None


def _date(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class WebhookReceiver:
    """A loopback HTTP server in this process that notes when each job's webhook POST arrives."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}  # job uuid -> time.perf_counter() of the first POST
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                now = time.perf_counter()
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.arrivals.setdefault(self.headers.get("X-Job-UUID", ""), now)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer((HOST, 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://{HOST}:{self.httpd.server_address[1]}/webhook"
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="webhook receiver", daemon=True)

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(STOP_TIMEOUT)

    def wait_for(self, uuids: list[str], timeout: float) -> dict[str, float]:
        """The arrival times of these jobs' webhooks, waiting up to ``timeout`` seconds for the last ones."""
        deadline = time.perf_counter() + timeout
        while True:
            with self.lock:
                found = {uuid: self.arrivals[uuid] for uuid in uuids if uuid in self.arrivals}
            if len(found) == len(uuids) or time.perf_counter() >= deadline:
                return found
            time.sleep(0.02)


@dataclass
class ProbeSubmission:
    uuid: str
    sent: float  # time.perf_counter() when the request was sent
    accepted: float  # ... and when its 202 had been read


class JobProbe:
    """A client beside the wrk load: submits the create with ``X-Web-Hook`` every 100 ms (on schedule, one
    new connection each), and notes when each 202 arrives."""

    def __init__(self, port: int, session: str, webhook_url: str) -> None:
        self.port = port
        self.headers = {
            "Authorization": f"OAuth {session}",
            "Content-Type": "application/json",
            "Prefer": "respond-async",
            "X-Web-Hook": webhook_url,
        }
        self.body = json.dumps({"params": {"backupStorageUuid": STORAGE, "name": "probe"}})
        self.accepted: list[ProbeSubmission] = []
        self.submitted = 0
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="job probe", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(STOP_TIMEOUT)

    def _run(self) -> None:
        next_at = time.perf_counter()
        while not self._stop.is_set():
            self.submitted += 1
            conn = http.client.HTTPConnection(HOST, self.port, timeout=5.0)
            try:
                sent = time.perf_counter()
                conn.request("POST", CREATE, body=self.body, headers=self.headers)
                response = conn.getresponse()
                body = response.read()
                accepted = time.perf_counter()
                if response.status == 202:
                    location = json.loads(body)["location"]
                    self.accepted.append(ProbeSubmission(location.rsplit("/", 1)[-1], sent, accepted))
                else:
                    self.errors.append(f"{response.status} {body[:200]!r}")
            except (OSError, http.client.HTTPException, ValueError, KeyError) as exc:
                self.errors.append(repr(exc))
            finally:
                conn.close()
            next_at += PROBE_INTERVAL_S
            self._stop.wait(max(0.0, next_at - time.perf_counter()))


@dataclass
class AsyncRound:
    """One async run: its wrk figures, and the jobs it accepted as the control API and the probe saw them."""

    number: int
    accepted: int  # 202s counted by wrk in the measured run
    created: int | None  # jobs the server created in the run's window, when the list holds them all: a few
    #                      more than wrk counted (requests in flight when wrk stopped); None if not known
    finished: int  # accepted minus the jobs of the run still Running when the drain gave up
    unfinished: int  # jobs of the run still Running when the drain gave up (0 when it did not)
    drain_s: float | None  # from the end of the load until no job was Running; None: timed out
    listed: int  # jobs of the run (not the probe's) among the newest 10,000 listed
    listed_all: bool  # the list reached back past the run's start: it holds every job of the run
    listed_span_s: float  # the part of the run they were accepted in (the last ... seconds of it)
    failed: int  # jobs that ended Failed, over the whole server (should be none)
    lateness_ms: list[float]  # finishDate - createDate - 0.5 s, for each listed job of the run
    lateness_due_in_load_ms: list[float]  # the same, for those due before the load ended
    lateness_by_second: list[dict[str, Any]]  # the same by second of the run in which the job was accepted
    probe_submitted: int
    probe_errors: list[str]
    probe_lateness_ms: list[float]  # from the probe's 202 to its webhook POST, minus 0.5 s
    probe_server_lateness_ms: list[float]  # the probe's jobs as the control API saw them
    probe_accept_ms: list[float]  # the probe's request-to-202 times
    probe_missing_webhooks: int

    @classmethod
    def build(
        cls,
        number: int,
        run: WrkRun,
        window_start: datetime,
        window_end: datetime,
        drain_s: float | None,
        listed: list[dict[str, Any]],
        still_running: list[dict[str, Any]],
        failed: int,
        probe: JobProbe,
        arrivals: dict[str, float],
    ) -> AsyncRound:
        duration_ms = JOB_DURATION_S * 1000
        in_window = [j for j in listed if window_start <= _date(j["createDate"]) <= window_end]
        ours = [j for j in in_window if j["webhook"] is None]  # wrk's jobs; the probe's carry a webhook
        probes = {j["uuid"]: j for j in in_window if j["webhook"] is not None}
        lateness, due_in_load = [], []
        by_second: dict[int, list[float]] = {}
        for job in ours:
            if job["finishDate"] is None:
                continue
            created = _date(job["createDate"])
            late = (_date(job["finishDate"]) - created).total_seconds() * 1000 - duration_ms
            lateness.append(late)
            by_second.setdefault(int((created - window_start).total_seconds()), []).append(late)
            if job["dueDate"] is not None and _date(job["dueDate"]) <= window_end:
                due_in_load.append(late)
        probe_server = [
            (_date(j["finishDate"]) - _date(j["createDate"])).total_seconds() * 1000 - duration_ms
            for j in probes.values()
            if j["finishDate"] is not None
        ]
        oldest = min((_date(j["createDate"]) for j in listed), default=window_end)
        first_listed = min((_date(j["createDate"]) for j in ours), default=window_end)
        running_in_window = sum(
            1 for j in still_running if window_start <= _date(j["createDate"]) <= window_end and j["webhook"] is None
        )
        listed_all = len(listed) < JOBS_LIST_LIMIT or oldest < window_start
        created_count = len(ours) if listed_all else None
        return cls(
            number=number,
            accepted=run.ok,
            created=created_count,
            finished=run.ok - running_in_window,
            unfinished=running_in_window,
            drain_s=drain_s,
            listed=len(ours),
            listed_all=listed_all,
            listed_span_s=(window_end - first_listed).total_seconds(),
            failed=failed,
            lateness_ms=lateness,
            lateness_due_in_load_ms=due_in_load,
            lateness_by_second=[
                {"second": second, **percentiles(values)} for second, values in sorted(by_second.items())
            ],
            probe_submitted=probe.submitted,
            probe_errors=probe.errors,
            probe_lateness_ms=[
                (arrivals[s.uuid] - s.accepted) * 1000 - duration_ms for s in probe.accepted if s.uuid in arrivals
            ],
            probe_server_lateness_ms=probe_server,
            probe_accept_ms=[(s.accepted - s.sent) * 1000 for s in probe.accepted],
            probe_missing_webhooks=sum(1 for s in probe.accepted if s.uuid not in arrivals),
        )

    def describe(self) -> str:
        server, probe = percentiles(self.lateness_ms), percentiles(self.probe_lateness_ms)
        drained = f"drained {self.drain_s:.2f} s after the load" if self.drain_s is not None else (
            f"NOT drained after {DRAIN_TIMEOUT_S:.0f} s"
        )
        sample = "all of them" if self.listed_all else f"the newest {self.listed:,}: last {self.listed_span_s:.1f} s"
        created = "" if self.created is None else f" (the server created {self.created:,})"
        return (
            f"{self.accepted:,} jobs accepted{created}, {self.finished:,} finished, {self.failed} failed, {drained}; "
            f"lateness ({sample}) p50 {server['p50']} / p99 {server['p99']} / max {server['max']} ms; "
            f"probe: {len(self.probe_lateness_ms)} webhooks, lateness p50 {probe['p50']} / p99 {probe['p99']} / "
            f"max {probe['max']} ms"
        )


def summarise_async(rounds: list[AsyncRound]) -> dict[str, Any]:
    """The async facts for the JSON: per round and pooled over the rounds (lateness in ms)."""

    def pooled(attribute: str) -> dict[str, Any]:
        return percentiles([value for r in rounds for value in getattr(r, attribute)])

    drains = [r.drain_s for r in rounds]
    return {
        "job_duration_s": JOB_DURATION_S,
        "rounds": [
            {
                "round": r.number,
                "accepted": r.accepted,
                "created": r.created,
                "finished": r.finished,
                "unfinished": r.unfinished,
                "failed": r.failed,
                "drain_s": None if r.drain_s is None else round(r.drain_s, 3),
                "listed_jobs": r.listed,
                "listed_all_jobs_of_the_run": r.listed_all,
                "listed_last_seconds_of_the_run": round(r.listed_span_s, 2),
                "lateness_ms": percentiles(r.lateness_ms),
                "lateness_due_during_load_ms": percentiles(r.lateness_due_in_load_ms),
                "lateness_by_second_ms": r.lateness_by_second,
                "probe_submitted": r.probe_submitted,
                "probe_errors": r.probe_errors[:5],
                "probe_missing_webhooks": r.probe_missing_webhooks,
                "probe_webhook_lateness_ms": percentiles(r.probe_lateness_ms),
                "probe_server_lateness_ms": percentiles(r.probe_server_lateness_ms),
                "probe_accept_ms": percentiles(r.probe_accept_ms),
            }
            for r in rounds
        ],
        "accepted": sum(r.accepted for r in rounds),
        "created": None if any(r.created is None for r in rounds) else sum(r.created or 0 for r in rounds),
        "finished": sum(r.finished for r in rounds),
        "unfinished": sum(r.unfinished for r in rounds),
        "failed": sum(r.failed for r in rounds),
        "all_drained": all(d is not None for d in drains),
        "drain_s_max": max((d for d in drains if d is not None), default=None),
        "lateness_ms": pooled("lateness_ms"),
        "lateness_due_during_load_ms": pooled("lateness_due_in_load_ms"),
        "probe_submitted": sum(r.probe_submitted for r in rounds),
        "probe_errors": sum(len(r.probe_errors) for r in rounds),
        "probe_missing_webhooks": sum(r.probe_missing_webhooks for r in rounds),
        "probe_webhook_lateness_ms": pooled("probe_lateness_ms"),
        "probe_server_lateness_ms": pooled("probe_server_lateness_ms"),
        "probe_accept_ms": pooled("probe_accept_ms"),
    }


# --------------------------------------------------------------------------- report


def metrics(bench: Bench) -> list[Metric]:
    """The rows of the stages that ran (BENCH_STAGES may leave some out)."""
    rows = [
        *mock.load_metrics(bench), *mock.first_answer_metrics(bench), *restart.metrics(bench),
        *mock.memory_metrics(bench),
    ]
    return [*rows, *scale.metrics(bench), *async_metrics(bench), *fault_metrics(bench)]


def _lateness(figures: dict[str, Any]) -> str:
    if not figures["jobs"]:
        return "no jobs"
    return (
        f"p50 {figures['p50']:.1f} / p99 {figures['p99']:.1f} / max {figures['max']:.1f} ms, "
        f"{figures['jobs']:,} jobs"
    )


def async_metrics(bench: Bench) -> list[Metric]:
    runs, figures = bench.runs, bench.facts.get("async")
    if figures is None:
        return []
    syncs = [runs[f"create/zstack-mock sync #{n}"] for n in range(1, ASYNC_ROUNDS + 1)]
    asyncs = [runs[f"create/zstack-mock async #{n}"] for n in range(1, ASYNC_ROUNDS + 1)]
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
            f"async accept vs sync create (medians of {ASYNC_ROUNDS} alternating runs)",
            f"{async_rps:,.0f} / {sync_rps:,.0f} req/s = {ratio:.1%}",
            f">= {ASYNC_ACCEPT_RATIO_MIN:.0%}",
            ratio >= ASYNC_ACCEPT_RATIO_MIN and not unclean,
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


def fault_metrics(bench: Bench) -> list[Metric]:
    figures = bench.facts.get("faults")
    if figures is None:
        return []
    medians = {
        v.key: statistics.median(bench.runs[f"create/faults {v.key} #{n}"].rps for n in range(1, FAULTS_ROUNDS + 1))
        for v in FAULT_VARIANTS
    }
    broken = "; ".join(figures["problems"])
    rows = [
        Metric(f"create, {v.label} (median of {FAULTS_ROUNDS})", f"{medians[v.key]:,.0f} req/s", "info", None)
        for v in FAULT_VARIANTS
    ]
    off = medians["off"]
    for variant, limit, name in (
        (FAULT_VARIANTS[1], FAULT_NO_RULE_COST_MAX, "fault layer, no rule: cost vs off"),
        (FAULT_VARIANTS[2], FAULT_RULES_COST_MAX, f"{FAULT_RULES} non-matching rules: cost vs off"),
    ):
        ratio = medians[variant.key] / off if off else 0.0
        cost = 1 - ratio
        rows.append(
            Metric(
                f"{name} (medians of {FAULTS_ROUNDS} rotating runs)",
                f"{medians[variant.key]:,.0f} / {off:,.0f} req/s = {ratio:.1%}: cost {cost:.1%}",
                f"cost <= {limit:.0%}",
                bool(off) and cost <= limit and not broken,
                f"BROKEN: {broken}" if broken else "",
            )
        )
    return rows


def main() -> int:
    try:
        seconds = _env_seconds("BENCH_SECONDS", 10)
        warmup = _env_seconds("BENCH_WARMUP_SECONDS", 2)
        stages = _env_stages()
        wrk = ensure_wrk()
        with tempfile.TemporaryDirectory(prefix="zstack-mock-bench-") as tmp:
            bench = StageBench(wrk=wrk, seconds=seconds, warmup=warmup, workdir=Path(tmp), stages=stages)
            steps: dict[str, Callable[[], None]] = {
                "baseline": lambda: baseline.run(bench),
                "mock": lambda: mock.run(bench),
                "restart": lambda: restart.run(bench),
                "scale": lambda: scale.run(bench),
                "async": bench.run_async,
                "faults": bench.run_faults,
            }
            for number, name in enumerate(stages, 1):
                bench.step = f"{number}/{len(stages)}"
                steps[name]()
        results = metrics(bench)
        write_json(bench, results)
        print_report(bench, results)
    except BenchError as exc:
        print(f"\nbench: crashed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nbench: interrupted", file=sys.stderr)
        return 130
    except Exception:
        traceback.print_exc()
        print("\nbench: crashed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
