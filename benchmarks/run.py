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
import json
import os
import random
import statistics
import sys
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import (
    Bench,
    Metric,
    clean,
    create,
    ensure_wrk,
    session_of,
)
from report import print_report, write_json
from serving import (
    BACKUP,
    CREATE,
    STORAGE,
    BenchError,
    Server,
    request,
)
from stages import async_jobs, baseline, mock, restart, scale

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


# --------------------------------------------------------------------------- report


def metrics(bench: Bench) -> list[Metric]:
    """The rows of the stages that ran (BENCH_STAGES may leave some out)."""
    rows = [
        *mock.load_metrics(bench), *mock.first_answer_metrics(bench), *restart.metrics(bench),
        *mock.memory_metrics(bench),
    ]
    return [*rows, *scale.metrics(bench), *async_jobs.metrics(bench), *fault_metrics(bench)]


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
                "async": lambda: async_jobs.run(bench),
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
