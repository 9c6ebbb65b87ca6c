"""The REST side of asynchronous APIs: choosing async, the job headers, the 202, polls and webhooks.

* ``X-Job-UUID``: the job's UUID, 32 characters (RestServer checks only the length).
* ``X-API-Timeout``: the job's timeout in **seconds**, as RestServer parses it; the 202 reports it
  in milliseconds as ``apiTimeout``.
* ``X-Web-Hook``: where the result is POSTed when the job ends; it also makes the call async, as
  ``X-Job-UUID`` does (ZStack's SDKs send one or the other with every call).
* ``X-JSON-Schema``: present on a poll (or, for a webhook, on the original call), results carry the
  ``schema`` map.
* ``Prefer: respond-async`` / ``respond-sync`` (RFC 7240) choose per call; the server's mode otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import Response

from ..outbound.targets import AllowList, RefusedTarget
from .errors import INVALID_ARGUMENT, ErrorCode, TransportError, ZStackError
from .inventories import InventoryView, reply_schema
from .responses import JSON_MEDIA_TYPE, api_response

JOB_UUID_HEADER = "X-Job-UUID"
API_TIMEOUT_HEADER = "X-API-Timeout"
WEBHOOK_HEADER = "X-Web-Hook"
JSON_SCHEMA_HEADER = "X-JSON-Schema"
JOB_SUCCESS_HEADER = "X-Job-Success"
JOBS_PATH = "/zstack/v1/api-jobs"

#: The largest X-API-Timeout accepted, in seconds (a year): beyond it the deadline means nothing.
_MAX_API_TIMEOUT_SECONDS = 365 * 24 * 3600


def wants_async(headers: Headers, server_mode: str) -> bool:
    """Whether a call of an asynchronous API is answered as a real node answers it (202 and a job).

    ``X-Job-UUID`` and ``X-Web-Hook``, which ZStack's SDKs send, always mean async; else ``Prefer``
    decides; else the server's mode (``sync`` by default, for curl and the docs' Try It Out).
    """
    if WEBHOOK_HEADER in headers or JOB_UUID_HEADER in headers:
        return True
    for prefer in headers.getlist("prefer"):
        for token in prefer.split(","):
            name = token.split(";", 1)[0].strip().lower()
            if name == "respond-async":
                return True
            if name == "respond-sync":
                return False
    return server_mode == "async"


def job_uuid_from_headers(headers: Headers) -> str | None:
    value = headers.get(JOB_UUID_HEADER)
    if value is None:
        return None
    if len(value) != 32:
        raise TransportError(400, f"Invalid header[{JOB_UUID_HEADER}], it must be a UUID with '-' stripped")
    return value


def api_timeout_ms_from_headers(headers: Headers, default_ms: int) -> int:
    value = headers.get(API_TIMEOUT_HEADER)
    if value is None:
        return default_ms
    try:
        seconds = int(value.strip())
    except ValueError:
        raise TransportError(
            400, f"Invalid header[{API_TIMEOUT_HEADER}], the timeout must be a whole number of seconds, got [{value}]"
        ) from None
    if not 0 < seconds <= _MAX_API_TIMEOUT_SECONDS:
        raise TransportError(
            400, f"Invalid header[{API_TIMEOUT_HEADER}], the timeout must be between 1 and "
            f"{_MAX_API_TIMEOUT_SECONDS} seconds, got [{value}]"
        )
    return seconds * 1000


def webhook_url_from_headers(headers: Headers, allow: AllowList | None = None) -> str | None:
    """``X-Web-Hook``: a malformed URL is RestServer's 400; with an ``allow`` list (the public profile)
    a URL it refuses is SYS.1007, as ZStack answers an invalid argument (503, so that the SDKs read
    the ErrorCode), and no job is made."""
    value = headers.get(WEBHOOK_HEADER)
    if value is None:
        return None
    url = value.strip()
    try:
        parts = urlsplit(url)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
        _ = parts.port  # raises on a port that is not a number or out of range
    except ValueError:
        valid = False
    if not valid:
        raise TransportError(
            400, f"Invalid header[{WEBHOOK_HEADER}], it must be an http:// or https:// URL, got [{value}]"
        )
    if allow is not None:
        try:
            allow.check_url(url)
        except RefusedTarget as exc:
            raise ZStackError(ErrorCode(INVALID_ARGUMENT, f"Invalid header[{WEBHOOK_HEADER}]: {exc}")) from None
    return url


def job_location(base_url: str, job_uuid: str) -> str:
    """Always contains ``/zstack/v1/api-jobs``: the Java and Go SDKs rebuild the URL from it."""
    return f"{base_url.rstrip('/')}{JOBS_PATH}/{job_uuid}"


def accepted_response(location: str, api_timeout_ms: int) -> Response:
    response = api_response({"location": location, "apiTimeout": api_timeout_ms}, status_code=202)
    response.headers["Location"] = location
    return response


def running_response() -> Response:
    return api_response({}, status_code=202)


def result_body(
    success: bool, payload: Mapping[str, Any], *, schema: Mapping[str, InventoryView] | None
) -> tuple[int, dict[str, Any]]:
    """A finished job's answer: 200 and the reply's fields (with the ``schema`` map over ``schema``'s
    inventory fields, if asked for), or 503 and ``{"error": ...}``."""
    if not success:
        return 503, {"error": dict(payload)}
    body = dict(payload)
    if schema is not None:
        body["schema"] = reply_schema(body, schema)
    return 200, body


def webhook_headers(job_uuid: str, success: bool) -> dict[str, str]:
    return {
        JOB_UUID_HEADER: job_uuid,
        JOB_SUCCESS_HEADER: "true" if success else "false",
        "Content-Type": JSON_MEDIA_TYPE,
    }
