"""What every control endpoint shares: its error answers and reading a typed JSON body."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError
from starlette.responses import Response

from app.api.deps import settings_of
from app.domain.state import Conflict, InvalidRequest, StateError, UnknownResource
from app.validation_errors import validation_problems
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


def conflict(details: str) -> ControlError:
    """409: the request is valid but the state forbids it (a name taken): SYS.1007, as ZStack says so."""
    return ControlError(409, INVALID_ARGUMENT, details)


@contextmanager
def state_errors() -> Iterator[None]:
    """Answer ``app.domain.state`` errors (and invalid fields) as 400, 404 or 409."""
    try:
        yield
    except ValidationError as exc:
        raise bad_request(f"invalid fields: {validation_problems(exc)}") from None
    except InvalidRequest as exc:
        raise bad_request(str(exc)) from None
    except UnknownResource as exc:
        raise not_found(str(exc)) from None
    except Conflict as exc:
        raise conflict(str(exc)) from None
    except StateError as exc:  # a kind added later: still the client's problem, never a 500
        raise bad_request(str(exc)) from None


async def read_model(request: Request, model: type[M]) -> M:
    """The JSON body as ``model``, whatever the Content-Type (``curl -d`` sends a form type)."""
    body = await read_object(request)
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise bad_request(f"invalid {model.__name__} body: {validation_problems(exc)}") from None


async def read_object(request: Request) -> dict[str, Any]:
    """The JSON object body, whatever the Content-Type; empty is ``{}``."""
    return await read_json_body(request, settings_of(request).max_body_bytes, check_content_type=False)
