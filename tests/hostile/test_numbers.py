"""Numbers in query strings are ASCII digits: a character Python calls a digit ('²', '٣') is a
clear 400, never the unexpected-error 503 it once was (``'²'.isdigit()`` is true, ``int('²')``
raises)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.conftest import LiveServer
from tests.helpers import auth, login


@pytest.mark.parametrize("path", ["/_mock/requests?limit=²", "/_mock/jobs?limit=٣", "/_mock/requests?status=²"])
def test_a_control_listing_refuses_a_digit_that_is_not_ascii(
    live_server: Callable[..., LiveServer], path: str
) -> None:
    server = live_server()
    with httpx.Client(base_url=server.url) as http:
        answer = http.get(path)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "SYS.1007"


def test_a_query_date_condition_refuses_a_digit_that_is_not_ascii(live_server: Callable[..., LiveServer]) -> None:
    server = live_server()
    with httpx.Client(base_url=server.url) as http:
        session = login(http)
        answer = http.get("/zstack/v1/images", params={"q": "createDate>²"}, headers=auth(session))
    assert answer.status_code == 503, answer.text
    error = answer.json()["error"]
    assert error["code"] == "SYS.1007"
    assert "[²] is not a date" in error["details"]
