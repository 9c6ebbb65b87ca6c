"""Which ZStack API a raw HTTP call is, and the resources it names, without running it.

The fault layer, the request journal and the sandbox sit in front of the routes and must name a
call before (or without) the app handling it: ``CreateRootVolumeTemplateFromVolumeBackup``,
``LogInByAccount``, ``QueryImage``... The names are the API message's simple class name without
``API`` and ``Msg``, the same on the REST and the RPC surfaces; the REST routes come from the API
catalogue. Everything that needs the body is computed lazily, so a caller that only wants the
operation of a REST call never decodes JSON.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import orjson

from ..zstack.wire import REST_PREFIX
from . import APIS, QUERY_API_JOB, QUERY_API_RESULT
from .model import Api


def rest_paths(path: str, by_uuid: bool) -> tuple[str, ...]:
    """The route templates of an API's REST path: itself, and ``{path}/{uuid}`` for a query by UUID."""
    return (path, f"{path}/{{uuid}}") if by_uuid else (path,)


def _pattern(template: str) -> re.Pattern[str]:
    """``/images/{uuid}`` -> a regex with a named group per variable; a trailing slash also matches."""
    parts = re.split(r"\{(\w+)\}", template)
    regex = "".join(f"(?P<{p}>[^/]+)" if i % 2 else re.escape(p) for i, p in enumerate(parts))
    return re.compile(f"^{REST_PREFIX}{regex}/?$")


def normalized_path(template: str) -> str:
    """A path template with its variables unnamed, as ``RestServer.normalizePath`` compares paths:
    ``/images/{uuid}/actions`` and ``/images/{imageUuid}/actions`` are one path."""
    return re.sub(r"\{\w+\}", "{}", template)


def shared_action_paths(apis: tuple[Api, ...]) -> dict[tuple[str, str], list[Api]]:
    """(method, normalized path) -> the actions (``Rest.action``) on it, in the catalogue's order."""
    shared: dict[tuple[str, str], list[Api]] = {}
    for api in apis:
        if api.rest is not None and api.rest.action:
            shared.setdefault((api.rest.method, normalized_path(api.rest.path)), []).append(api)
    return shared


#: (method, path pattern, API name, its action name if the body's key picks it), in the catalogue's order:
#: the first match wins. ``*``: any method.
_REST_ROUTES: tuple[tuple[str, re.Pattern[str], str, str | None], ...] = tuple(
    ("*" if api.rest.any_method else api.rest.method, _pattern(template), api.name,
     api.rest.action_name if api.rest.action else None)
    for api in APIS
    if api.rest is not None
    for template in rest_paths(api.rest.path, api.rest.by_uuid)
)
#: The APIs whose RPC call is stored as a job under the message's ``id``.
_ASYNCHRONOUS = frozenset(api.name for api in APIS if api.asynchronous)
_RPC_CALL = re.compile(r"^/zstack/api/?$")
_RPC_RESULT = re.compile(r"^/zstack/api/result/(?P<uuid>[^/]+)/?$")


@dataclass
class ZStackCall:
    """One request to the ZStack API as the fault layer and the journal see it."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes = b""
    protocol: Literal["rest", "rpc"] = field(init=False)
    #: The API's name, or None for a path no API serves (the app answers it a 404 or 405).
    operation: str | None = field(init=False)
    _path_vars: dict[str, str] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.protocol = "rpc" if self.path.startswith("/zstack/api") else "rest"
        self.operation = None
        if self.protocol == "rest":
            for method, pattern, operation, action in _REST_ROUTES:
                if method in ("*", self.method) and (match := pattern.match(self.path)):
                    if action is not None and not (isinstance(self._json, dict) and action in self._json):
                        continue
                    self.operation, self._path_vars = operation, match.groupdict()
                    return
        elif _RPC_RESULT.match(self.path):
            self.operation = QUERY_API_RESULT.name
        elif _RPC_CALL.match(self.path) and self.method in ("POST", "PUT"):
            self.operation = self._rpc_operation

    @cached_property
    def _json(self) -> Any:
        try:
            return orjson.loads(self.body) if self.body.strip() else None
        except orjson.JSONDecodeError:
            return None

    @cached_property
    def _rpc_message(self) -> tuple[str | None, Mapping[str, Any]]:
        body = self._json
        if not isinstance(body, dict) or not body:
            return None, {}
        message_class, message = next(iter(body.items()))
        return str(message_class), message if isinstance(message, dict) else {}

    @property
    def message_class(self) -> str | None:
        """The RPC message's Java class name; None on the REST API or for a body that names none."""
        return self._rpc_message[0] if self.protocol == "rpc" else None

    @property
    def _rpc_operation(self) -> str | None:
        message_class = self.message_class
        if message_class is None:
            return None
        simple = message_class.rsplit(".", 1)[-1]
        return simple.removeprefix("API").removesuffix("Msg") or None

    @cached_property
    def message(self) -> Mapping[str, Any]:
        """The API message's fields as sent: REST ``params`` (plus top-level tags), or the RPC message."""
        if self.protocol == "rpc":
            return self._rpc_message[1]
        body = self._json
        if not isinstance(body, dict):
            return {}
        wrapped = next((v for k, v in body.items() if k not in ("systemTags", "userTags")), None)
        return wrapped if isinstance(wrapped, dict) else {}

    @property
    def backup_uuid(self) -> str | None:
        return self._path_vars.get("backupUuid") or _text(self.message.get("backupUuid"))

    @property
    def backup_storage_uuid(self) -> str | None:
        return _text(self.message.get("backupStorageUuid"))

    @property
    def session_uuid(self) -> str | None:
        """The session the call is made with: the OAuth header, or the RPC message's ``session``."""
        if self.protocol == "rpc":
            session = self.message.get("session")
            return _text(session.get("uuid")) if isinstance(session, dict) else None
        authorization = self.headers.get("authorization", "")
        if authorization.startswith("OAuth"):
            return authorization[len("OAuth"):].strip() or None
        return None

    @property
    def path_vars(self) -> Mapping[str, str]:
        """The variables of a REST path (``{sessionUuid}``, ``{uuid}``...)."""
        return self._path_vars

    @property
    def job_uuid(self) -> str | None:
        """The job a poll asks about, or the one a call names for its job: REST's X-Job-UUID, the
        ``id`` of an asynchronous RPC message."""
        if self.operation in (QUERY_API_JOB.name, QUERY_API_RESULT.name):
            return self._path_vars.get("uuid") or _path_tail(self.path)
        if self.protocol == "rpc":
            return _text(self.message.get("id")) if self.operation in _ASYNCHRONOUS else None
        return self.headers.get("x-job-uuid")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _path_tail(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]
