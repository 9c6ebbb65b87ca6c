"""Reading the request journal in tests, and stand-ins for the fault layer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from starlette.middleware import Middleware

from tests.helpers import Client

REQUESTS = "/_mock/requests"

Scope = dict[str, Any]
ASGI = Callable[..., Any]


def entries(client: Client, **filters: Any) -> list[dict[str, Any]]:
    """``GET /_mock/requests``, newest first."""
    response = client.get(REQUESTS, params=filters)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["requests"]
    return found


def newest(client: Client) -> dict[str, Any]:
    return entries(client, limit=1)[0]


def count(client: Client, **filters: Any) -> int:
    response = client.post(f"{REQUESTS}/count", json=filters)
    assert response.status_code == 200, response.text
    return int(response.json()["count"])


class MarkFault:
    """What the fault layer does for the journal: ``X-Test-Fault: rule:7`` is put in the scope state;
    ``X-Test-Answer: 502`` also answers that status with an HTML page instead of the app."""

    def __init__(self, app: ASGI) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: ASGI, send: ASGI) -> None:
        headers = dict(scope.get("headers", ()))
        fault = headers.get(b"x-test-fault")
        if fault is not None:
            scope.setdefault("state", {})["zstack_mock"] = {"operation": None, "fault": fault.decode()}
        answer = headers.get(b"x-test-answer")
        if answer is None:
            await self.app(scope, receive, send)
            return
        if answer == b"reset":  # a wire fault: headers sent, then the connection dropped
            await send({"type": "http.response.start", "status": 200, "headers": []})
            raise ConnectionResetError("injected")
        await send({"type": "http.response.start", "status": int(answer),
                    "headers": [(b"content-type", b"text/html")]})
        await send({"type": "http.response.body", "body": b"<html><body>502 Bad Gateway</body></html>"})


def with_fault_marker(app: FastAPI) -> FastAPI:
    """Put ``MarkFault`` inside the journal, where the fault layer sits (before the app first runs)."""
    app.user_middleware.append(Middleware(MarkFault))
    return app
