"""Starting servers for the benchmarks: ``zstack-mock serve`` (the real command) and the bare FastAPI
baseline (benchmarks/bare_app.py), each on a free 127.0.0.1 port, waited for, and stopped by pid.

Also the fixtures every benchmark loads (the create path, its backup and storage, the login body) and a
small HTTP helper (the standard library's client: no connection pool, nothing kept between calls).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from functools import cache
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
VENV_BIN = Path(sys.executable).parent  # run as .venv/bin/python: the console scripts sit next to it
HOST = "127.0.0.1"

# The default fixtures (tests/helpers.py): a volume backup with metadata, and the ready ImageStore holding it.
BACKUP = "b67eee0a52b04816906cdf207adb00c0"
STORAGE = "4ed18086e5593b86932436d02f575213"
CREATE = f"/zstack/v1/images/root-volume-templates/from/volume-template/{BACKUP}"
LOGIN_PATH = "/zstack/v1/accounts/login"
LOGIN = {"logInByAccount": {"accountName": "admin", "password": hashlib.sha512(b"password").hexdigest()}}
LOGIN_BODY = json.dumps(LOGIN).encode()
QUERY_PAGE = "/zstack/v1/images?limit=50"  # a page of 50 images (after the mock stage's creates, a full one)

POLL_INTERVAL = 0.005  # seconds between start-up probes
START_TIMEOUT = 30.0  # give up on a server that has not answered by then
STOP_TIMEOUT = 10.0


class BenchError(RuntimeError):
    """Something crashed: a server died or never answered, wrk failed. Exit status 1."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> tuple[int, bytes]:
    """One request on a new connection (``Content-Type: application/json`` plus ``headers``): status, body."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers={"Content-Type": "application/json", **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def auth(session: str) -> dict[str, str]:
    """The header that carries a session."""
    return {"Authorization": f"OAuth {session}"}


class Server:
    """A server process we started; stopped by its pid only."""

    def __init__(self, name: str, argv: list[str], env: Mapping[str, str], log_path: Path | None) -> None:
        self.name = name
        self.argv = argv
        self.env = dict(env)
        self.log_path = log_path  # stdout and stderr go there; None: both are dropped (the ready line and request lines too)
        self.port = int(argv[argv.index("--port") + 1])
        self.url = f"http://{HOST}:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        if self.log_path is None:
            self.started_at = time.perf_counter()
            self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            return
        with self.log_path.open("ab") as log:
            self.started_at = time.perf_counter()
            self.proc = subprocess.Popen(
                self.argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )

    def first_answer(
        self, method: str = "PUT", path: str = LOGIN_PATH, body: bytes | None = LOGIN_BODY
    ) -> tuple[float, bytes]:
        """Seconds from Popen to the first 200 to a request (by default the admin login PUT), polled every
        5 ms, and that answer's body."""
        deadline = self.started_at + START_TIMEOUT
        last = "no connection"
        while time.perf_counter() < deadline:
            self.check_alive()
            try:
                status, answer = request(self.port, method, path, body, timeout=1.0)
            except (OSError, http.client.HTTPException) as exc:
                status, answer = 0, repr(exc).encode()
            if status == 200:
                return time.perf_counter() - self.started_at, answer
            last = f"{status} {answer[:200].decode(errors='replace')}" if status else answer.decode()
            time.sleep(POLL_INTERVAL)
        raise BenchError(
            f"{self.name} gave no 200 to {method} {path} within {START_TIMEOUT:.0f} s "
            f"(last: {last})\n{self.log_tail()}"
        )

    def check_alive(self) -> None:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise BenchError(f"{self.name} exited with status {self.proc.returncode}\n{self.log_tail()}")

    def rss_kib(self, pid: int | None = None) -> int:
        """VmRSS of the server process (or of ``pid``, one of its workers)."""
        status = Path(f"/proc/{pid or self.pid}/status")
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])  # "VmRSS:   12345 kB" (kB here means KiB)
        raise BenchError(f"no VmRSS in {status}")

    def processes(self) -> list[int]:
        """The server's pid and those of its descendants (``serve --workers N`` forks its workers)."""
        found, pending = [], [self.pid]
        while pending:
            pid = pending.pop()
            found.append(pid)
            for task in Path(f"/proc/{pid}/task").glob("*/children"):
                try:
                    pending += [int(child) for child in task.read_text().split()]
                except OSError:
                    continue  # the thread or process has just gone
        return found

    def cpu_seconds(self) -> float:
        """User + system CPU time the server and its worker processes have used, from ``/proc/<pid>/stat``."""
        total = 0.0
        for pid in self.processes():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
        return total / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        workers = {pid: _start_time(pid) for pid in self.processes()[1:]}
        self.proc.terminate()
        try:
            self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(STOP_TIMEOUT)
        for pid, started in workers.items():  # a worker its supervisor left behind (the same process, not a reused pid)
            if started is not None and _start_time(pid) == started:
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

    def log_tail(self, lines: int = 20) -> str:
        if self.log_path is None:
            return ""
        try:
            text = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return ""
        return "\n".join(f"  {self.name}| {line}" for line in text)


def _start_time(pid: int) -> str | None:
    """A process's start time (field 22 of ``/proc/<pid>/stat``): with the pid, it names one process."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def bare_server(log_path: Path) -> Server:
    """benchmarks/bare_app.py on a free port (not started)."""
    argv = [sys.executable, str(BENCH_DIR / "bare_app.py"), "--port", str(free_port())]
    return Server("bare FastAPI", argv, os.environ, log_path)


def mock_server(
    db: Path | str,
    *flags: str,
    reset: bool,
    log_path: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Server:
    """``zstack-mock serve`` as ``make run`` starts it, on a free port over the SQLite file ``db`` (or the
    database URL ``db``; ``--reset``: a fresh database with the default fixtures), plus ``flags``; not started."""
    url = db if isinstance(db, str) else f"sqlite:///{db}"
    argv = [str(VENV_BIN / "zstack-mock"), "serve", "--port", str(free_port()), "--database-url", url]
    if reset:
        argv.append("--reset")
    argv += flags
    return Server("zstack-mock", argv, os.environ if env is None else env, log_path)


@cache
def serve_has_workers() -> bool:
    """Whether this ``zstack-mock serve`` takes ``--workers N|auto`` (a newer one does)."""
    done = subprocess.run(
        [str(VENV_BIN / "zstack-mock"), "serve", "--help"], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    return "--workers" in done.stdout


NO_WORKERS = "not available: serve has no --workers"


@contextmanager
def zstack_mock(*flags: str, name: str = "bench") -> Iterator[Server]:
    """``zstack-mock serve --reset`` on a free port over a new SQLite file, until it answers
    ``/_mock/health``; stopped (SIGTERM) on leaving."""
    with tempfile.TemporaryDirectory(prefix=f"zstack-mock-{name}-") as tmp:
        server = mock_server(Path(tmp) / f"{name}.db", "--log-level", "warning", *flags, reset=True)
        try:
            server.start()
            server.first_answer("GET", "/_mock/health", None)
            yield server
        finally:
            server.stop()
