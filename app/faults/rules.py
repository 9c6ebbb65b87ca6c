"""Fault rules as the engine checks them: compiled from their stored form once, and narrowed per call
to the few whose operation, method and backup conditions the call can meet."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

import orjson

from ..catalogue.calls import ZStackCall
from ..store.records import FaultRule
from .paths import PathPattern
from .spec import RuleSpec


@dataclass(frozen=True, slots=True)
class CompiledRule:
    id: int
    spec: RuleSpec
    operations: frozenset[str] | None
    path: PathPattern | None
    expire_date: datetime | None
    #: The stored rule it was compiled from (ids are reused after every rule is deleted).
    source: str = ""
    # The match's conditions, read out of the spec's models once (matching runs on every request).
    method: str | None = None
    backup_uuid: str | None = None
    backup_storage_uuid: str | None = None
    headers: tuple[tuple[str, str | bool], ...] = ()
    account: str | None = None
    job: bool = False

    def matches(self, call: CallView, starts_job: bool, caller: Callable[[], tuple[str, str] | None]) -> bool:
        if self.operations is not None and call.operation not in self.operations:
            return False
        if self.method is not None and call.method != self.method:
            return False
        if self.path is not None and not self.path.matches(call.path):
            return False
        if self.job and not starts_job:
            return False
        if self.backup_uuid is not None and call.backup_uuid != self.backup_uuid:
            return False
        if self.backup_storage_uuid is not None and call.backup_storage_uuid != self.backup_storage_uuid:
            return False
        for name, condition in self.headers:
            value = call.header(name)
            if (condition is True and value is None) or (condition is False and value is not None):
                return False
            if isinstance(condition, str) and value != condition:
                return False
        if self.account is not None:
            account = caller()
            if account is None or self.account not in account:
                return False
        return True


class CallView:
    """What rules compare, read from the call once per request (not once per rule)."""

    def __init__(self, call: ZStackCall) -> None:
        self._call = call
        self.operation = call.operation
        self.method = call.method
        self.path = call.path
        self._headers: dict[str, str | None] = {}

    @cached_property
    def backup_uuid(self) -> str | None:
        return self._call.backup_uuid

    @cached_property
    def backup_storage_uuid(self) -> str | None:
        return self._call.backup_storage_uuid

    def header(self, name: str) -> str | None:
        try:
            return self._headers[name]
        except KeyError:
            value = self._headers[name] = self._call.headers.get(name)
            return value


_NARROWED_LIMIT = 4096


@dataclass(slots=True)
class RuleSet:
    """The rules at one version of the store's rule stamp, compiled, with per-call candidate lookup."""

    version: str | None = None
    rules: tuple[CompiledRule, ...] = ()
    loaded: bool = False
    #: The rules a call of an operation can match (those naming it or none), in order, for each operation
    #: some rule names; ``unnamed``: the rules naming no operation, all a call of any other one can match.
    by_operation: dict[str, tuple[CompiledRule, ...]] = field(default_factory=dict)
    unnamed: tuple[CompiledRule, ...] = ()
    #: backupUuid / backupStorageUuid values some rule names; a call naming another value can only
    #: meet the rules with no such condition.
    named_backups: frozenset[str] = frozenset()
    named_storages: frozenset[str] = frozenset()
    #: Candidates per (operation, method, starts a job, named backup or None, named storage or None),
    #: filled as calls come.
    _narrowed: dict[tuple[str | None, str, bool, str | None, str | None], tuple[CompiledRule, ...]] = field(
        default_factory=dict
    )

    @classmethod
    def build(cls, version: str | None, rules: tuple[CompiledRule, ...]) -> RuleSet:
        named = {op for rule in rules if rule.operations is not None for op in rule.operations}
        by_operation = {
            op: tuple(r for r in rules if r.operations is None or op in r.operations) for op in named
        }
        unnamed = tuple(r for r in rules if r.operations is None)
        return cls(
            version, rules, True, by_operation, unnamed,
            frozenset(r.backup_uuid for r in rules if r.backup_uuid is not None),
            frozenset(r.backup_storage_uuid for r in rules if r.backup_storage_uuid is not None),
        )

    def candidates(self, call: CallView, starts_job: bool) -> tuple[CompiledRule, ...]:
        """The rules ``call`` might match, in order: a superset of those it does match."""
        operation, method = call.operation, call.method
        backup = call.backup_uuid if self.named_backups else None
        backup = backup if backup in self.named_backups else None
        storage = call.backup_storage_uuid if self.named_storages else None
        storage = storage if storage in self.named_storages else None
        key = (operation, method, starts_job, backup, storage)
        found = self._narrowed.get(key)
        if found is None:
            base = self.unnamed if operation is None else self.by_operation.get(operation, self.unnamed)
            if len(self._narrowed) >= _NARROWED_LIMIT:
                self._narrowed.clear()  # odd methods sent at random must not grow it without bound
            found = self._narrowed[key] = tuple(
                r for r in base
                if (r.method is None or r.method == method)
                and (starts_job or not r.job)
                and (r.backup_uuid is None or r.backup_uuid == backup)
                and (r.backup_storage_uuid is None or r.backup_storage_uuid == storage)
            )
        return found


def rule_spec(row: FaultRule) -> RuleSpec:
    return RuleSpec.model_validate(orjson.loads(row.spec_json))


def compiled_rule(known: dict[int, CompiledRule], row: FaultRule) -> CompiledRule:
    """``row`` compiled: the one in ``known`` if it was compiled from the same stored rule."""
    rule = known.get(row.id) if row.id is not None else None
    same = rule is not None and rule.source == row.spec_json and rule.expire_date == row.expire_date
    return rule if same and rule is not None else compile_rule(row)


def compile_rule(row: FaultRule) -> CompiledRule:
    assert row.id is not None
    spec = rule_spec(row)
    match = spec.match
    operations = match.operations
    return CompiledRule(
        id=row.id,
        spec=spec,
        operations=None if operations is None else frozenset(operations),
        path=None if match.path is None else PathPattern.compile(match.path),
        expire_date=row.expire_date,
        source=row.spec_json,
        method=match.method,
        backup_uuid=match.backup_uuid,
        backup_storage_uuid=match.backup_storage_uuid,
        headers=tuple((match.headers or {}).items()),
        account=match.account,
        job=spec.job is not None,
    )
