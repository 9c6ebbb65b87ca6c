"""The three kinds of body zstack-mock sends: JSON, plain text, and the servlet container's HTML error page."""

from __future__ import annotations

import html
from typing import Any

import orjson
from starlette.responses import Response

JSON_MEDIA_TYPE = "application/json; charset=utf-8"
TEXT_MEDIA_TYPE = "text/plain; charset=utf-8"
HTML_MEDIA_TYPE = "text/html; charset=utf-8"

_REASONS = {404: "Not Found", 405: "Method Not Allowed", 500: "Internal Server Error"}


def json_response(body: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status_code, media_type=JSON_MEDIA_TYPE)


def text_response(status_code: int, text: str) -> Response:
    return Response(text, status_code=status_code, media_type=TEXT_MEDIA_TYPE)


def html_error_page(status_code: int, message: str) -> Response:
    """The servlet container's error page (``sendError``), short and with the message in it."""
    title = f"HTTP Status {status_code} - {_REASONS.get(status_code, 'Error')}"
    page = (
        f"<!doctype html><html lang=\"en\"><head><title>{title}</title></head><body>"
        f"<h1>{title}</h1><p><b>Message</b> {html.escape(message)}</p><hr/><p>zstack-mock</p></body></html>"
    )
    return Response(page, status_code=status_code, media_type=HTML_MEDIA_TYPE)
