"""What every control endpoint shares: reading a JSON body, typed or not, whatever its Content-Type."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from app.api.deps import server_of
from app.validation_errors import validation_problems
from app.zstack.errors import bad_request
from app.zstack.wire import read_json_body

M = TypeVar("M", bound=BaseModel)


async def read_model(request: Request, model: type[M]) -> M:
    """The JSON body as ``model``, whatever the Content-Type (``curl -d`` sends a form type); 400 if it is not."""
    body = await read_object(request)
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise bad_request(f"invalid {model.__name__} body: {validation_problems(exc)}") from None


async def read_object(request: Request) -> dict[str, Any]:
    """The JSON object body, whatever the Content-Type; empty is ``{}``."""
    return await read_json_body(request, server_of(request).settings.max_body_bytes, check_content_type=False)
