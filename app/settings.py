"""Server settings: one typed object, read from ZSTACK_MOCK_* environment variables and CLI flags.

Built by the CLI or by whoever calls ``create_app``; never at import time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .fixture_files import default_fixtures_path, default_scenarios_path
from .limits import LIMITS, Limits
from .outbound.targets import AllowList
from .store.urls import display_url, is_postgres_url

#: The public profile's ``sandbox_evict_after``: a visitor who has not made a request for five minutes
#: may be evicted to make room for a new one, a visitor still using the sandbox never.
PUBLIC_EVICT_AFTER = 300.0
#: ``--workers`` at most: more processes than this only contend for the database.
MAX_WORKERS = 64


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZSTACK_MOCK_", extra="ignore")

    host: str = Field("127.0.0.1", description="Interface to listen on.")
    port: int = Field(8080, ge=0, le=65535, description="TCP port to listen on (0 picks a free one).")
    port_file: Path | None = Field(
        None,
        description="Once listening, write the port (the one chosen, with port 0) to this file, atomically; "
        "removed at exit.",
    )
    database_url: str = Field(
        "sqlite:///./zstack-mock.db",
        description="Where the inventory lives: sqlite:///PATH for a file, sqlite:// for memory, "
        "postgresql://USER:PASSWORD@HOST:PORT/DATABASE for a PostgreSQL database (which several servers can share).",
    )
    fixtures: Path = Field(
        default_factory=default_fixtures_path,
        description="Fixtures file loaded into an empty database (or on --reset).",
    )
    reset: bool = Field(False, description="Wipe the database and reload the fixtures at start-up.")
    session_timeout: int = Field(
        7200, ge=1, description="Seconds a session lives after its last use (identity.session.timeout)."
    )
    max_sessions_per_account: int = Field(
        500, ge=0, description="Concurrent live sessions per account before ID.1006; 0 means no limit."
    )
    max_body_bytes: int = Field(1024 * 1024, ge=1, description="Largest request body accepted.")
    api_mode: Literal["sync", "async"] = Field(
        "sync",
        description="How the create API answers by default: sync (200 with the image) or async (202 and a job, as "
        "a real management node). Per request, 'Prefer: respond-async|respond-sync' overrides it and X-Web-Hook "
        "always means async.",
    )
    public_url: str | None = Field(
        None,
        description="Base URL put in job locations (e.g. http://10.0.0.5:8080); default: the URL the request "
        "came in on.",
    )
    job_duration: str = Field(
        "0.2-1",
        description="Seconds an async job runs: a number, or a range MIN-MAX drawn uniformly per job.",
    )
    job_retention: int = Field(
        10800, ge=1, description="Seconds a finished REST job stays pollable (rest.completedApi.expiredPeriod)."
    )
    webhook_attempts: int = Field(15, ge=1, description="Times a webhook POST is tried before giving up.")
    webhook_interval: float = Field(2.0, ge=0, description="Seconds between webhook attempts.")
    journal_size: int = Field(
        10000, ge=0, description="Requests the journal (/_mock/requests) keeps, oldest dropped; 0 disables it."
    )
    faults: Path | None = Field(
        None, description="YAML or JSON file of fault rules installed at start-up (replacing the stored rules)."
    )
    scenarios: Path = Field(
        default_factory=default_scenarios_path,
        description="The scenario catalogue the X-Mock-Scenario header names (GET /_mock/scenarios).",
    )
    fault_injection: bool = Field(
        True, description="Set false to take the fault layer out: rules and the scenario header are then ignored."
    )
    admin_token: SecretStr | None = Field(
        None,
        description="When set, every control call under /_mock needs 'Authorization: Bearer <token>', except "
        "GET /_mock/health and GET /_mock/scenarios (and, under --sandbox, a visitor's calls on its own tenant "
        "with X-Mock-Session). Empty means not set.",
    )
    seed: int | None = Field(
        None,
        description="Fixes generated UUIDs, job durations and fault draws: the same seed and requests give the "
        "same answers (with the clock set by PUT /_mock/clock).",
    )
    cors_origins: str = Field(
        "*",
        description="Origins browsers may call from: '*' (any), a comma-separated list "
        "(https://docs.example.com,http://localhost:3000), or '' to send no CORS headers.",
    )
    sandbox: bool = Field(
        False,
        description="Every session is its own tenant with a private copy of the fixtures (the docs portal's "
        "'Try It Out'): a login gets one (and, in the local profile only, a well-formed session UUID never seen).",
    )
    sandbox_idle: int = Field(3600, ge=1, description="Seconds a sandbox tenant lives after its last request.")
    sandbox_max_tenants: int = Field(
        1000, ge=1, description="Sandbox tenants kept at most. When full, a login takes the place of the least "
        "recently used tenant if it has been idle for --sandbox-evict-after seconds, else gets 503."
    )
    sandbox_rate_limit: float = Field(
        20.0, ge=0, allow_inf_nan=False,
        description="Requests per second one sandbox tenant may make (bursts up to as many); 0 means no limit.",
    )
    sandbox_evict_after: float | None = Field(
        None, ge=0, allow_inf_nan=False,
        description="Seconds without a request before a tenant may make way for a login when the sandbox is full "
        "(none that idle: the login gets 503); 0 means any, least recently used first. Default: 300 in the public "
        "profile, 0 otherwise.",
    )
    public_profile: bool | None = Field(
        None,
        description="The public profile's tight limits and outbound rules (docs/security.md); default: on with "
        "--sandbox, off otherwise.",
    )
    webhook_allow: str = Field(
        "",
        description="In the public profile, the only hosts and networks webhooks may go to: a comma-separated list "
        "of host names, addresses and CIDR networks (hooks.example.com,203.0.113.0/24). Empty: no webhooks.",
    )
    forwarded_allow_ips: str = Field(
        "127.0.0.1",
        description="Proxies trusted to set X-Forwarded-For (comma-separated addresses or networks, '*' for any): "
        "the client address the per-address limits count comes from there.",
    )
    # The limits (app/limits.py): None takes the profile's default.
    max_header_bytes: int | None = Field(None, ge=1024)
    header_timeout: float | None = Field(None, gt=0, allow_inf_nan=False)
    keep_alive_timeout: float | None = Field(None, gt=0, allow_inf_nan=False)
    max_connections: int | None = Field(None, ge=1)
    shutdown_timeout: float | None = Field(None, ge=0, allow_inf_nan=False)
    anonymous_rate_limit: float | None = Field(None, ge=0, allow_inf_nan=False)
    login_rate_limit: float | None = Field(None, ge=0, allow_inf_nan=False)
    max_fault_latency: float | None = Field(None, ge=0, allow_inf_nan=False)
    max_fault_rules: int | None = Field(None, ge=1)
    max_snapshots: int | None = Field(None, ge=1)
    max_records: int | None = Field(None, ge=1)
    max_journal_entry_bytes: int | None = Field(None, ge=1024)
    webhook_concurrency: int | None = Field(None, ge=1)
    webhook_queue: int | None = Field(None, ge=1)
    webhook_timeout: float | None = Field(None, gt=0, allow_inf_nan=False)
    workers: int | Literal["auto"] = Field(
        1,
        description=f"Processes serving the one port over the one database (1 to {MAX_WORKERS}, or auto: one per "
        "CPU core); sessions, rules, the clock, jobs and the journal are shared by all (docs/workers.md).",
    )
    log_level: str = Field("info", description="uvicorn log level; at warning and above, no request lines.")
    log_format: Literal["text", "json"] = Field(
        "text", description="Request lines on standard output as text, or as one JSON object a line (json)."
    )
    quiet: bool = Field(False, description="No request lines.")
    metrics: bool = Field(
        True, description="Count requests and serve them in Prometheus's format at /metrics (false: no /metrics)."
    )

    @property
    def is_public(self) -> bool:
        return self.sandbox if self.public_profile is None else self.public_profile

    @property
    def limits(self) -> Limits:
        return Limits.of(public=self.is_public, given={limit.name: getattr(self, limit.name) for limit in LIMITS})

    @property
    def sandbox_evict_seconds(self) -> float:
        if self.sandbox_evict_after is not None:
            return self.sandbox_evict_after
        return PUBLIC_EVICT_AFTER if self.is_public else 0.0

    @property
    def webhook_allow_list(self) -> list[str]:
        return [entry.strip() for entry in self.webhook_allow.split(",") if entry.strip()]

    @property
    def worker_count(self) -> int:
        if self.workers == "auto":
            return max(1, min(MAX_WORKERS, os.cpu_count() or 1))
        return self.workers

    @field_validator("workers", mode="before")
    @classmethod
    def _worker_count(cls, value: Any) -> int | str:
        text = str(value).strip().lower()
        if text == "auto":
            return "auto"
        if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_WORKERS:
            raise ValueError(f"workers must be a number from 1 to {MAX_WORKERS} or auto, got {value!r}")
        return int(text)

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if not value.startswith("sqlite:") and not is_postgres_url(value):
            raise ValueError(
                f"unsupported database URL {display_url(value)!r}: sqlite:///PATH, sqlite:// and "
                "postgresql://USER:PASSWORD@HOST:PORT/DATABASE are supported"
            )
        return value

    @field_validator("webhook_allow")
    @classmethod
    def _allow_list(cls, value: str) -> str:
        AllowList.parse([entry for entry in value.split(",") if entry.strip()])  # ValueError names the bad entry
        return value

    @field_validator("public_url")
    @classmethod
    def _http_base_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError(f"public URL must be an http:// or https:// base URL such as http://10.0.0.5:8080, "
                             f"got {value!r}")
        return value.rstrip("/")

    @field_validator("job_duration")
    @classmethod
    def _duration_range(cls, value: str) -> str:
        parse_duration_range(value)
        return value

    @property
    def job_duration_range(self) -> tuple[float, float]:
        return parse_duration_range(self.job_duration)

    @field_validator("admin_token")
    @classmethod
    def _sendable_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not all("!" <= c <= "~" for c in value.get_secret_value()):
            raise ValueError("the admin token must be printable ASCII without spaces, to fit in a header")
        return value

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip().rstrip("/") for origin in self.cors_origins.split(",") if origin.strip()]

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: str) -> str:
        for origin in (o.strip() for o in value.split(",")):
            if origin and origin != "*" and urlsplit(origin).scheme not in ("http", "https"):
                raise ValueError(f"a CORS origin is '*' or like https://docs.example.com, got {origin!r}")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        allowed = {"critical", "error", "warning", "info", "debug", "trace"}
        if value.lower() not in allowed:
            raise ValueError(f"log level must be one of {sorted(allowed)}")
        return value.lower()


def parse_duration_range(text: str) -> tuple[float, float]:
    """``"0.5"`` is (0.5, 0.5); ``"0.2-1"`` is (0.2, 1.0). Seconds, not negative, at most a day."""
    low_text, _, high_text = text.strip().partition("-")
    try:
        low = float(low_text)
        high = float(high_text) if high_text else low
    except ValueError:
        raise ValueError(f"job duration must be SECONDS or MIN-MAX (e.g. 0.5 or 0.2-1), got {text!r}") from None
    if not 0 <= low <= high <= 86400:
        raise ValueError(f"job duration range {text!r} must satisfy 0 <= MIN <= MAX <= 86400")
    return low, high
