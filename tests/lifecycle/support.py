"""Calling the lifecycle APIs in tests: the image actions, deletes, and what a query shows afterwards."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers import Client, auth

IMAGES = "/zstack/v1/images"
ALICE_IMAGE = "7a0f0948e3b64af2949319456c4f74cd"


def act(client: Client, session: str, image: str, action: str, params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None) -> httpx.Response:
    """``PUT /images/{uuid}/actions`` with ``{action: params}``."""
    return client.put(f"{IMAGES}/{image}/actions", json={action: params or {}},
                      headers={**auth(session), **(headers or {})})


def delete(client: Client, session: str, image: str, headers: dict[str, str] | None = None,
           **query: Any) -> httpx.Response:
    return client.delete(f"{IMAGES}/{image}", params=query, headers={**auth(session), **(headers or {})})


def queried(client: Client, session: str, image: str) -> dict[str, Any] | None:
    """The image as ``GET /images/{uuid}`` shows it; None when the query finds nothing."""
    response = client.get(f"{IMAGES}/{image}", headers=auth(session))
    assert response.status_code == 200, response.text
    inventories: list[dict[str, Any]] = response.json()["inventories"]
    return inventories[0] if inventories else None


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
