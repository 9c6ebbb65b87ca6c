"""The kinds of body zstack-mock sends: JSON (the control API's, and the ZStack API's as its Java server
writes it), plain text, and the servlet container's HTML error page."""

from __future__ import annotations

import html
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import orjson
from starlette.responses import Response

JSON_MEDIA_TYPE = "application/json; charset=utf-8"
TEXT_MEDIA_TYPE = "text/plain; charset=utf-8"
HTML_MEDIA_TYPE = "text/html; charset=utf-8"

_REASONS = {404: "Not Found", 405: "Method Not Allowed", 500: "Internal Server Error"}

#: What ZStack's Gson (HTML escaping on, its default) writes as ``\uXXXX``.
_GSON_HTML_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "=": "\\u003d",
    "'": "\\u0027",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
#: The same in UTF-8, as orjson writes them (none is part of another character's encoding, nor of an escape).
_GSON_BYTE_ESCAPES = tuple((raw.encode(), escaped.encode()) for raw, escaped in _GSON_HTML_ESCAPES.items())


def json_response(body: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status_code, media_type=JSON_MEDIA_TYPE)


def gson_json(value: Any) -> bytes:
    """JSON as ZStack's Gson writes it: compact, with ``< > & = '`` (and U+2028/9) as ``\\uXXXX``.

    Those characters cannot occur in JSON outside strings, so replacing them in the whole text
    escapes exactly the ones inside strings. A page of 50 images is 50 KB: a byte search per
    character (memchr) costs a few microseconds where one regular expression over it cost a hundred.
    """
    data = orjson.dumps(value)
    for raw, escaped in _GSON_BYTE_ESCAPES:
        if raw in data:
            data = data.replace(raw, escaped)
    return data


def api_json(body: Mapping[str, Any]) -> bytes:
    """A REST answer of the ZStack API as ``RestServer`` writes its ``ApiResponse``: a ``java.util.HashMap``,
    so its keys come in that map's iteration order (``schema, total, inventories``; ``apiTimeout,
    location``), written by Gson with its HTML escaping. Polls and webhooks carry the same body."""
    return gson_json({key: body[key] for key in java_hashmap_order(tuple(body))})


def api_response(body: Mapping[str, Any], status_code: int = 200) -> Response:
    return Response(api_json(body), status_code=status_code, media_type=JSON_MEDIA_TYPE)


@lru_cache(maxsize=256)
def java_hashmap_order(keys: tuple[str, ...]) -> tuple[str, ...]:
    """The order a ``java.util.HashMap`` holding ``keys`` (put in this order) iterates them: by bucket,
    ``(hash ^ hash >>> 16) & (capacity - 1)`` of ``String.hashCode``, then by insertion."""
    capacity = 16
    while len(keys) > capacity * 0.75:
        capacity *= 2

    def bucket(key: str) -> int:
        code = 0
        for char in key:
            code = (31 * code + ord(char)) & 0xFFFFFFFF
        return (code ^ (code >> 16)) & (capacity - 1)

    return tuple(sorted(keys, key=lambda key: (bucket(key), keys.index(key))))


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
