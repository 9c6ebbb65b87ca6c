"""What the control API answers, as typed values: each keeps the JSON it was read from in ``raw``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class ControlError(Exception):
    """An error answer of the control API: its HTTP ``status``, the ZStack-style ``code`` (``SYS.1007``…;
    None when the answer was not the JSON error shape, e.g. a 413) and the server's ``message``."""

    def __init__(self, status: int, code: str | None, message: str, *, method: str = "", path: str = "") -> None:
        self.status, self.code, self.message = status, code, message
        self.method, self.path = method, path
        where = f"{method} {path}: " if method else ""
        super().__init__(f"{where}{status}{f' {code}' if code else ''}: {message}")


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Health:
    status: str
    version: str
    accounts: int
    sandbox: bool

    @classmethod
    def of(cls, raw: dict[str, Any]) -> Health:
        return cls(raw["status"], raw["version"], raw["accounts"], raw["sandbox"])


@dataclass(frozen=True)
class ResetSummary:
    inventory: dict[str, int]
    cleared: dict[str, int]
    elapsed_ms: float
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def of(cls, raw: dict[str, Any]) -> ResetSummary:
        return cls(raw["inventory"], raw["cleared"], raw["elapsedMs"], raw)


@dataclass(frozen=True)
class Snapshot:
    name: str
    create_date: datetime | None
    counts: dict[str, int]
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def of(cls, raw: dict[str, Any]) -> Snapshot:
        return cls(raw["name"], _time(raw["createDate"]), raw["counts"], raw)


@dataclass(frozen=True)
class Account:
    uuid: str
    name: str
    type: str
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def of(cls, raw: dict[str, Any]) -> Account:
        return cls(raw["uuid"], raw["name"], raw["type"], raw)


@dataclass(frozen=True)
class VolumeBackup:
    uuid: str
    name: str
    backup_storage_uuids: list[str]
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def of(cls, raw: dict[str, Any]) -> VolumeBackup:
        refs = raw.get("backupStorageRefs") or []
        return cls(raw["uuid"], raw["name"], [ref["backupStorageUuid"] for ref in refs], raw)


@dataclass(frozen=True)
class BackupStorage:
    uuid: str
    name: str
    state: str
    status: str
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def of(cls, raw: dict[str, Any]) -> BackupStorage:
        return cls(raw["uuid"], raw["name"], raw["state"], raw["status"], raw)


@dataclass(frozen=True)
class RequestEntry:
    """One request of the journal, as ``GET /_mock/requests`` gives it."""

    id: int
    time: datetime | None
    method: str
    path: str
    operation: str | None
    session: str | None
    status: int | None
    verdict: str | None
    error_code: str | None
    fault: str | None
    duration_ms: float
    job_uuid: str | None
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def of(cls, raw: dict[str, Any]) -> RequestEntry:
        return cls(
            raw["id"], _time(raw["time"]), raw["method"], raw["path"], raw.get("operation"), raw.get("session"),
            raw.get("status"), raw.get("verdict"), raw.get("errorCode"), raw.get("fault"), raw["durationMs"],
            raw.get("jobUuid"), raw,
        )

    def line(self) -> str:
        """One line for a report: method, path, operation, status, verdict and the fault that fired."""
        parts = [self.method, self.path, self.operation or "-", str(self.status or "-"), self.verdict or "-"]
        if self.error_code:
            parts.append(self.error_code)
        if self.fault:
            parts.append(f"fault={self.fault}")
        return " ".join(parts)


@dataclass(frozen=True)
class Job:
    uuid: str
    api: str
    status: str
    held: bool
    resource_uuid: str | None
    result: dict[str, Any] | None
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def of(cls, raw: dict[str, Any]) -> Job:
        return cls(raw["uuid"], raw["api"], raw["status"], raw["held"], raw.get("resourceUuid"), raw.get("result"), raw)


@dataclass(frozen=True)
class ClockState:
    now: datetime
    frozen: bool
    real_time: bool
    offset_seconds: float | None

    @classmethod
    def of(cls, raw: dict[str, Any]) -> ClockState:
        now = _time(raw["now"])
        assert now is not None
        return cls(now, raw["frozen"], raw["realTime"], raw.get("offsetSeconds"))
