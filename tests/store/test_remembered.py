"""Values the store keeps for its callers (a query's rendered page): answered again until a record of a type
they were computed from is written, by this store or by another connection over the same file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.seeding.startup import OpenStore
from app.store.records import Account, Session

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def session(uuid: str) -> Session:
    return Session(uuid=uuid, account_uuid="b" * 32, user_uuid="b" * 32, expired_date=NOW + timedelta(hours=1),
                   create_date=NOW)


class Counting:
    """A computation over the sessions that counts how often it ran."""

    def __init__(self, store: OpenStore) -> None:
        self.store, self.runs = store, 0

    def __call__(self) -> list[str]:
        self.runs += 1
        return sorted(s.uuid for s in self.store.find(Session))

    def ask(self, key: str = "sessions") -> list[str]:
        return self.store.remembered(key, [Session], self)


def test_a_value_is_kept_until_a_record_it_depends_on_is_written(two_connections: tuple[OpenStore, OpenStore]) -> None:
    store, _ = two_connections
    sessions = Counting(store)
    assert sessions.ask() == [] and sessions.ask() == []
    assert sessions.runs == 1

    store.insert(session("a" * 32))
    assert sessions.ask() == ["a" * 32]
    assert sessions.runs == 2

    store.delete(Session, {"uuid": "a" * 32})
    assert sessions.ask() == []
    assert sessions.runs == 3


def test_writes_of_other_record_types_keep_it(two_connections: tuple[OpenStore, OpenStore]) -> None:
    store, _ = two_connections
    sessions = Counting(store)
    sessions.ask()
    store.insert(Account(uuid="e" * 32, name="other", description=None, type="Normal", create_date=NOW,
                         last_op_date=NOW, password_sha512="0" * 128))
    store.set_meta("some", "value")
    sessions.ask()
    assert sessions.runs == 1


def test_another_connections_commit_drops_it(two_connections: tuple[OpenStore, OpenStore]) -> None:
    store, other = two_connections
    sessions = Counting(store)
    assert sessions.ask() == []
    other.insert(session("c" * 32))
    assert sessions.ask() == ["c" * 32]


def test_keys_are_kept_apart(two_connections: tuple[OpenStore, OpenStore]) -> None:
    store, _ = two_connections
    sessions = Counting(store)
    sessions.ask("one")
    sessions.ask("two")
    sessions.ask("one")
    assert sessions.runs == 2


def test_a_value_computed_inside_a_transaction_is_not_kept(two_connections: tuple[OpenStore, OpenStore]) -> None:
    store, _ = two_connections
    sessions = Counting(store)
    with pytest.raises(RuntimeError), store.transaction():
        store.insert(session("d" * 32))
        assert sessions.ask() == ["d" * 32]  # its own uncommitted row
        raise RuntimeError("roll back")
    assert sessions.ask() == []
    assert sessions.runs == 2


def test_a_value_whose_computation_overlapped_a_write_is_not_kept(two_connections: tuple[OpenStore, OpenStore]) -> None:
    store, _ = two_connections
    runs = 0

    def compute_then_write() -> int:
        nonlocal runs
        runs += 1
        value = store.count(Session)
        store.insert(session(f"{runs:032d}"))  # a write while the value is computed: it may be stale
        return value

    store.remembered("count", [Session], compute_then_write)
    store.remembered("count", [Session], compute_then_write)
    assert runs == 2
