"""GET / serves the console page and its two assets from the package; nothing else, nothing remote."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from fastapi.testclient import TestClient

from app.console.routes import ASSETS

_REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")
_URL_IN_CODE = re.compile(r"""(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}""", re.IGNORECASE)


def test_the_page_is_served_at_the_root_with_a_policy_that_keeps_it_local(client: TestClient) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "<title>zstack-mock console</title>" in response.text
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert client.head("/").status_code == 200


def test_every_asset_the_page_names_is_served_from_this_origin(client: TestClient) -> None:
    page = client.get("/").text
    references = _REFERENCE.findall(page)

    assert {"console-assets/console.js", "console-assets/console.css"} <= set(references)
    for url in references:
        if url.startswith("data:") or url.startswith("#"):
            continue
        assert urlsplit(url).scheme == "" and not url.startswith("/"), f"{url} is not relative to the page"
        assert client.get(urljoin("/", url)).status_code == 200, url
    for name, media_type in ASSETS.items():
        asset = client.get(f"/console-assets/{name}")
        assert asset.headers["content-type"] == media_type
        assert _URL_IN_CODE.findall(asset.text) == [], name
    assert _URL_IN_CODE.findall(page) == []


def test_only_the_console_files_are_served(client: TestClient) -> None:
    for path in ("/console-assets/routes.py", "/console-assets/__init__.py", "/console-assets/index.html",
                 "/console-assets/..%2Froutes.py", "/console-assets/"):
        assert client.get(path).status_code == 404, path


def test_the_page_is_not_part_of_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    committed = json.loads((Path(__file__).parents[2] / "openapi" / "openapi.json").read_text())["paths"]

    assert "/" not in paths and not any(p.startswith("/console-assets") for p in paths)
    assert paths.keys() == committed.keys()

