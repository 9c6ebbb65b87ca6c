"""What every control endpoint shares: its error answers and reading a typed JSON body."""

from __future__ import annotations

from typing import TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError
from starlette.responses import Response

from app.api.deps import settings_of
from app.zstack.errors import INVALID_ARGUMENT, NOT_FOUND, ErrorCode
from app.zstack.wire import json_response, read_json_body

M = TypeVar("M", bound=BaseModel)


class ControlError(Exception):
    """A control call that cannot be done: answered with ``status`` and ``{"error": ErrorCode}``."""

    def __init__(self, status_code: int, code: str, details: str) -> None:
        super().__init__(details)
        self.status_code = status_code
        self.error = ErrorCode(code=code, details=details)

    def response(self) -> Response:
        return json_response({"error": self.error.to_json()}, status_code=self.status_code)


def not_found(details: str) -> ControlError:
    return ControlError(404, NOT_FOUND, details)


def bad_request(details: str) -> ControlError:
    return ControlError(400, INVALID_ARGUMENT, details)


async def read_model(request: Request, model: type[M]) -> M:
    """The JSON body as ``model``, whatever the Content-Type (``curl -d`` sends a form type)."""
    body = await read_json_body(request, settings_of(request).max_body_bytes, check_content_type=False)
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'body'}: {error['msg']}" for error in exc.errors()
        )
        raise bad_request(f"invalid {model.__name__} body: {problems}") from None
