"""Reading the journal: filters, and an entry as the control API shows it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from ..store.base import Store
from ..store.records import JournalEntry
from ..zstack.errors import bad_request


@dataclass(frozen=True, slots=True)
class JournalFilter:
    operation: str | None = None
    status: int | None = None
    since: datetime | None = None
    #: True: only requests a fault rule or scenario answered; False: only those it did not.
    fault: bool | None = None
    session: str | None = None

    @classmethod
    def parse(
        cls,
        *,
        operation: str | None = None,
        status: str | int | None = None,
        since: str | None = None,
        fault: str | bool | None = None,
        session: str | None = None,
    ) -> JournalFilter:
        """From query parameters or a JSON body; a bad filter is a 400 naming it."""
        return cls(
            operation=operation or None,
            status=_status(status),
            since=parse_since(since),
            fault=_flag(fault),
            session=session or None,
        )

    def conditions(self) -> dict[str, Any]:
        where: dict[str, Any] = {}
        if self.operation is not None:
            where["operation"] = self.operation
        if self.status is not None:
            where["status"] = self.status
        if self.since is not None:
            where["create_date__ge"] = self.since
        if self.fault is not None:
            where["fault__isnull"] = not self.fault
        if self.session is not None:
            where["session_uuid"] = self.session
        return where


def find_entries(store: Store, where: JournalFilter, *, limit: int) -> list[JournalEntry]:
    """Newest first (by the order the answers were sent)."""
    return store.find(JournalEntry, where.conditions(), order_by=["-id"], limit=limit)


def count_entries(store: Store, where: JournalFilter) -> int:
    return store.count(JournalEntry, where.conditions())


def entry_view(entry: JournalEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "time": _iso(entry.create_date),
        "method": entry.method,
        "path": entry.path,
        "query": entry.query,
        "headers": orjson.loads(entry.headers_json),
        "body": entry.body,
        "bodySize": entry.body_size,
        "bodyTruncated": entry.body_truncated,
        "operation": entry.operation,
        "session": entry.session_uuid,
        "status": entry.status,
        "verdict": entry.verdict,
        "errorCode": entry.error_code,
        "errorDetails": entry.error_details,
        "fault": entry.fault,
        "durationMs": entry.duration_ms,
        "jobUuid": entry.job_uuid,
    }


def parse_since(text: str | None) -> datetime | None:
    if text is None or text == "":
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise bad_request(
            f"since must be an ISO 8601 time such as 2026-01-01T12:00:00Z, got [{text}]"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _status(value: str | int | None) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not (isinstance(value, int) or (value.isascii() and value.isdigit())) or not 100 <= int(value) <= 599:
        raise bad_request(f"status must be an HTTP status from 100 to 599, got [{value}]")
    return int(value)


def _flag(value: str | bool | None) -> bool | None:
    if isinstance(value, bool):
        return value
    if value is None or value == "":
        return None
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise bad_request(f"fault must be true or false, got [{value}]")


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")
