"""The command line over PostgreSQL: what start-up says when it cannot use the database, and ``generate``."""

from __future__ import annotations

import socket
import subprocess
import sys

from app.seeding.startup import open_store
from app.store.records import Image


def zstack_mock(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, timeout=60,
                          check=False)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_a_server_that_cannot_be_reached_is_one_line_without_the_password() -> None:
    port = closed_port()
    done = zstack_mock("serve", "--port", "0", "--database-url", f"postgresql://mock:s3cret@127.0.0.1:{port}/zstack")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"zstack-mock: cannot start: cannot connect to postgresql://mock@127.0.0.1:{port}/zstack:")
    assert "Connection refused" in lines[0] and "s3cret" not in done.stderr


def test_generate_fills_a_postgresql_database(postgres_url: str) -> None:
    done = zstack_mock("generate", "--database-url", postgres_url, "--images", "30", "--backups", "5", "--seed", "3")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("loaded ") and "postgresql://postgres@127.0.0.1:" in done.stdout, done.stdout
    store = open_store(postgres_url)
    try:
        assert store.count(Image) == 30
    finally:
        store.close()
