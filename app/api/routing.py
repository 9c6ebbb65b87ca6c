"""``ZStackRoute``: documented by FastAPI, served without FastAPI's per-request parameter solving.

ZStack's endpoints cannot use FastAPI's request parsing: the real server validates in its own
order with its own messages, so handlers read the raw body themselves (``app.zstack.wire``). What
is left of FastAPI's handler, the dependency solver, costs about 30 µs a request, a sixth of a
login. This route class keeps the declaration (path, parameters, responses, OpenAPI) and calls the
endpoint directly with the request and the path parameters, which are plain strings.

Endpoints on a ``ZStackRoute`` take ``request: Request`` plus their path parameters, and return a
``Response``; they cannot use ``Depends``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute
from starlette.responses import Response


class ZStackRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint: Callable[..., Coroutine[Any, Any, Response]] = self.endpoint

        async def handler(request: Request) -> Response:
            return await endpoint(request, **request.path_params)

        return handler
