"""The per-address token buckets: what counts as one client, bursts and refills, and bounded memory."""

from __future__ import annotations

import pytest

from app.sandbox import buckets
from app.sandbox.buckets import AddressBuckets, client_key


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(buckets.time, "monotonic", fake)
    return fake


@pytest.mark.parametrize(("address", "key"), [
    ("203.0.113.7", "203.0.113.7"),
    ("::ffff:203.0.113.7", "203.0.113.7"),
    ("2001:db8:0:7::1", "2001:db8:0:7::/64"),
    ("2001:db8:0:7:ffff:ffff:ffff:ffff", "2001:db8:0:7::/64"),
    ("2001:db8:0:8::1", "2001:db8:0:8::/64"),
    ("testclient", "testclient"),
    ("", ""),
])
def test_what_counts_as_one_client(address: str, key: str) -> None:
    assert client_key(address) == key


def test_a_burst_then_the_rate(clock: FakeClock) -> None:
    limit = AddressBuckets(rate=1, burst=10, rule="one a second")
    assert [limit.admit("203.0.113.7") for _ in range(10)] == [None] * 10
    refused = limit.admit("203.0.113.7")
    assert refused is not None and refused.rule == "one a second"
    assert refused.retry_after == pytest.approx(1.0)
    assert limit.admit("203.0.113.8") is None  # another client has its own bucket
    clock.now += 1.0
    assert limit.admit("203.0.113.7") is None
    assert limit.admit("203.0.113.7") is not None


def test_a_rate_of_zero_admits_everything_and_keeps_nothing(clock: FakeClock) -> None:
    limit = AddressBuckets(rate=0, burst=10, rule="none")
    assert all(limit.admit(f"203.0.113.{n}") is None for n in range(200))
    assert len(limit) == 0


def test_memory_stays_bounded_however_many_addresses_come(clock: FakeClock) -> None:
    limit = AddressBuckets(rate=1, burst=2, rule="r", max_addresses=100)
    for n in range(1000):
        limit.admit(f"10.0.{n // 250}.{n % 250}")
    assert len(limit) == 100
    clock.now += 10  # every bucket has refilled: each goes as new requests come
    for _ in range(60):
        limit.admit("192.0.2.1")
    assert len(limit) < 100
