"""A client that behaves as ZStack's Java SDK does (``sdk/src/main/java/org/zstack/sdk/ZSClient.java``,
``ApiResult.java``, the ``*Action.java`` classes), written anew in Python for the tests.

What it copies, because a mock that a real client cannot tell from a node must get these right:

* every call sends ``X-Job-UUID`` (a fresh UUID) and ``X-JSON-Schema: true``; a non-query call puts
  its parameters in the body under the action's ``parameterName`` (GET and DELETE in the query
  string), a query call builds ``q=``, ``limit``... in the query string;
* an answer that is not 2xx is an ``sdk.1000`` error, "the http status code[N] indicates a failure
  happened", whatever its body (a 503 is parsed only when a poll answers it);
* 200 or 204 is the result; 202 means: poll the ``location`` (its host and port replaced by the
  configured ones, as the SDK does) until 200 or 503, or wait for the webhook when one is configured;
* the callback form (``call_async``) completes only from the poll or the webhook;
* ``ApiResult.get_result`` types the reply as ``getResult`` does: it applies the ``schema`` map in
  its order, rebuilding each listed object from the raw reply. A parent listed after its children
  is rebuilt over them with raw children: ``untyped()`` finds what stayed untyped, which in Java is a
  ``ClassCastException`` waiting for user code.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid as uuid_module
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

HTTP_ERROR = "sdk.1000"
POLLING_TIMEOUT_ERROR = "sdk.1001"

#: SourceClassMap: the server's classes and the SDK classes the schema map turns them into.
SDK_CLASSES = {
    f"{package}.{name}": f"org.zstack.sdk.{name}"
    for package, name in (
        ("org.zstack.header.image", "ImageInventory"),
        ("org.zstack.header.image", "ImageBackupStorageRefInventory"),
        ("org.zstack.header.storage.volume.backup", "VolumeBackupInventory"),
        ("org.zstack.header.storage.volume.backup", "VolumeBackupStorageRefInventory"),
        ("org.zstack.storage.backup.imagestore", "ImageStoreBackupStorageInventory"),
        ("org.zstack.header.storage.backup", "BackupStorageInventory"),
        ("org.zstack.header.identity", "SessionInventory"),
        ("org.zstack.header.tag", "TagPatternInventory"),
    )
}


@dataclass
class Typed:
    """An object Gson built as an SDK class; ``fields`` as they came (children raw until typed)."""

    sdk_class: str
    fields: dict[str, Any]


@dataclass
class Action:
    """An SDK action: its RestInfo (method, path, parameterName, needSession, needPoll) and parameters."""

    method: str
    path: str
    parameters: dict[str, Any] = field(default_factory=dict)
    parameter_name: str = "params"
    session: str | None = None
    need_session: bool = True
    need_poll: bool = False
    query: bool = False
    system_tags: list[str] | None = None
    api_timeout_seconds: int | None = None


@dataclass
class ApiResult:
    error: dict[str, Any] | None = None
    result: str | None = None

    def get_result(self) -> Any:
        """``ApiResult.getResult``: the reply, with every object the schema map names typed, in its order."""
        assert self.result is not None
        raw = json.loads(self.result)
        ret = json.loads(self.result)
        for path, source_class in raw.get("schema", {}).items():
            sdk_class = SDK_CLASSES.get(source_class)
            if sdk_class is None:
                continue
            bean = _get(ret, path)
            if isinstance(bean, Typed) and bean.sdk_class == sdk_class:
                continue
            _set(ret, path, Typed(sdk_class, json.loads(json.dumps(_get(raw, path)))))
        return ret


def untyped(value: Any, path: str = "") -> list[str]:
    """The paths of the ZStack objects (a dict with a ``uuid`` or an ``id``) that are still raw maps."""
    found: list[str] = []
    if isinstance(value, Typed):
        for name, child in value.fields.items():
            found += untyped(child, f"{path}.{name}" if path else name)
    elif isinstance(value, dict):
        if path and ("uuid" in value or "id" in value):
            found.append(path)
        for name, child in value.items():
            if name != "schema":
                found += untyped(child, f"{path}.{name}" if path else name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += untyped(item, f"{path}[{index}]")
    return found


_STEP = re.compile(r"(?P<name>[^.\[]+)(?:\[(?P<index>\d+)])?")


def _steps(path: str) -> list[tuple[str, int | None]]:
    return [(m["name"], None if m["index"] is None else int(m["index"])) for m in _STEP.finditer(path)]


def _child(bean: Any, name: str, index: int | None) -> Any:
    value = bean.fields[name] if isinstance(bean, Typed) else bean[name]
    return value if index is None else value[index]


def _get(bean: Any, path: str) -> Any:
    for name, index in _steps(path):
        bean = _child(bean, name, index)
    return bean


def _set(bean: Any, path: str, value: Any) -> None:
    *parents, (name, index) = _steps(path)
    for parent_name, parent_index in parents:
        bean = _child(bean, parent_name, parent_index)
    holder = bean.fields if isinstance(bean, Typed) else bean
    if index is None:
        holder[name] = value
    else:
        holder[name][index] = value


class ZSClient:
    def __init__(self, url: str, *, webhook: str | None = None, polling_interval: float = 0.02,
                 polling_timeout: float = 15.0) -> None:
        self.url = url.rstrip("/")
        self.host_port = self.url.split("://", 1)[1]
        self.webhook = webhook
        self.polling_interval = polling_interval
        self.polling_timeout = polling_timeout
        self.last_job_uuid: str | None = None
        self._http = httpx.Client(timeout=10)
        self._waiting: dict[str, Callable[[ApiResult], None]] = {}

    def close(self) -> None:
        self._http.close()

    # -- the two forms of a call -------------------------------------------------------------------

    def call(self, action: Action, job_uuid: str | None = None) -> ApiResult:
        outcome: list[ApiResult] = []
        done = threading.Event()
        self._call(action, job_uuid, lambda result: (outcome.append(result), done.set()), sync=True)
        if not done.wait(self.polling_timeout):
            return ApiResult(error={"code": POLLING_TIMEOUT_ERROR, "description": "timeout of polling webhook result"})
        return outcome[0]

    def call_async(self, action: Action, completion: Callable[[ApiResult], None]) -> None:
        """``ZSClient.call(action, completion)``: completes from the poll or the webhook, never from the 202."""
        self._call(action, None, completion, sync=False)

    def webhook_received(self, job_uuid: str, body: bytes) -> None:
        """What the SDK's webhook servlet does with a POST: parse it as the poll's answer would be."""
        completion = self._waiting.pop(job_uuid, None)
        if completion is not None:
            document = json.loads(body)
            error = document.get("error") if isinstance(document, dict) else None
            completion(ApiResult(error=error) if error else ApiResult(result=body.decode()))

    # -- what ZSClient.Api.doCall does -------------------------------------------------------------

    def _call(self, action: Action, job_uuid: str | None, completion: Callable[[ApiResult], None], *, sync: bool) -> None:
        job_uuid = job_uuid or uuid_module.uuid4().hex
        self.last_job_uuid = job_uuid
        headers = {"X-Job-UUID": job_uuid, "X-JSON-Schema": "true"}
        if action.api_timeout_seconds is not None:
            headers["X-API-Timeout"] = str(action.api_timeout_seconds)
        if self.webhook is not None:
            headers["X-Web-Hook"] = self.webhook
        if action.need_session:
            headers["Authorization"] = f"OAuth {action.session}"
        request = self._request(action, headers)
        if self.webhook is not None:
            self._waiting[job_uuid] = completion
        response = self._http.send(request)
        if not 200 <= response.status_code < 300:
            self._waiting.pop(job_uuid, None)
            completion(_http_error(response))
        elif response.status_code in (200, 204):
            self._waiting.pop(job_uuid, None)
            completion(ApiResult(result=response.text))
        elif self.webhook is None:
            assert action.need_poll, "a 202 for an API the SDK does not poll"
            location = response.json()["location"]
            if self.host_port not in location:
                location = f"http://{self.host_port}/zstack/v1/api-jobs{location.split('/zstack/v1/api-jobs')[1]}"
            if sync:
                completion(self._poll(action, location))
            else:
                threading.Thread(target=lambda: completion(self._poll(action, location)), daemon=True).start()

    def _request(self, action: Action, headers: dict[str, str]) -> httpx.Request:
        path = re.sub(r"\{(\w+)\}", lambda m: str(action.parameters[m.group(1)]), action.path)
        variables = set(re.findall(r"\{(\w+)\}", action.path))
        params = {k: v for k, v in action.parameters.items() if k not in variables and v is not None}
        url = f"{self.url}/zstack/v1{path}"
        if action.query or action.method in ("GET", "DELETE"):
            return self._http.build_request(action.method, url, params=params, headers=headers)
        body: dict[str, Any] = {action.parameter_name: params}
        if action.system_tags is not None:
            body["systemTags"] = action.system_tags
        return self._http.build_request(action.method, url, json=body, headers={**headers})

    def _poll(self, action: Action, location: str) -> ApiResult:
        deadline = time.monotonic() + self.polling_timeout
        headers = {"Authorization": f"OAuth {action.session}", "X-JSON-Schema": "true"}
        while time.monotonic() < deadline:
            response = self._http.get(location, headers=headers)
            if response.status_code not in (200, 503, 202):
                return _http_error(response)
            if response.status_code == 200:
                return ApiResult(result=response.text)
            if response.status_code == 503:
                return ApiResult(error=response.json()["error"])
            time.sleep(self.polling_interval)
        return ApiResult(error={"code": POLLING_TIMEOUT_ERROR, "description": "timeout of sync polling API result"})


def _http_error(response: httpx.Response) -> ApiResult:
    return ApiResult(error={
        "code": HTTP_ERROR,
        "description": f"the http status code[{response.status_code}] indicates a failure happened",
        "details": response.text,
    })
