"""Stage ``faults``: what the fault layer costs the create load, with no rule and with 100 rules
that never match it (stages/fault_rules.py).

The create load on three servers in turn, each fresh: ``--no-fault-injection`` (the baseline), the fault
layer with no rule, and the fault layer with 100 varied rules that never match the load (installed with
``POST /_mock/faults``); three rounds in rotating order, medians. Checks that the layer is in (or out of)
the path, that no rule matched or fired and that every create answered 200; a failed check marks the
stage broken (both targets FAIL, with the reason in the note).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from harness import Bench, Metric, create, get_json, rotations, session_of
from serving import CREATE, Server, request

from stages.fault_rules import RULES, fault_rules
from stages.variants import ROUNDS, Variant, broken_note, cost_metric, median_rows, run_key, unclean_problems

# Three servers (layer off, on with no rule, on with the rules), each fresh, in rotating rounds; medians.
PREFIX = "faults"  # the runs' keys: "create/faults <variant> #<round>"
NO_RULE_COST_MAX = 0.05
RULES_COST_MAX = 0.10


@dataclass(frozen=True)
class FaultVariant(Variant):
    rules: int = 0  # rules installed before the warm-up

    @property
    def layer(self) -> bool:
        return "--no-fault-injection" not in self.flags


VARIANTS = (
    FaultVariant("off", "fault layer off", ("--no-fault-injection",)),
    FaultVariant("no rule", "fault layer, no rule"),
    FaultVariant(f"{RULES} rules", f"fault layer, {RULES} non-matching rules", rules=RULES),
)
SCENARIO_PROBE = '{"error": {"code": "SYS.1000", "details": "bench: is the fault layer in the path?"}}'


def run(bench: Bench) -> None:
    rules = fault_rules()
    print(
        f"[{bench.step}] fault layer: {ROUNDS} rounds of the create load, each on a fresh zstack-mock "
        f"with the layer off (--no-fault-injection), on with no rule, and on with {len(rules)} rules that "
        "never match it; the order rotates from round to round",
        flush=True,
    )
    checks = [_fault_run(bench, number, variant, rules[: variant.rules]) for number, variant in rotations(VARIANTS, ROUNDS)]
    problems = [f"{c['run']}: {p}" for c in checks for p in c["problems"]]
    bench.facts["faults"] = {
        "rounds": ROUNDS,
        "order": [c["run"] for c in checks],
        "rules": rules,
        "checks": checks,
        "problems": problems,
    }
    if problems:
        print("  BROKEN: " + "; ".join(problems), flush=True)


def _fault_run(bench: Bench, number: int, variant: FaultVariant, rules: list[dict[str, Any]]) -> dict[str, Any]:
    """One server, one measured create run; what was checked around it and what went wrong."""
    key = run_key(PREFIX, variant.key, number)
    name = f"faults-{variant.key.replace(' ', '-')}-{number}"
    server = bench.mock_server(bench.workdir / f"{name}.db", reset=True, log_name=f"{name}.log", extra=variant.flags)
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
        bench.measure(server, key, "create.lua", CREATE, [session])
        problems += unclean_problems(bench, key)
        if variant.layer:
            counters = _rule_counters(server)
            check.update(counters)
            problems += _rule_problems(server, len(rules), "after the load", counters)
    finally:
        server.stop()
    return check


def _rule_counters(server: Server) -> dict[str, Any]:
    rules = get_json(server, "/_mock/faults", timeout=30)["rules"]
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


def metrics(bench: Bench) -> list[Metric]:
    figures = bench.facts.get("faults")
    if figures is None:
        return []
    medians, rows = median_rows(bench, PREFIX, VARIANTS)
    broken, off = broken_note(figures), medians[VARIANTS[0].key]
    rows.append(cost_metric("fault layer, no rule: cost vs off", medians[VARIANTS[1].key], off, NO_RULE_COST_MAX, broken))
    rows.append(cost_metric(f"{RULES} non-matching rules: cost vs off", medians[VARIANTS[2].key], off, RULES_COST_MAX, broken))
    return rows
