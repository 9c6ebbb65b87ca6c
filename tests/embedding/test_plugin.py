"""The pytest plugin, as a consumer uses it: consumer/ run in its own pytest process."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.embedding.consumer_runs import run_consumer, served

TOKEN = "s3cret-token"


def passed(result: object, count: int) -> None:
    output = f"{result.stdout}\n{result.stderr}"  # type: ignore[attr-defined]
    assert result.returncode == 0, output  # type: ignore[attr-defined]
    assert re.search(rf"\b{count} passed\b", output), output


def test_every_fixture_and_marker_and_the_failure_report() -> None:
    result = run_consumer("test_fixtures.py", "test_markers.py", "failing_report.py")

    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert re.search(r"\b1 failed, 11 passed\b", output), output
    # Only the failing test's report has the section: the requests it made, none of the other tests'.
    assert output.count("zstack-mock requests") == 1, output
    section = output.split("zstack-mock requests", 1)[1].split("=====", 1)[0]
    assert [line for line in section.splitlines() if line.startswith(("PUT ", "POST ", "GET "))] == [
        "PUT /zstack/v1/accounts/login LogInByAccount 200 ok",
        "POST /zstack/v1/images/root-volume-templates/from/volume-template/b67eee0a52b04816906cdf207adb00c0 "
        "CreateRootVolumeTemplateFromVolumeBackup 503 error SYS.1002 fault=rule:1",
    ]


def test_under_xdist_each_worker_has_its_own_server(tmp_path: Path) -> None:
    record = tmp_path / "urls"
    result = run_consumer("-p", "xdist", "-n", "2", "--dist", "each", "test_fixtures.py",
                          env={"CONSUMER_RECORD": str(record)})

    passed(result, 10)
    by_worker = {line.split()[0]: line.split()[1] for line in record.read_text().splitlines()}
    assert sorted(by_worker) == ["gw0", "gw1"]
    assert by_worker["gw0"] != by_worker["gw1"]


@pytest.fixture(scope="module")
def external_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A ``zstack-mock serve`` process with an admin token, as a container in CI would be."""
    database = tmp_path_factory.mktemp("external") / "zstack-mock.db"
    with served(database, env={"ZSTACK_MOCK_ADMIN_TOKEN": TOKEN}) as url:
        yield url


def test_the_url_and_token_options_use_an_external_server(external_url: str) -> None:
    result = run_consumer("test_fixtures.py", "--zstack-mock-url", external_url, "--zstack-mock-token", TOKEN,
                          env={"CONSUMER_EXPECT_URL": external_url})
    passed(result, 5)


def test_the_environment_variables_use_an_external_server(external_url: str) -> None:
    result = run_consumer("test_fixtures.py",
                          env={"ZSTACK_MOCK_URL": external_url, "ZSTACK_MOCK_ADMIN_TOKEN": TOKEN,
                               "CONSUMER_EXPECT_URL": external_url})
    passed(result, 5)


def test_without_the_token_the_external_server_refuses_the_reset(external_url: str) -> None:
    result = run_consumer("test_fixtures.py", "-k", "url_answers", "--zstack-mock-url", external_url)

    assert result.returncode == 1
    assert "ControlError: POST /_mock/reset: 401" in result.stdout


def test_settings_markers_cannot_apply_to_an_external_server(external_url: str) -> None:
    result = run_consumer("test_markers.py", "-k", "other_settings or other_fixtures",
                          "--zstack-mock-url", external_url, "--zstack-mock-token", TOKEN)

    assert result.returncode == 1
    assert "2 errors" in result.stdout
    assert f"need a server started here, but the tests use the one at {external_url}" in result.stdout
