"""Deciding whether a fault strikes a request: rules, per-request scenarios, counters and seeded draws.

Everything that must agree across worker processes is in the store: the rules, their counters,
the scenario counters, and a version stamp that changes with every rule change. A process keeps
the rules compiled in memory and only reads the stamp per request (one indexed ``store_meta``
row), so with no rule defined the layer costs a lookup, and rules that cannot match cost a
few attribute comparisons each.

Draws are reproducible: the chance a rule fires on its n-th match is drawn from a generator
seeded with (server seed, rule, n), and n is a counter in the store. The same seed and the same
requests therefore fire the same faults, in one process or several.
"""

from __future__ import annotations

import hashlib
import math
import os
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import orjson
from pydantic import ValidationError

from ..catalogue import LOG_IN_BY_ACCOUNT
from ..catalogue.calls import ZStackCall
from ..domain.context import Context
from ..limits import Limits
from ..store.base import Subquery
from ..store.records import Account, FaultCounter, FaultRule, Session
from ..validation_errors import validation_problems
from ..zstack.errors import TransportError, bad_request, conflict
from .policy import FaultPolicy
from .rules import CallView, CompiledRule, RuleSet, compiled_rule
from .spec import Effect, LatencySpec, Modifiers, RuleSpec, ScenarioSpec

SCENARIO_HEADER = "X-Mock-Scenario"
VERSION_KEY = "faults.version"
INLINE_SCENARIO = "inline"
#: Scenario counters kept per store (two rows each); past it they all start again, so requests
#: naming ever new sessions or inline effects cannot grow the database.
MAX_SCENARIO_COUNTERS = 2000
#: A counter key longer than this is kept as its digest.
_MAX_COUNTER_KEY = 160


@dataclass(frozen=True, slots=True)
class Strike:
    """A fault that fires on this request."""

    #: What the journal records: ``rule:<id>`` or ``scenario:<name>``.
    label: str
    effect: Effect
    #: Seeds the request's latency draw; reproducible like the firing draw.
    draw: random.Random
    #: Values for the placeholders in error details.
    fields: dict[str, str]

    def latency_seconds(self) -> float:
        latency = self.effect.latency
        return 0.0 if latency is None else draw_latency(latency, self.draw)


def draw_latency(latency: LatencySpec, draw: random.Random) -> float:
    if latency.fixed is not None:
        seconds = latency.fixed
    elif latency.uniform is not None:
        seconds = draw.uniform(latency.uniform.low, latency.uniform.high)
    else:
        assert latency.lognormal is not None
        # lognormvariate is exp(normalvariate): the same draw, capped before exp() can overflow.
        exponent = draw.normalvariate(math.log(latency.lognormal.median), latency.lognormal.sigma)
        seconds = math.exp(min(exponent, math.log(latency.max)))
    return min(seconds, latency.max)


@dataclass
class FaultEngine:
    """Rules and scenarios for one server process; the state they count lives in the store."""

    context: Callable[[], Context]
    scenarios: Mapping[str, ScenarioSpec]
    #: Seeds every draw; None: a random one per process (draws then differ from run to run).
    seed: int | None = None
    #: What clients may install; the default is the local profile's.
    policy: FaultPolicy = field(default_factory=lambda: FaultPolicy.of(Limits.of(public=False, given={})))
    _cache: RuleSet = field(default_factory=RuleSet)
    _process_seed: int = field(default_factory=lambda: int.from_bytes(os.urandom(8), "big"))

    # --- per request ----------------------------------------------------------------------------

    def rules(self) -> RuleSet:
        """The rules as they stand now (one version read); hand them to ``strike`` for this request."""
        return self._load()

    def strike(
        self, call: ZStackCall, *, starts_job: bool, scenario: str | None, rules: RuleSet | None = None
    ) -> Strike | None:
        """The fault that fires on ``call``, if any. A scenario header overrides the rules."""
        ctx = self.context()
        if scenario is not None:
            name, spec = self.scenario(scenario)
            return self._strike_scenario(ctx, call, name, spec, starts_job)
        cache = rules if rules is not None else self._load()
        if not cache.rules:
            return None
        caller = _Caller(ctx, call)
        now = ctx.clock.now()
        view = CallView(call)
        for rule in cache.candidates(view, starts_job):
            if rule.expire_date is not None and now >= rule.expire_date:
                continue
            if not rule.matches(view, starts_job, caller):
                continue
            fired, n = self._count_rule(ctx, rule)
            if fired:
                return Strike(f"rule:{rule.id}", rule.spec, self._draw(f"rule:{rule.id}:latency", n),
                              _fields(call))
        return None

    def scenario(self, header: str) -> tuple[str, ScenarioSpec]:
        """(name, spec) for a scenario header: a catalogue name, or an inline JSON effect; a plain-text
        400 for a header that names neither."""
        text = header.strip()
        if text.startswith("{"):
            try:
                inline = ScenarioSpec.model_validate(orjson.loads(text))
            except orjson.JSONDecodeError as exc:
                raise TransportError(
                    400, f"the inline scenario in header {SCENARIO_HEADER} is not valid JSON: {exc}"
                ) from None
            except ValidationError as exc:
                raise TransportError(
                    400,
                    f"the inline scenario in header {SCENARIO_HEADER} is not a valid effect: {validation_problems(exc)}"
                ) from None
            problems = self.policy.problems(inline)
            if problems:
                raise TransportError(
                    400, f"the inline scenario in header {SCENARIO_HEADER} is not allowed here: {'; '.join(problems)}"
                )
            return INLINE_SCENARIO, inline
        spec = self.scenarios.get(text)
        if spec is None:
            known = ", ".join(sorted(self.scenarios)) or "(none loaded)"
            raise TransportError(
                400,
                f"unknown scenario [{text}] in header {SCENARIO_HEADER}; known scenarios: {known} "
                f"(GET /_mock/scenarios describes them), or an inline effect such as "
                f'{{"error": {{"code": "SYS.1000"}}}}'
            )
        return text, spec

    def _strike_scenario(
        self, ctx: Context, call: ZStackCall, name: str, spec: ScenarioSpec, starts_job: bool
    ) -> Strike | None:
        if spec.job is not None and not starts_job:
            return None
        key = _counter_key(name, spec, call)
        random_latency = spec.latency is not None and spec.latency.fixed is None
        if spec.after == 0 and spec.times is None and spec.probability >= 1 and not random_latency:
            n = 1  # nothing to count or draw: every request with the header gets the same effect
        else:
            fired, n = self._count_scenario(ctx, key, spec)
            if not fired:
                return None
        return Strike(f"scenario:{name}", spec, self._draw(f"{key}:latency", n), _fields(call))

    # --- counting and drawing -------------------------------------------------------------------

    def _count_rule(self, ctx: Context, rule: CompiledRule) -> tuple[bool, int]:
        """Count a match of ``rule`` and decide whether it fires, in one transaction."""
        store = ctx.store
        with store.transaction():
            row = store.get(FaultRule, id=rule.id)
            if row is None or row.spent:
                return False, 0
            n = row.matched + 1
            fires = self._fires(rule.spec, n, row.fired, f"rule:{rule.id}")
            fired = row.fired + fires
            spent = rule.spec.times is not None and fired >= rule.spec.times
            store.update(FaultRule, {"id": rule.id}, {"matched": n, "fired": fired, "spent": spent})
            if spent:
                self._bump_version(ctx)
        return fires, n

    def _count_scenario(self, ctx: Context, key: str, spec: ScenarioSpec) -> tuple[bool, int]:
        store = ctx.store
        with store.transaction():
            if store.get(FaultCounter, key=key) is None and store.count(FaultCounter) + 2 > 2 * MAX_SCENARIO_COUNTERS:
                store.delete(FaultCounter)
            matched = _increment(store, key, 1)
            fired_so_far = _increment(store, key + ":fired", 0)
            fires = self._fires(spec, matched, fired_so_far, key)
            if fires:
                _increment(store, key + ":fired", 1)
        return fires, matched

    def _fires(self, modifiers: Modifiers, n: int, fired_so_far: int, key: str) -> bool:
        if n <= modifiers.after:
            return False
        if modifiers.times is not None and fired_so_far >= modifiers.times:
            return False
        if modifiers.probability >= 1:
            return True
        return self._draw(key, n).random() < modifiers.probability

    def _draw(self, key: str, n: int) -> random.Random:
        seed = self.seed if self.seed is not None else self._process_seed
        return random.Random(f"{seed}/{key}/{n}")

    # --- the rules' cache -----------------------------------------------------------------------

    def _load(self) -> RuleSet:
        store = self.context().store
        version = store.get_meta(VERSION_KEY)
        cache = self._cache
        if not cache.loaded or version != cache.version:
            # A rule never changes once stored: only the ones added since the last version are compiled.
            known = {rule.id: rule for rule in cache.rules}
            rows = store.find(FaultRule, {"spent": False}, order_by=["id"])
            compiled = tuple(compiled_rule(known, row) for row in rows)
            self._cache = cache = RuleSet.build(version, compiled)
        return cache

    def _bump_version(self, ctx: Context) -> None:
        ctx.store.set_meta(VERSION_KEY, os.urandom(8).hex())

    # --- the control API's operations -----------------------------------------------------------

    def add_rules(self, specs: Sequence[RuleSpec]) -> list[FaultRule]:
        """A client's rules, appended after the others: 400 for one this server's policy refuses,
        409 when they would take the rules past ``--max-fault-rules``."""
        problems = [
            f"{index}.{problem}" if len(specs) > 1 else problem
            for index, spec in enumerate(specs) for problem in self.policy.problems(spec)
        ]
        if problems:
            raise bad_request(f"invalid rule: {'; '.join(problems)}")
        store = self.context().store
        with store.transaction():
            installed = store.count(FaultRule)
            if installed + len(specs) > self.policy.max_rules:
                raise conflict(
                    f"at most {self.policy.max_rules} fault rules may be installed at once (--max-fault-rules); "
                    f"{installed} are, and this request adds {len(specs)}: delete some first"
                )
            return self._insert(specs)

    def _insert(self, specs: Iterable[RuleSpec]) -> list[FaultRule]:
        ctx = self.context()
        now = ctx.clock.now()
        added = []
        with ctx.store.transaction():
            for spec in specs:
                expire = None if spec.ttl is None else now + timedelta(seconds=spec.ttl)
                added.append(ctx.store.insert(FaultRule(
                    id=None, name=spec.name, spec_json=orjson.dumps(spec.to_json()).decode(), matched=0, fired=0,
                    spent=False, create_date=now, expire_date=expire,
                )))
            self._bump_version(ctx)
        return added

    def replace_rules(self, specs: Iterable[RuleSpec]) -> list[FaultRule]:
        """The operator's rules (a ``--faults`` file) instead of all others: trusted, not checked."""
        with self.context().store.transaction():
            self.delete_rules()
            return self._insert(specs)

    def list_rules(self, *, limit: int | None = None, offset: int = 0) -> tuple[list[FaultRule], int]:
        """A page of the rules in the order they are checked, and how many there are in all."""
        store = self.context().store
        with store.transaction():
            return store.find(FaultRule, order_by=["id"], limit=limit, offset=offset), store.count(FaultRule)

    def get_rule(self, rule_id: int) -> FaultRule | None:
        return self.context().store.get(FaultRule, id=rule_id)

    def delete_rules(self, rule_id: int | None = None) -> int:
        ctx = self.context()
        with ctx.store.transaction():
            deleted = ctx.store.delete(FaultRule, None if rule_id is None else {"id": rule_id})
            if rule_id is None:
                ctx.store.delete(FaultCounter)
            if deleted:
                self._bump_version(ctx)
        return deleted


def _counter_key(name: str, spec: ScenarioSpec, call: ZStackCall) -> str:
    """Counters run per scenario, operation and session: never per path, and a key of bounded length."""
    if name == INLINE_SCENARIO:
        effect = orjson.dumps(spec.to_json(), option=orjson.OPT_SORT_KEYS)
        name = f"{INLINE_SCENARIO}:{hashlib.sha256(effect).hexdigest()[:32]}"
    key = f"scenario:{name}:{call.operation or '-'}:{call.session_uuid or '-'}"
    if len(key) > _MAX_COUNTER_KEY:
        key = f"scenario:{hashlib.sha256(key.encode()).hexdigest()}"
    return key


def _increment(store: Any, key: str, by: int) -> int:
    row = store.get(FaultCounter, key=key)
    if row is None:
        if by:
            store.insert(FaultCounter(key=key, count=by))
        return by
    if by:
        store.update(FaultCounter, {"key": key}, {"count": row.count + by})
    return int(row.count) + by


def _fields(call: ZStackCall) -> dict[str, str]:
    values = {
        "operation": call.operation,
        "backupUuid": call.backup_uuid,
        "backupStorageUuid": call.backup_storage_uuid,
        "sessionUuid": call.session_uuid,
        "name": call.message.get("name"),
    }
    return {k: v for k, v in values.items() if isinstance(v, str)}


class _Caller:
    """The calling account's (uuid, name), looked up once and only if a rule asks."""

    def __init__(self, ctx: Context, call: ZStackCall) -> None:
        self._ctx = ctx
        self._call = call
        self._account: tuple[str, str] | None = None
        self._looked_up = False

    def __call__(self) -> tuple[str, str] | None:
        if not self._looked_up:
            self._looked_up = True
            self._account = self._look_up()
        return self._account

    def _look_up(self) -> tuple[str, str] | None:
        store, call = self._ctx.store, self._call
        if call.operation == LOG_IN_BY_ACCOUNT.name:
            name = call.message.get("accountName")
            account = store.find(Account, {"name": name}, limit=1) if isinstance(name, str) else []
            return (account[0].uuid, account[0].name) if account else ("", str(name))
        session_uuid = call.session_uuid
        if session_uuid is None:
            return None
        owner = Subquery(Session, "account_uuid", {"uuid": session_uuid})
        found = store.find(Account, {"uuid__in": owner}, limit=1)
        return (found[0].uuid, found[0].name) if found else None
