"""The markers: a fault for one test, another fixtures file, other settings."""

from __future__ import annotations

import pytest
from zstack_calls import create_template, log_in


@pytest.mark.zstack_fault(operation="LogInByAccount", error="SYS.1006")
def test_a_fault_for_this_test(zstack_url: str, zstack_control) -> None:
    answer = log_in(zstack_url)
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "SYS.1006"
    assert [entry.fault for entry in zstack_control.requests()] == ["rule:1"]


def test_the_fault_is_gone(zstack_url: str, zstack_control) -> None:
    assert log_in(zstack_url).status_code == 200
    assert zstack_control.faults() == []


@pytest.mark.zstack_fixtures("one_account.yaml")
def test_other_fixtures(zstack_url: str, zstack_control) -> None:
    assert zstack_control.health().accounts == 1
    assert log_in(zstack_url, "dora", "dora-password").status_code == 200
    assert log_in(zstack_url, "alice", "alice-password").status_code == 503


def test_the_default_fixtures_again(zstack_control) -> None:
    assert zstack_control.health().accounts == 3


@pytest.mark.zstack_settings(api_mode="async")
def test_other_settings(zstack_url: str, zstack_session: str) -> None:
    answer = create_template(zstack_url, zstack_session)
    assert answer.status_code == 202
    assert "location" in answer.headers


@pytest.mark.zstack_settings(api_mode="async")
def test_the_same_settings_share_a_server(zstack_url: str, zstack_control) -> None:
    assert zstack_control.health().status == "ok"
