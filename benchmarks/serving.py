"""Starting ``zstack-mock serve`` for a benchmark script: the real command, a fresh temporary database."""

from __future__ import annotations

import hashlib
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

VENV_BIN = Path(sys.executable).parent
#: The default fixtures' volume backup with metadata, and the ready ImageStore holding it.
BACKUP = "b67eee0a52b04816906cdf207adb00c0"
STORAGE = "4ed18086e5593b86932436d02f575213"
CREATE = f"/zstack/v1/images/root-volume-templates/from/volume-template/{BACKUP}"
LOGIN = {"logInByAccount": {"accountName": "admin", "password": hashlib.sha512(b"password").hexdigest()}}


@dataclass(frozen=True)
class Server:
    url: str
    pid: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def zstack_mock(*flags: str, name: str = "bench") -> Iterator[Server]:
    """``zstack-mock serve --reset`` on a free port over a new SQLite file, until it answers
    ``/_mock/health``; stopped (SIGTERM) on leaving."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix=f"zstack-mock-{name}-") as tmp:
        command = [str(VENV_BIN / "zstack-mock"), "serve", "--port", str(port), "--reset",
                   "--database-url", f"sqlite:///{tmp}/{name}.db", "--log-level", "warning", *flags]
        process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{url}/_mock/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("zstack-mock did not start")
                time.sleep(0.02)
            yield Server(url=url, pid=process.pid)
        finally:
            process.terminate()
            process.wait(timeout=10)
