"""``Control`` and its parts: one method per control endpoint, over a sync ``httpx.Client``."""

from __future__ import annotations

import builtins
import hashlib
from collections.abc import Mapping
from datetime import datetime
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from .models import (
    Account,
    BackupStorage,
    ClockState,
    ControlError,
    Health,
    Job,
    RequestEntry,
    ResetSummary,
    Snapshot,
    VolumeBackup,
)

DEFAULT_TIMEOUT = 30.0
LOGIN_PATH = "/zstack/v1/accounts/login"

#: ``fault()``'s keyword arguments that go under ``match``, by the rule's camelCase names.
_MATCH_FIELDS = {
    "operation": "operation", "method": "method", "path": "path", "backup_uuid": "backupUuid",
    "backup_storage_uuid": "backupStorageUuid", "account": "account", "headers": "headers",
}
_RULE_FIELDS = {"name": "name", "ttl": "ttl", "probability": "probability", "times": "times", "after": "after",
                "latency": "latency", "error": "error", "http": "http", "wire": "wire", "job": "job"}


class Control:
    """A client of one server's control API: ``Control("http://127.0.0.1:8080", token="s3cret")``.

    ``token`` is the server's admin token (``--admin-token``), sent as ``Authorization: Bearer``."""

    def __init__(self, url: str, token: str | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.url = url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)
        self.jobs = Jobs(self)
        self.clock = Clock(self)

    def call(self, method: str, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        """One control call: the JSON answer, or ``ControlError`` for an error answer."""
        response = self.http.request(method, path, json=json, params=params)
        if response.is_success:
            return response.json()
        raise _error(response, method, path)

    # -- state -----------------------------------------------------------------------------------

    def health(self) -> Health:
        return Health.of(self.call("GET", "/_mock/health"))

    def reset(self) -> ResetSummary:
        return ResetSummary.of(self.call("POST", "/_mock/reset"))

    def snapshot(self, name: str, *, replace: bool = False) -> Snapshot:
        return Snapshot.of(self.call("POST", "/_mock/snapshots", json={"name": name, "replace": replace}))

    def restore(self, name: str) -> Snapshot:
        return Snapshot.of(self.call("POST", f"/_mock/snapshots/{_segment(name)}/restore")["snapshot"])

    # -- arranging -------------------------------------------------------------------------------

    def login(self, account: str = "admin", password: str | None = None) -> str:
        """A live session's UUID. Without ``password``: minted by ``POST /_mock/sessions`` (no password, not in
        the journal); with it: a real ``LogInByAccount`` (SHA-512 of ``password``), journalled as any call."""
        if password is None:
            return str(self.call("POST", "/_mock/sessions", json={"account": account})["inventory"]["uuid"])
        digest = hashlib.sha512(password.encode()).hexdigest()
        body = {"logInByAccount": {"accountName": account, "password": digest}}
        response = self.http.put(LOGIN_PATH, json=body)
        if response.status_code != 200:
            raise _error(response, "PUT", LOGIN_PATH)
        return str(response.json()["inventory"]["uuid"])

    def add_account(self, name: str, password: str | None = None, **fields: Any) -> Account:
        """``fields``: the fixtures' camelCase account fields (``type``, ``description``, ``uuid``...)."""
        body = {"name": name, **({"password": password} if password is not None else {}), **fields}
        return Account.of(self.call("POST", "/_mock/accounts", json=body)["inventory"])

    def add_volume_backup(self, name: str, **fields: Any) -> VolumeBackup:
        """``fields``: the fixtures' camelCase volume backup fields (``backupStorageUuids``, ``owner``, ``size``...)."""
        return VolumeBackup.of(self.call("POST", "/_mock/volume-backups", json={"name": name, **fields})["inventory"])

    def set_backup_storage(self, uuid: str, *, state: str | None = None, status: str | None = None) -> BackupStorage:
        """``state`` Enabled or Disabled, ``status`` Connected, Disconnected or Connecting; None: unchanged."""
        body = _given({"state": state, "status": status})
        return BackupStorage.of(self.call("PATCH", f"/_mock/backup-storages/{_segment(uuid)}", json=body)["inventory"])

    # -- faults ----------------------------------------------------------------------------------

    def fault(self, rule: Mapping[str, Any] | None = None, **fields: Any) -> FaultRule:
        """Install one fault rule; returns its handle (``with control.fault(...):`` removes it on the way out).

        Either the rule as the API takes it (``rule={...}``) or keywords: ``operation``, ``method``, ``path``,
        ``backup_uuid``, ``backup_storage_uuid``, ``account``, ``headers`` go under ``match``; ``error`` (a code
        such as ``"SYS.1006"`` or an ErrorCode dict), ``http`` (a status or a dict), ``wire`` (a kind such as
        ``"reset"`` or a dict), ``latency`` (seconds or a dict), ``job``, ``probability``, ``times``, ``after``,
        ``name`` and ``ttl`` as the rule has them."""
        body = dict(rule or {})
        body.update(_rule_body(fields))
        return FaultRule(self, self.call("POST", "/_mock/faults", json=body))

    def faults(self) -> list[FaultRule]:
        """The rules installed, in the order they are checked (the first 1,000)."""
        return [FaultRule(self, raw) for raw in self.call("GET", "/_mock/faults", params={"limit": 1000})["rules"]]

    def clear_faults(self) -> int:
        return int(self.call("DELETE", "/_mock/faults")["deleted"])

    # -- the journal -----------------------------------------------------------------------------

    def requests(
        self,
        operation: str | None = None,
        *,
        status: int | None = None,
        since: datetime | str | None = None,
        fault: bool | None = None,
        session: str | None = None,
        limit: int = 100,
    ) -> list[RequestEntry]:
        """The last ``limit`` requests that match, oldest first (the endpoint lists newest first)."""
        params = {"operation": operation, "status": status, "since": _iso(since), "session": session, "limit": limit,
                  "fault": None if fault is None else str(fault).lower()}
        answer = self.call("GET", "/_mock/requests", params=_given(params))
        return [RequestEntry.of(raw) for raw in reversed(answer["requests"])]

    def count(
        self, operation: str | None = None, *, status: int | None = None, fault: bool | None = None,
        session: str | None = None, since: datetime | str | None = None,
    ) -> int:
        body = {"operation": operation, "status": status, "fault": fault, "session": session, "since": _iso(since)}
        return int(self.call("POST", "/_mock/requests/count", json=_given(body))["count"])

    def assert_called(self, operation: str, times: int | None = None, **filters: Any) -> int:
        """Asserts ``operation`` was called (exactly ``times`` times when given); returns the count.
        ``filters``: those of ``count`` (``status``, ``fault``, ``session``, ``since``)."""
        found = self.count(operation, **filters)
        if (found == 0) if times is None else (found != times):
            wanted = "at least once" if times is None else f"{times} time{'s' * (times != 1)}"
            seen = "\n".join(f"  {entry.line()}" for entry in self.requests(limit=50)) or "  (none)"
            raise AssertionError(f"{operation} was expected {wanted}, was called {found}; the last requests:\n{seen}")
        return found

    def clear_requests(self) -> int:
        return int(self.call("DELETE", "/_mock/requests")["deleted"])

    # -- the client itself -----------------------------------------------------------------------

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Control:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Control({self.url!r})"


class FaultRule:
    """An installed fault rule: ``id``, counters as last read (``refresh()`` reads them again), ``remove()``."""

    def __init__(self, control: Control, raw: dict[str, Any]) -> None:
        self._control = control
        self.raw = raw

    @property
    def id(self) -> int:
        return int(self.raw["id"])

    @property
    def rule(self) -> dict[str, Any]:
        return dict(self.raw["rule"])

    @property
    def matched(self) -> int:
        return int(self.raw["matched"])

    @property
    def fired(self) -> int:
        return int(self.raw["fired"])

    @property
    def spent(self) -> bool:
        return bool(self.raw["spent"])

    def refresh(self) -> FaultRule:
        self.raw = self._control.call("GET", f"/_mock/faults/{self.id}")
        return self

    def remove(self) -> bool:
        """Delete the rule; False if it was already gone (a reset, ``clear_faults``)."""
        try:
            self._control.call("DELETE", f"/_mock/faults/{self.id}")
        except ControlError as error:
            if error.status == 404:
                return False
            raise
        return True

    def __enter__(self) -> FaultRule:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.remove()

    def __repr__(self) -> str:
        return f"FaultRule(id={self.id}, rule={self.rule}, fired={self.fired})"


class Jobs:
    """``control.jobs``: the asynchronous jobs (``/_mock/jobs``)."""

    def __init__(self, control: Control) -> None:
        self._control = control

    def list(self, status: str | None = None, *, limit: int = 100) -> builtins.list[Job]:
        params: dict[str, Any] = {"limit": limit, **({"status": status} if status else {})}
        return [Job.of(raw) for raw in self._control.call("GET", "/_mock/jobs", params=params)["jobs"]]

    def get(self, uuid: str) -> Job:
        return Job.of(self._control.call("GET", f"/_mock/jobs/{_segment(uuid)}"))

    def complete(self, uuid: str) -> Job:
        return Job.of(self._control.call("POST", f"/_mock/jobs/{_segment(uuid)}/complete"))

    def fail(self, uuid: str, code: str = "SYS.1002", details: str | None = None,
             cause: Mapping[str, str] | None = None) -> Job:
        body: dict[str, Any] = {"code": code}
        if details is not None:
            body["details"] = details
        if cause is not None:
            body["cause"] = dict(cause)
        return Job.of(self._control.call("POST", f"/_mock/jobs/{_segment(uuid)}/fail", json=body))

    def release(self, uuid: str | None = None) -> builtins.list[Job]:
        """Release one held job, or every held job when ``uuid`` is None."""
        if uuid is None:
            return [Job.of(raw) for raw in self._control.call("POST", "/_mock/jobs/release")["jobs"]]
        return [Job.of(self._control.call("POST", f"/_mock/jobs/{_segment(uuid)}/release"))]

    def settings(self, *, hold_new_jobs: bool | None = None, duration: str | float | None = None) -> dict[str, Any]:
        """Change (``PUT /_mock/jobs/settings``) whatever is given; answers the settings now in force."""
        body = _given({"holdNewJobs": hold_new_jobs, "duration": duration})
        return dict(self._control.call("PUT", "/_mock/jobs/settings", json=body))


class Clock:
    """``control.clock``: the server's time (``/_mock/clock``)."""

    def __init__(self, control: Control) -> None:
        self._control = control

    def get(self) -> ClockState:
        return ClockState.of(self._control.call("GET", "/_mock/clock"))

    def set(self, now: datetime | str | None = None, *, frozen: bool | None = None) -> ClockState:
        body = _given({"now": _iso(now), "frozen": frozen})
        return ClockState.of(self._control.call("PUT", "/_mock/clock", json=body))

    def advance(self, seconds: float) -> ClockState:
        return ClockState.of(self._control.call("PUT", "/_mock/clock", json={"advance": seconds}))

    def real(self) -> ClockState:
        """Back to real time."""
        return ClockState.of(self._control.call("DELETE", "/_mock/clock"))


def _rule_body(fields: Mapping[str, Any]) -> dict[str, Any]:
    match: dict[str, Any] = {}
    body: dict[str, Any] = {}
    for key, value in fields.items():
        if key in _MATCH_FIELDS:
            match[_MATCH_FIELDS[key]] = value
        elif key in _RULE_FIELDS:
            body[_RULE_FIELDS[key]] = _shorthand(key, value)
        else:
            raise TypeError(f"fault() got an unexpected keyword argument {key!r}")
    if match:
        body["match"] = match
    return body


def _shorthand(key: str, value: Any) -> Any:
    """``error="SYS.1006"``, ``http=502``, ``wire="reset"``, ``latency=0.5`` for the rule's objects."""
    if key == "error" and isinstance(value, str):
        return {"code": value}
    if key == "http" and isinstance(value, int):
        return {"status": value}
    if key == "latency" and isinstance(value, int | float):
        return {"fixed": value}
    return value


def _given(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` without the ones left out (None): what a call sends."""
    return {name: value for name, value in fields.items() if value is not None}


def _iso(moment: datetime | str | None) -> str | None:
    return moment.isoformat() if isinstance(moment, datetime) else moment


def _segment(text: str) -> str:
    """``text`` as one path segment, whatever it holds."""
    return quote(text, safe="")


def _error(response: httpx.Response, method: str, path: str) -> ControlError:
    try:
        error = response.json()["error"]
        code, message = error.get("code"), str(error.get("details") or error.get("description") or error)
    except (ValueError, KeyError, TypeError, AttributeError):
        code, message = None, response.text.strip()[:500] or response.reason_phrase
    return ControlError(response.status_code, code, message, method=method, path=path)
