"""The committed OpenAPI document, generated from the application."""

from __future__ import annotations

import json

from .main import create_app
from .settings import Settings


def openapi_text() -> str:
    """The document as committed in openapi/openapi.json: stable key order, trailing newline."""
    app = create_app(Settings(database_url="sqlite://"))
    try:
        return json.dumps(app.openapi(), indent=2, ensure_ascii=False) + "\n"
    finally:
        app.state.server.close()
