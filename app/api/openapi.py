"""OpenAPI helpers: request bodies documented from models the handlers do not parse with.

Handlers read raw JSON so that ZStack's own validation order and messages apply; FastAPI therefore
cannot see the body models. ``json_body`` documents one, and ``build_openapi`` adds every model so
registered to ``components.schemas``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

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
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in defs.get("$defs", {}).items():
        schemas.setdefault(name, schema)
    app.openapi_schema = document
    return document
