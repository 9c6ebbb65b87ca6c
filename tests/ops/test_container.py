"""The container image's recipe: its health check works against a real server, and its build context
carries the source and nothing of a developer's machine (no .venv, database or .git).

No image is built here: this machine's podman can neither pull the base image nor run a container
(see docs/ci.md)."""

from __future__ import annotations

import fnmatch
import os
import re
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.conftest import LiveServer

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")


def _healthcheck_command() -> str:
    match = re.search(r'^HEALTHCHECK [^\n]*\\\n\s+CMD python -c "(.+)"$', DOCKERFILE, flags=re.MULTILINE)
    assert match, "the Dockerfile lost its HEALTHCHECK"
    return match.group(1)


def _probe(port: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", _healthcheck_command()], capture_output=True, text=True,
                          timeout=30, env={**os.environ, "ZSTACK_MOCK_PORT": str(port)})


def test_the_healthcheck_passes_on_a_live_server_and_fails_without_one(
    live_server: Callable[..., LiveServer],
) -> None:
    server = live_server()
    assert _probe(server.port).returncode == 0
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        free_port = unused.getsockname()[1]
    assert _probe(free_port).returncode != 0


def test_the_image_is_multi_stage_from_a_pinned_base_and_runs_the_wheel_as_a_non_root_user() -> None:
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE, flags=re.MULTILINE)
    assert base and re.fullmatch(r"python:3\.11-slim-bookworm(@sha256:[0-9a-f]{64})?", base.group(1))
    assert re.findall(r"^FROM (\S+)", DOCKERFILE, flags=re.MULTILINE) == ["${PYTHON_IMAGE}"] * 2
    assert "pip wheel --no-deps --wheel-dir /wheels ." in DOCKERFILE
    user = re.findall(r"^USER (\S+)$", DOCKERFILE, flags=re.MULTILINE)
    assert user and user[-1].split(":")[0] not in ("0", "root")
    assert 'VOLUME ["/data"]' in DOCKERFILE and "sqlite:////data/" in DOCKERFILE


def _ignored(path: str, patterns: list[str]) -> bool:
    """Whether the build context leaves ``path`` out (the .dockerignore rules this file uses)."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        for prefix in prefixes:
            if fnmatch.fnmatchcase(prefix, pattern) or (
                pattern.startswith("**/") and fnmatch.fnmatchcase(prefix.rsplit("/", 1)[-1], pattern[3:])
            ):
                return True
    return False


def test_the_build_context_has_what_the_dockerfile_copies_and_nothing_of_the_machine() -> None:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert not any(p.startswith("!") for p in patterns)
    copied = re.findall(r"^COPY (?!--from)(.+) \S+$", DOCKERFILE, flags=re.MULTILINE)
    for sources in copied:
        for source in sources.split():
            assert not _ignored(source, patterns), source
    for left_out in (".venv/bin/python", ".git/HEAD", "zstack-mock.db", "zstack-mock.db-wal", "data/other.db",
                     "zstack-mock.db.sandbox/t.db", "app/__pycache__/cli.cpython-311.pyc", ".mypy_cache/x",
                     "tests/conftest.py"):
        assert _ignored(left_out, patterns), left_out
