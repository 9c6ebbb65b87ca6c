"""A throwaway PostgreSQL cluster: ``initdb`` and ``pg_ctl`` from Debian's ``postgresql`` package, in a
temporary folder, on a free port, removed by ``stop``. The tests, ``make bench`` and ``make run-postgres``
start theirs with it.

PostgreSQL refuses to run as root, and CI runs as root: then the folder belongs to the ``postgres`` user
and every command runs as that user (``runuser``). The port is picked by binding to port 0; a start that
loses the port to another process is tried again on a new one. The settings trade durability for speed
(``fsync`` off): the cluster is for tests and trials, never for data anyone keeps. With ``in_memory``
the folder is in ``/dev/shm`` when the machine has one (the tests' clusters: no disk waits).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

#: Where Debian's ``postgresql-<version>`` packages put the server's programs.
DEBIAN_ROOT = Path("/usr/lib/postgresql")
INSTALL_ADVICE = (
    "install it as root with 'apt-get update && apt-get install -y --no-install-recommends postgresql' "
    "(make test does when run as root)"
)
_START_ATTEMPTS = 5
MEMORY_FOLDER = Path("/dev/shm")


class ClusterError(RuntimeError):
    pass


def server_programs() -> Path:
    """The newest installed server's ``bin`` folder."""
    candidates = sorted(
        (p for p in DEBIAN_ROOT.glob("*/bin") if (p / "initdb").exists() and p.parent.name.isdigit()),
        key=lambda p: int(p.parent.name),
    )
    if not candidates:
        raise ClusterError(f"PostgreSQL's server is not installed (no {DEBIAN_ROOT}/<version>/bin/initdb): "
                           f"{INSTALL_ADVICE}")
    return candidates[-1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Cluster:
    def __init__(self, *, in_memory: bool = False) -> None:
        self.bin = server_programs()
        in_memory = in_memory and MEMORY_FOLDER.is_dir() and os.access(MEMORY_FOLDER, os.W_OK)
        self.root = Path(tempfile.mkdtemp(prefix="zstack-mock-pg-", dir=MEMORY_FOLDER if in_memory else None))
        self.data = self.root / "data"
        self.port = 0
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")

    def _run(self, *command: str) -> subprocess.CompletedProcess[str]:
        prefix = ("runuser", "-u", "postgres", "--") if self._as_postgres else ()
        return subprocess.run(
            [*prefix, *command], capture_output=True, text=True, check=False, timeout=120, cwd=self.root
        )

    def start(self) -> Cluster:
        done = self._run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                         "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        if done.returncode != 0:
            raise ClusterError(f"initdb failed: {done.stderr.strip() or done.stdout.strip()}")
        for _ in range(_START_ATTEMPTS):
            self.port = _free_port()
            options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                       "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
            done = self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options,
                             "-l", str(self.root / "server.log"), "-w", "-t", "60", "start")
            if done.returncode == 0:
                return self
        log = (self.root / "server.log").read_text(errors="replace")[-2000:]
        raise ClusterError(f"pg_ctl could not start the cluster: {done.stderr.strip()}\n{log}")

    def restart(self) -> None:
        """Stop the server (its clients' connections end) and start it again on the same port."""
        done = self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"),
                         "-m", "fast", "-w", "-t", "60", "restart")
        if done.returncode != 0:
            raise ClusterError(f"pg_ctl could not restart the cluster: {done.stderr.strip()}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres:unused@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str, template: str | None = None) -> str:
        """Create database ``name`` (a copy of ``template`` if given) and answer its URL."""
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
        return self.url(name)

    def stop(self) -> None:
        if self.data.exists():
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
