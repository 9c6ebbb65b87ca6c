"""Each fixture of the plugin; the server is reset before every test that uses it."""

from __future__ import annotations

import os

import httpx
import pytest
from zstack_calls import create_template, log_in, record_url
from zstack_mock import ControlError


def test_the_url_answers(zstack_url: str) -> None:
    record_url(zstack_url)
    if expected := os.environ.get("CONSUMER_EXPECT_URL"):
        assert zstack_url == expected
    assert httpx.get(f"{zstack_url}/_mock/health").json()["status"] == "ok"


def test_the_session_is_a_logged_in_admin(zstack_url: str, zstack_session: str) -> None:
    record_url(zstack_url)
    assert create_template(zstack_url, zstack_session).status_code == 200


def test_arranging_through_the_control(zstack_control, zstack_url: str) -> None:
    zstack_control.add_account("carol", "carol-password")
    assert log_in(zstack_url, "carol", "carol-password").status_code == 200
    zstack_control.assert_called("LogInByAccount", times=1)


def test_the_previous_test_left_nothing(zstack_control, zstack_url: str) -> None:
    assert log_in(zstack_url, "carol", "carol-password").status_code == 503
    assert zstack_control.count() == 1  # the journal, too, starts empty


def test_the_server_fixture(zstack_mock) -> None:
    assert zstack_mock.control.health().status == "ok"
    with pytest.raises(ControlError) as raised:
        zstack_mock.control.restore("no-such-snapshot")
    assert raised.value.status == 404
