"""GET ``/`` and ``/console-assets/{name}``: the console's package files, as they are.

Left out of the OpenAPI document: the page is not part of the emulated API. A Content-Security-Policy
keeps every script, style sheet and image on this origin, so the page works with no internet access;
its requests (``connect-src``) may go anywhere, since a job's location follows ``--public-url``. The
page names everything relative to its own URL, so it also works behind a proxy that adds a path prefix.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from fastapi import APIRouter
from starlette.responses import PlainTextResponse, Response

ASSETS_PATH = "/console-assets"
#: The files the page loads, and their media types; nothing else in the package is served.
ASSETS = {
    "console.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
}
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; connect-src *; img-src 'self' data:; base-uri 'none'; form-action 'none'"
)
HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
}

router = APIRouter(include_in_schema=False)


@cache
def _read(name: str) -> bytes:
    return files(__package__).joinpath(name).read_bytes()


@router.api_route("/", methods=["GET", "HEAD"])
async def console_page() -> Response:
    return Response(_read("index.html"), media_type="text/html; charset=utf-8", headers=HEADERS)


@router.api_route(ASSETS_PATH + "/{name}", methods=["GET", "HEAD"])
async def console_asset(name: str) -> Response:
    media_type = ASSETS.get(name)
    if media_type is None:
        return PlainTextResponse(f"no console asset named {name[:64]}", status_code=404)
    return Response(_read(name), media_type=media_type, headers=HEADERS)
