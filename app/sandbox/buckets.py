"""Token buckets: the sandbox's rate limits, per tenant and per client address.

A bucket holds up to ``burst`` tokens and refills at ``rate`` per second; a request takes one, and a
request that finds none is refused with the seconds until there is one. Buckets live in each worker
process's memory: with several workers a client may get up to that many times the rate. The limits
protect the server, they are no answer a client relies on, so they are not worth a shared write per
request.
"""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict
from dataclasses import dataclass

#: Logins one client address may make at once before ``login_rate_limit`` paces it.
LOGIN_BURST = 10
#: Client addresses each ``AddressBuckets`` remembers at most. Beyond it the least recently seen is
#: forgotten (it starts again with a full bucket): a client would need this many addresses of its own
#: to gain anything by it.
MAX_ADDRESSES = 10_000


#: The IPv6 prefix one client is counted by: a host usually gets a whole /64, and could otherwise
#: rotate through its addresses to get a fresh bucket for each request.
IPV6_CLIENT_PREFIX = 64


def client_key(address: str) -> str:
    """What the per-address limits count ``address`` as: an IPv4 address as itself (also when written
    as IPv4-mapped IPv6), an IPv6 address as its /64, anything else (a Unix socket, a test client) as is."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_CLIENT_PREFIX), strict=False))
    return str(ip)


@dataclass(frozen=True, slots=True)
class Admission:
    """A request refused for its rate: ``rule`` says which limit (for the answer's message), and
    ``retry_after`` in how many seconds a token is back."""

    retry_after: float
    rate: float
    rule: str


@dataclass(slots=True)
class TokenBucket:
    rate: float
    burst: float
    tokens: float
    #: When ``tokens`` was counted (monotonic seconds).
    counted_at: float

    @classmethod
    def full(cls, rate: float, burst: float, now: float) -> TokenBucket:
        return cls(rate=rate, burst=burst, tokens=burst, counted_at=now)

    def take(self, now: float) -> float | None:
        """Take a token: None if there was one, else the seconds until there is."""
        self.tokens = min(self.burst, self.tokens + (now - self.counted_at) * self.rate)
        self.counted_at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return None
        return (1.0 - self.tokens) / self.rate

    def is_full_at(self, now: float) -> bool:
        """Whether the bucket has refilled by ``now``: then it is the same as a new one."""
        return self.tokens + (now - self.counted_at) * self.rate >= self.burst


class AddressBuckets:
    """One bucket per client address, ``rate`` per second with bursts of ``burst``; a ``rate`` of 0
    admits everything and keeps nothing.

    Memory stays bounded: the addresses are kept least recently seen first, a bucket that has
    refilled is dropped (it is no different from the new one the address would get), and beyond
    ``max_addresses`` the least recently seen goes regardless."""

    def __init__(self, *, rate: float, burst: float, rule: str, max_addresses: int = MAX_ADDRESSES) -> None:
        self.rate = rate
        self.burst = max(burst, 1.0)
        self.rule = rule
        self.max_addresses = max_addresses
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def admit(self, address: str) -> Admission | None:
        """Take one request of ``address``; an ``Admission`` when it is over the rate."""
        if self.rate <= 0:
            return None
        now = time.monotonic()
        key = client_key(address)
        bucket = self._buckets.pop(key, None) or TokenBucket.full(self.rate, self.burst, now)
        self._buckets[key] = bucket
        self._drop_refilled(now)
        wait = bucket.take(now)
        return None if wait is None else Admission(retry_after=wait, rate=self.rate, rule=self.rule)

    def __len__(self) -> int:
        return len(self._buckets)

    def _drop_refilled(self, now: float) -> None:
        # A couple from the least recently seen end per request: amortised, the refilled ones go as
        # fast as addresses come.
        for _ in range(2):
            oldest = next(iter(self._buckets.values()))
            if len(self._buckets) <= 1 or not oldest.is_full_at(now):
                break
            self._buckets.popitem(last=False)
        while len(self._buckets) > self.max_addresses:
            self._buckets.popitem(last=False)


class AddressLimits:
    """The limits per client address: requests that reach no tenant (no session, or one the sandbox
    did not issue), and logins. A rate of 0 turns one off (the local profile's default)."""

    def __init__(self, *, anonymous_rate: float, login_rate: float) -> None:
        self.anonymous = AddressBuckets(
            rate=anonymous_rate, burst=anonymous_rate,
            rule=f"this sandbox allows {anonymous_rate:g} requests per second from one client address "
            "without a session",
        )
        self.logins = AddressBuckets(
            rate=login_rate, burst=max(LOGIN_BURST, login_rate),
            rule=f"this sandbox allows {login_rate:g} logins per second from one client address "
            f"(bursts of {LOGIN_BURST})",
        )
        #: Requests refused in this process.
        self.rejected = 0

    def admit_anonymous(self, address: str) -> Admission | None:
        return self._counted(self.anonymous.admit(address))

    def admit_login(self, address: str) -> Admission | None:
        return self._counted(self.logins.admit(address))

    def _counted(self, refused: Admission | None) -> Admission | None:
        if refused is not None:
            self.rejected += 1
        return refused
