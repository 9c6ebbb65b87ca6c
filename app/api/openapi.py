"""The OpenAPI document: FastAPI's, plus what FastAPI cannot see.

Handlers read raw JSON so that ZStack's own validation order and messages apply; FastAPI therefore
cannot see the body models. ``json_body`` documents one, and ``build_openapi`` adds every model so
registered to ``components.schemas``. ``build_openapi`` also declares how calls authenticate (the
ZStack session, the control API's admin token) and drops the 422 answers FastAPI lists for path and
query parameters: routes here never have FastAPI validate them, so no 422 is ever sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from ..admin_token import OPEN_CALLS, is_control_path
from ..faults.engine import SCENARIO_HEADER

_BODY_MODELS: list[type[BaseModel]] = []
_REF = "#/components/schemas/{model}"


def json_body(model: type[BaseModel], examples: Mapping[str, Any]) -> dict[str, Any]:
    """``openapi_extra`` for a route whose JSON body has the shape of ``model``."""
    if model not in _BODY_MODELS:
        _BODY_MODELS.append(model)
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": _REF.format(model=model.__name__)},
                    "examples": dict(examples),
                }
            },
        }
    }


def build_openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    _, defs = models_json_schema([(m, "validation") for m in _BODY_MODELS], ref_template=_REF)
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name, schema in defs.get("$defs", {}).items():
        schemas.setdefault(name, schema)
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    components["securitySchemes"] = SECURITY_SCHEMES
    document["servers"] = [{"url": "/", "description": "This server"}]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            operation["responses"].pop("422", None)
            if path.startswith("/zstack/"):
                operation.setdefault("parameters", []).append(SCENARIO_PARAMETER)
                operation["responses"].setdefault("400", SCENARIO_REFUSED)
            if is_control_path(path) and (method.upper(), path) not in OPEN_CALLS:
                operation["security"] = [{"AdminToken": []}, {}]
                operation["responses"]["401"] = ADMIN_TOKEN_REFUSED
    app.openapi_schema = document
    return document


SECURITY_SCHEMES: dict[str, Any] = {
    "ZStackSession": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "A ZStack session: `OAuth <session uuid>`, from `PUT /zstack/v1/accounts/login` "
        "(admin / SHA-512 of `password`). Paste the whole value, `OAuth ` included.",
    },
    "AdminToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "The control API's token, needed only when the server has one "
        "(`ZSTACK_MOCK_ADMIN_TOKEN`).",
    },
}
#: The fault layer reads this header on every call of the ZStack API (``app.faults``).
SCENARIO_PARAMETER: dict[str, Any] = {
    "name": SCENARIO_HEADER,
    "in": "header",
    "required": False,
    "description": "zstack-mock's own: a scenario to apply to this call (GET /_mock/scenarios lists them), or an "
    'inline effect such as {"error": {"code": "SYS.1000"}}. An unknown one is a plain-text 400.',
    "schema": {"type": "string"},
}
SCENARIO_REFUSED: dict[str, Any] = {
    "description": "A scenario header that names no scenario (plain text).",
    "content": {"text/plain": {"schema": {"type": "string"}}},
}
ADMIN_TOKEN_REFUSED: dict[str, Any] = {
    "description": "The server has an admin token and the call does not carry it (ID.1000).",
    "content": {"application/json": {"schema": {"$ref": _REF.format(model="ErrorReply")}}},
}
