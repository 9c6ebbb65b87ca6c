"""One ``zstack-mock serve --workers N`` on a real socket, and clients that open a connection per request
so that the kernel hands the requests to every worker."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

READY = re.compile(r"zstack-mock: serving on (http://127\.0\.0\.1:\d+)")


class Workers:
    """The server's process (the parent) and where it listens; ``stop()`` returns what it printed."""

    def __init__(self, database: Path | str, *args: str, workers: str = "2") -> None:
        """``database``: a SQLite file, or any database URL."""
        url = database if isinstance(database, str) else f"sqlite:///{database}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--workers", workers, "--port", "0", "--quiet",
             "--database-url", url, *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # blocks until every worker serves, or the server exits
        match = READY.fullmatch(line.strip())
        if match is None:
            self.stop()
            raise AssertionError(f"no ready line: {line!r}; stderr: {self.process.stderr and self.process.stderr.read()}")
        self.url = match.group(1)

    def worker_pids(self) -> list[int]:
        return children_of(self.process.pid)

    def client(self) -> httpx.Client:
        """Every request on a new connection."""
        return httpx.Client(base_url=self.url, timeout=30, limits=httpx.Limits(max_keepalive_connections=0))

    def stop(self) -> tuple[int, str, str]:
        """SIGTERM to the parent; (exit code, rest of stdout, stderr)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        stdout, stderr = self.process.communicate(timeout=60)
        return self.process.returncode, stdout, stderr


def children_of(pid: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{pid}$", text, re.MULTILINE):
            found.append(int(status.parent.name))
    return sorted(found)


def alive(pid: int) -> bool:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return not re.search(r"^State:\s+Z", text, re.MULTILINE)


def at_once(client: httpx.Client, calls: Sequence[tuple[str, str]], threads: int = 20) -> list[httpx.Response]:
    """``calls`` ((method, path), ...) sent concurrently from ``threads`` threads."""
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda call: client.request(*call), calls))


def wait_until(check: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)
