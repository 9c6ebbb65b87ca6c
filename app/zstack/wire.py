"""ZStack's REST wire protocol: the Authorization header, request bodies, and every response form.

* Success: 200 and the API's reply fields as JSON (``{"inventory": ...}``).
* API failure: 503 and ``{"error": ErrorCode}``.
* REST-layer rejection: a 4xx status and a plain-text sentence, no JSON.

``install_error_handlers`` is the one handler: every ``AnsweredError`` a route raises is sent as its
``response()``, and FastAPI's own errors and any unexpected exception through the same forms, so no
client ever sees FastAPI's ``{"detail": ...}`` or a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from .errors import (
    INTERNAL_ERROR,
    INVALID_ARGUMENT,
    NOT_FOUND,
    AnsweredError,
    ErrorCode,
    TransportError,
    ZStackError,
    invalid_argument,
)
from .json_kinds import json_kind
from .params import message_object
from .responses import text_response

logger = logging.getLogger("zstack_mock")

API_PREFIX = "/zstack"
#: Where the REST API's paths (``@RestRequest``) live.
REST_PREFIX = "/zstack/v1"


def session_uuid_from_headers(authorization: str | None) -> str:
    """RestServer's Authorization check: ``OAuth <session uuid>``; anything else is a 400."""
    if authorization is None:
        raise TransportError(400, "missing header 'Authorization'")
    if authorization.startswith("OAuth"):
        return authorization[len("OAuth") :].strip()
    if authorization.startswith("ZStack"):
        credential = authorization[len("ZStack") :].strip()
        if len(credential.split(":")) != 2:
            raise TransportError(400, "accessKeyId format is 'ZStack AccessKeyId:Signature'")
        raise TransportError(
            400,
            "access-key authentication ('Authorization: ZStack AccessKeyId:Signature') is not emulated by "
            "zstack-mock; log in with PUT /zstack/v1/accounts/login and send 'Authorization: OAuth <session uuid>'",
        )
    raise TransportError(400, "Authorization type must be 'OAuth'")


async def read_json_body(request: Request, max_bytes: int) -> dict[str, Any]:
    """The request body as a JSON object; an empty body is ``{}``, as RestServer treats it."""
    content_type = request.headers.get("content-type")
    if content_type is not None and not _is_json(content_type):
        raise TransportError(
            400, f"unsupported Content-Type [{content_type}]: the request body must be application/json"
        )
    raw = await read_body(request, max_bytes)
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise TransportError(400, f"the request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise TransportError(400, f"the request body must be a JSON object, but it is a JSON {json_kind(body)}")
    return body


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The raw body; 413 plain text when it is, or says it is, longer than ``max_bytes``."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    return await _read_body(request, max_bytes)


async def _read_body(request: Request, max_bytes: int) -> bytes:
    """The body from the ASGI ``receive`` channel, stopping past ``max_bytes``.

    Straight from ``receive`` rather than ``Request.stream()``: a one-chunk body (nearly every
    request) then costs one await instead of an async generator's worth of machinery.
    """
    receive = request.receive
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media in ("application/json", "text/json") or media.endswith("+json")


def _too_large(max_bytes: int) -> TransportError:
    return TransportError(413, f"the request body exceeds the limit of {max_bytes} bytes")


def rest_message_fields(body: Mapping[str, Any], parameter_name: str, path_variables: Mapping[str, str]) -> dict[str, Any]:
    """The API message as RestServer builds it from a REST call.

    The body's ``parameter_name`` object (``params`` for most APIs), then the body's top-level
    ``systemTags`` and ``userTags``, then the URL's variables, which win over body values.
    """
    fields = dict(message_object(parameter_name, body.get(parameter_name)))
    for key in ("systemTags", "userTags"):
        if body.get(key) is not None:
            fields[key] = body[key]
    fields.update(path_variables)
    return fields


def install_error_handlers(app: FastAPI, *, json_errors_for: Callable[[str], bool] | None = None) -> None:
    """``json_errors_for``: which paths (the control API's) answer every error, the REST layer's
    plain-text ones too (404, 405, 413, a bad body), as ``{"error": ErrorCode}`` with its status."""

    def in_json_area(request: Request) -> bool:
        return json_errors_for is not None and json_errors_for(request.url.path)

    def as_json(status_code: int, code: str, details: str, headers: Mapping[str, str] | None = None) -> Response:
        return ZStackError(ErrorCode(code=code, details=details), status_code=status_code, headers=headers).response()

    async def on_answered_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AnsweredError)
        if isinstance(exc, TransportError) and in_json_area(request):
            return as_json(exc.status_code, INVALID_ARGUMENT, exc.text)
        return exc.response()

    async def on_client_disconnect(request: Request, exc: Exception) -> Response:
        # The client is gone (or its body could not be read): nobody reads this answer, and nothing broke.
        return Response(status_code=400)

    async def on_request_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return invalid_argument(problems).response()

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        path = request.url.path
        if in_json_area(request):
            if exc.status_code == 404:
                return as_json(404, NOT_FOUND, f"no control call at {path}")
            if exc.status_code == 405:
                return as_json(405, INVALID_ARGUMENT, f"{path} does not take {request.method}",
                               headers=dict(exc.headers or {}))
            return as_json(exc.status_code, INVALID_ARGUMENT, str(exc.detail))
        if exc.status_code == 404:
            return text_response(404, f"no api mapping to {path.removeprefix(API_PREFIX)}")
        if exc.status_code == 405:
            return text_response(405, f"The method[{request.method}] is not allowed for the path[{path}]")
        return text_response(exc.status_code, str(exc.detail))

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        logger.exception("unexpected error while serving %s %s", request.method, request.url.path)
        return ZStackError(
            ErrorCode(
                code=INTERNAL_ERROR,
                details=f"zstack-mock hit an unexpected {type(exc).__name__} while serving "
                f"{request.method} {request.url.path}; this is a bug in the simulator, not in your request",
            )
        ).response()

    app.add_exception_handler(AnsweredError, on_answered_error)
    app.add_exception_handler(ClientDisconnect, on_client_disconnect)
    app.add_exception_handler(RequestValidationError, on_request_validation)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)
