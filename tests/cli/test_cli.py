"""The zstack-mock command: help with examples, start-up on a real port, clear start-up errors."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.helpers import sha512

COMMAND = [sys.executable, "-m", "app"]


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COMMAND, *args], capture_output=True, text=True, timeout=60, env=env)


@pytest.mark.parametrize("args", [["--help"], ["serve", "--help"], ["openapi", "--help"]])
def test_help_shows_examples(args: list[str]) -> None:
    result = _run(*args)
    assert result.returncode == 0
    assert "examples:" in result.stdout


def test_invalid_fixtures_stop_start_up_with_a_message(tmp_path: Path) -> None:
    fixtures = tmp_path / "bad.yaml"
    fixtures.write_text("accounts:\n  - uuid: nope\n    name: admin\n    password: x\n", encoding="utf-8")
    result = _run("serve", "--database-url", f"sqlite:///{tmp_path / 'db'}", "--fixtures", str(fixtures))
    assert result.returncode == 1
    assert f"cannot start: {fixtures}: accounts[0] (uuid nope): field 'uuid': String should match pattern" in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_setting_is_reported_without_a_traceback(tmp_path: Path) -> None:
    result = _run("serve", "--database-url", "mysql://localhost/zstack")
    assert result.returncode == 2
    assert "invalid setting database_url" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``zstack-mock serve --port 0`` configured through the environment; yields (base URL, db path)."""
    database = tmp_path / "env.db"
    env = {**os.environ, "ZSTACK_MOCK_DATABASE_URL": f"sqlite:///{database}", "ZSTACK_MOCK_PORT": "0"}
    with _serving(env) as url:
        yield url, database


@contextmanager
def _serving(env: dict[str, str], *args: str) -> Iterator[str]:
    """``zstack-mock serve ARGS`` until the block ends; yields its base URL."""
    process = subprocess.Popen([*COMMAND, "serve", *args], stderr=subprocess.PIPE, text=True, env=env)
    try:
        url = None
        deadline = time.monotonic() + 20
        assert process.stderr is not None
        while url is None and time.monotonic() < deadline:
            line = process.stderr.readline()
            match = re.search(r"Uvicorn running on (http://\S+)", line)
            if match:
                url = match.group(1)
            elif not line and process.poll() is not None:
                break
        assert url, "the server did not report its address"
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()


def test_serve_takes_settings_from_the_environment(served: tuple[str, Path]) -> None:
    url, database = served
    response = httpx.put(
        f"{url}/zstack/v1/accounts/login",
        json={"logInByAccount": {"accountName": "admin", "password": sha512("password")}},
    )
    assert response.status_code == 200
    assert database.exists()


def test_serve_takes_the_admin_token_and_seed_as_flags(tmp_path: Path) -> None:
    env = {**os.environ, "ZSTACK_MOCK_DATABASE_URL": f"sqlite:///{tmp_path / 'flags.db'}"}
    minted = []
    for _ in range(2):
        with _serving(env, "--port", "0", "--reset", "--admin-token", "t0ken", "--seed", "5") as url:
            assert httpx.post(f"{url}/_mock/sessions", json={"account": "bob"}).status_code == 401
            response = httpx.post(f"{url}/_mock/sessions", json={"account": "bob"},
                                  headers={"Authorization": "Bearer t0ken"})
            minted.append(response.json()["inventory"]["uuid"])
    assert minted[0] == minted[1]  # --reset: a fresh database, so the seeded stream starts again
