"""What every control endpoint shares: reading a JSON body, typed or not, whatever its Content-Type, and
the errors the OpenAPI document lists for it."""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from fastapi import Request
from pydantic import BaseModel, ValidationError

from app.api.deps import server_of
from app.catalogue.docs import BODY_TOO_LARGE
from app.validation_errors import validation_problems
from app.zstack.errors import bad_request
from app.zstack.json_kinds import json_kind
from app.zstack.schemas import ErrorReply
from app.zstack.wire import read_body

M = TypeVar("M", bound=BaseModel)


async def read_model(request: Request, model: type[M]) -> M:
    """The JSON body as ``model``, whatever the Content-Type (``curl -d`` sends a form type); 400 if it is not."""
    body = await read_object(request)
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise bad_request(f"invalid {model.__name__} body: {validation_problems(exc)}") from None


async def read_object(request: Request) -> dict[str, Any]:
    """The JSON object body, whatever the Content-Type; empty is ``{}``; 400 ``{"error": ...}`` otherwise."""
    raw = await read_body(request, server_of(request).settings.max_body_bytes)
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"the body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise bad_request(f"the body must be a JSON object, but it is a JSON {json_kind(body)}")
    return body


_ERRORS = {
    400: "Invalid input: a field, a query parameter, or a body that is not a JSON object (SYS.1007).",
    403: "Not allowed in the public profile (--sandbox, --public-profile) (ID.1002).",
    404: "What the call names does not exist (SYS.1003).",
    409: "The state forbids it, e.g. a name that is taken (SYS.1007).",
}


def errors(*statuses: int, body: bool = False) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of a control call's errors: ``{"error": ErrorCode}`` with each of
    ``statuses``; a call that reads a ``body`` can also answer 400 and a plain-text 413."""
    codes = sorted({*statuses, *((400,) if body else ())})
    responses: dict[int | str, dict[str, Any]] = {code: {"model": ErrorReply, "description": _ERRORS[code]} for code in codes}
    if body:
        responses.update(BODY_TOO_LARGE)
    return responses
