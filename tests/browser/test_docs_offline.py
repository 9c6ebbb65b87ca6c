"""/docs and /redoc work offline: every script, style sheet and icon they load is served by the app."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

_ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*['"]([^'"]+)['"]|spec-url=["']([^"']+)["']""")


def referenced_urls(html: str) -> list[str]:
    return [next(group for group in match.groups() if group) for match in _ASSET.finditer(html)]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_page_loads_nothing_from_another_host(client: TestClient, page: str) -> None:
    response = client.get(page)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    urls = referenced_urls(response.text)
    assert any(url.endswith(".js") for url in urls), urls
    assert "/openapi.json" in urls
    for url in urls:
        assert url.startswith("/"), f"{page} loads {url} from elsewhere"
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert asset.content, url
    assert "googleapis" not in response.text and "cdn." not in response.text
