"""Every bound the server puts on what a client may make it do, with its default in each profile.

Two profiles: the **local** one (tests and development on one machine: generous bounds, webhooks to
anywhere) and the **public** one that ``--sandbox`` turns on (anonymous visitors from the internet:
tight bounds, webhooks only where the operator allows). Each limit is a setting of its own
(``--max-header-bytes``, ``ZSTACK_MOCK_MAX_HEADER_BYTES``...); unset, it takes its profile's
default. ``docs/security.md`` explains each one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limit:
    """One bound: its setting's name, the defaults of the local and public profiles, and what it means."""

    name: str
    local: float
    public: float
    help: str
    integer: bool = True


#: The limits, in the order ``--help`` and ``docs/security.md`` list them.
LIMITS: tuple[Limit, ...] = (
    # --- connections (enforced by the HTTP server) ---
    Limit("max_header_bytes", 16384, 16384, "bytes of request line and headers a request may send"),
    Limit("header_timeout", 10, 5, "seconds a client has to send its request line and headers; also the longest pause inside a body",
          integer=False),
    Limit("keep_alive_timeout", 5, 5, "seconds an idle keep-alive connection is kept", integer=False),
    Limit("max_connections", 2000, 500, "connections with a request sent, and requests in progress; more get 503"),
    Limit("shutdown_timeout", 3, 3, "seconds SIGTERM waits for requests in progress", integer=False),
    # --- requests without a tenant, and tenant creation (public profile) ---
    Limit("anonymous_rate_limit", 0, 20, "requests per second per client address without a session, 0 = none",
          integer=False),
    Limit("login_rate_limit", 0, 1, "logins per second per client address (bursts of 10), 0 = none", integer=False),
    # --- what one tenant (or the server's own cloud) may keep ---
    Limit("max_fault_latency", 3600, 60, "seconds of latency a fault rule or scenario may add", integer=False),
    Limit("max_fault_rules", 10000, 100, "fault rules installed at once"),
    Limit("max_snapshots", 1000, 5, "named snapshots kept"),
    Limit("max_records", 1_000_000, 1000, "records of each kind (images, backups, accounts...) added through the API"),
    Limit("max_journal_entry_bytes", 65536, 8192, "bytes of headers and body the journal keeps per request"),
    # --- outbound webhooks ---
    Limit("webhook_concurrency", 100, 4, "webhook POSTs in flight at once, per tenant"),
    Limit("webhook_queue", 100_000, 100, "webhooks waiting for delivery, per tenant"),
    Limit("webhook_timeout", 10, 5, "seconds one webhook POST may take", integer=False),
)

BY_NAME = {limit.name: limit for limit in LIMITS}


@dataclass(frozen=True, slots=True)
class Limits:
    """The effective limits of a server: its profile's defaults, with the settings given on top."""

    public: bool
    max_header_bytes: int
    header_timeout: float
    keep_alive_timeout: float
    max_connections: int
    shutdown_timeout: float
    anonymous_rate_limit: float
    login_rate_limit: float
    max_fault_latency: float
    max_fault_rules: int
    max_snapshots: int
    max_records: int
    max_journal_entry_bytes: int
    webhook_concurrency: int
    webhook_queue: int
    webhook_timeout: float

    @classmethod
    def of(cls, *, public: bool, given: dict[str, float | None]) -> Limits:
        values: dict[str, float | int] = {}
        for limit in LIMITS:
            value = given.get(limit.name)
            if value is None:
                value = limit.public if public else limit.local
            values[limit.name] = int(value) if limit.integer else float(value)
        return cls(public=public, **values)  # type: ignore[arg-type]
