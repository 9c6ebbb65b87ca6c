"""``/redoc`` with nothing from another host: ReDoc's script as ``fastapi_offline`` ships it, but for its
"API docs by Redocly" badge, whose logo the script fetches from Redocly's CDN."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html
from starlette.responses import HTMLResponse, Response

REDOC_PATH = "/redoc"
SCRIPT_PATH = "/docs-offline/redoc.standalone.js"
_CDN_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
#: An empty image in place of the CDN's logo.
_NO_LOGO = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E"

router = APIRouter(include_in_schema=False)


@cache
def _script() -> bytes:
    text = files("fastapi_offline").joinpath("static", "redoc.standalone.js").read_text(encoding="utf-8")
    return text.replace(_CDN_LOGO, _NO_LOGO).encode()


@router.get(REDOC_PATH)
async def redoc_page(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    return get_redoc_html(
        openapi_url=f"{root}{request.app.openapi_url}",
        title=f"{request.app.title} - ReDoc",
        redoc_js_url=f"{root}{SCRIPT_PATH}",
        with_google_fonts=False,
        redoc_favicon_url=f"{root}/docs-assets/favicon.png",
    )


@router.get(SCRIPT_PATH)
async def redoc_script() -> Response:
    return Response(_script(), media_type="text/javascript; charset=utf-8", headers={"Cache-Control": "max-age=3600"})
