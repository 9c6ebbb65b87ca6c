"""Two stores over one database (a SQLite file, a PostgreSQL database), as two workers have: each keeps
rows it read by key and never answers with one that changed since (its own writes, a rolled-back
transaction, the other's commits), and a write waits for the other's write lock instead of failing."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from app.seeding.startup import OpenStore
from app.store.read_cache import MISSING, ReadCache
from app.store.records import Session

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def session(uuid: str = "a" * 32, *, expires: datetime = NOW + timedelta(hours=2)) -> Session:
    return Session(uuid=uuid, account_uuid="b" * 32, user_uuid="b" * 32, expired_date=expires, create_date=NOW)


def test_a_row_another_connection_inserts_updates_and_deletes_is_seen_at_once(
    two_connections: tuple[OpenStore, OpenStore],
) -> None:
    reader, writer = two_connections
    assert reader.get(Session, uuid="a" * 32) is None  # a miss, kept

    writer.insert(session())
    found = reader.get(Session, uuid="a" * 32)
    assert found is not None and found.expired_date == NOW + timedelta(hours=2)

    writer.update(Session, {"uuid": "a" * 32}, {"expired_date": NOW})
    found = reader.get(Session, uuid="a" * 32)
    assert found is not None and found.expired_date == NOW

    writer.delete(Session, {"uuid": "a" * 32})
    assert reader.get(Session, uuid="a" * 32) is None


def test_a_meta_value_another_connection_sets_is_seen_at_once(two_connections: tuple[OpenStore, OpenStore]) -> None:
    reader, writer = two_connections
    assert reader.get_meta("faults.version") is None
    writer.set_meta("faults.version", "7")
    assert reader.get_meta("faults.version") == "7"
    writer.set_meta("faults.version", "8")
    assert reader.get_meta("faults.version") == "8"


def test_a_write_transaction_sees_what_another_connection_committed_before_it_began(
    two_connections: tuple[OpenStore, OpenStore],
) -> None:
    reader, writer = two_connections
    reader.insert(session())
    assert reader.get(Session, uuid="a" * 32) is not None  # kept
    writer.delete(Session, {"uuid": "a" * 32})
    with reader.transaction():
        assert reader.get(Session, uuid="a" * 32) is None


def test_the_stores_own_writes_replace_what_it_kept(two_connections: tuple[OpenStore, OpenStore]) -> None:
    store, _ = two_connections
    assert store.get(Session, uuid="a" * 32) is None
    store.insert(session())
    assert store.get(Session, uuid="a" * 32) is not None
    store.update(Session, {"uuid": "a" * 32}, {"expired_date": NOW})
    found = store.get(Session, uuid="a" * 32)
    assert found is not None and found.expired_date == NOW
    store.replace_records([Session], [session("c" * 32)])
    assert store.get(Session, uuid="a" * 32) is None
    store.set_meta("clock", "frozen")
    assert store.get_meta("clock") == "frozen"


def test_rows_read_inside_a_rolled_back_transaction_are_forgotten(
    two_connections: tuple[OpenStore, OpenStore],
) -> None:
    store, _ = two_connections
    with pytest.raises(RuntimeError), store.transaction():
        store.insert(session())
        store.set_meta("faults.version", "9")
        assert store.get(Session, uuid="a" * 32) is not None
        assert store.get_meta("faults.version") == "9"
        raise RuntimeError("the call failed")
    assert store.get(Session, uuid="a" * 32) is None
    assert store.get_meta("faults.version") is None


def test_changing_a_returned_record_does_not_change_the_next_read(
    two_connections: tuple[OpenStore, OpenStore],
) -> None:
    store, _ = two_connections
    store.insert(session())
    first = store.get(Session, uuid="a" * 32)
    assert first is not None
    first.account_uuid = "changed"
    again = store.get(Session, uuid="a" * 32)
    assert again is not None and again.account_uuid == "b" * 32


def test_the_cache_is_bounded_and_starts_again_when_full() -> None:
    cache = ReadCache(lambda: 1, limit=2)
    for key in ("x", "y", "z"):
        assert cache.lookup(Session, key, in_transaction=False) is MISSING
        cache.keep(Session, key, (key,))
    assert cache.lookup(Session, "x", in_transaction=False) is MISSING
    assert cache.lookup(Session, "z", in_transaction=False) == ("z",)


def test_a_moved_data_version_drops_everything_kept() -> None:
    version = [1]
    cache = ReadCache(lambda: version[0])
    cache.lookup(Session, "x", in_transaction=False)
    cache.keep(Session, "x", None)
    assert cache.lookup(Session, "x", in_transaction=False) is None
    version[0] = 2
    assert cache.lookup(Session, "x", in_transaction=False) is MISSING


def test_on_an_event_loop_the_version_is_read_once_a_turn_and_again_on_the_next() -> None:
    reads = []

    def data_version() -> int:
        reads.append(1)
        return 1

    async def two_turns() -> None:
        cache = ReadCache(data_version)
        cache.lookup(Session, "x", in_transaction=False)
        cache.lookup(Session, "y", in_transaction=False)
        assert len(reads) == 1
        await asyncio.sleep(0)  # the next turn of the loop
        cache.lookup(Session, "x", in_transaction=False)
        assert len(reads) == 2
        cache.transaction_began()
        cache.lookup(Session, "x", in_transaction=True)  # a write transaction always reads it
        cache.lookup(Session, "y", in_transaction=True)
        assert len(reads) == 3

    asyncio.run(two_turns())


def test_on_an_event_loop_a_commit_by_another_connection_is_seen_on_the_next_turn(
    two_connections: tuple[OpenStore, OpenStore],
) -> None:
    reader, writer = two_connections

    async def request_after_request() -> None:
        assert reader.get(Session, uuid="a" * 32) is None
        writer.insert(session())  # another worker, before its answer goes out
        await asyncio.sleep(0)  # the client reads that answer and sends the next request: a later turn
        assert reader.get(Session, uuid="a" * 32) is not None

    asyncio.run(request_after_request())


def test_a_write_waits_for_another_connections_write_lock_and_goes_through_once_it_is_free(
    two_connections: tuple[OpenStore, OpenStore],
) -> None:
    holder, waiter = two_connections
    locked, release = threading.Event(), threading.Event()

    def hold_the_write_lock() -> None:
        with holder.transaction():
            holder.insert(session("c" * 32))
            locked.set()
            release.wait(5)

    thread = threading.Thread(target=hold_the_write_lock)
    thread.start()
    assert locked.wait(5)
    threading.Timer(0.2, release.set).start()
    started = time.monotonic()
    waiter.insert(session("d" * 32))  # no "database is locked": it waits for the lock
    waited = time.monotonic() - started
    thread.join(5)
    assert 0.15 < waited < 2.0
    assert waiter.get(Session, uuid="c" * 32) is not None and holder.get(Session, uuid="d" * 32) is not None
