"""Starting and stopping ``serve --workers``: one ready line, every worker stopped by SIGTERM, a worker
that dies replaced, and one clear line when the workers cannot start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from app.settings import MAX_WORKERS
from tests.workers.support import Workers, alive, wait_until


def test_auto_starts_a_worker_per_core_replaces_a_killed_one_and_sigterm_stops_them_all(tmp_path: Path) -> None:
    port_file = tmp_path / "port"
    server = Workers(tmp_path / "shared.db", "--port-file", str(port_file), workers="auto")
    try:
        cores = min(os.cpu_count() or 1, MAX_WORKERS)
        first = server.worker_pids()
        assert len(first) == cores
        assert server.url.endswith(f":{int(port_file.read_text())}")

        os.kill(first[0], signal.SIGKILL)
        wait_until(lambda: len(server.worker_pids()) == cores and first[0] not in server.worker_pids())
        with server.client() as client:
            assert {client.get("/_mock/health").status_code for _ in range(10)} == {200}
        every = set(first) | set(server.worker_pids())
    finally:
        code, stdout, stderr = server.stop()
    assert code == 0, stderr
    assert "serving on" not in stdout  # the one ready line came before
    assert f"worker 0 (pid {first[0]}) was killed by signal 9; starting another" in stderr
    assert not [pid for pid in every if alive(pid)]
    assert not port_file.exists()


def _serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", "serve", "--port", "0", "--workers", "2", *args],
                          capture_output=True, text=True, timeout=60)


def test_workers_that_cannot_start_give_one_line_and_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("accounts: [{name: admin}]\n", encoding="utf-8")
    done = _serve("--database-url", f"sqlite:///{tmp_path / 'x.db'}", "--fixtures", str(bad))
    assert done.returncode == 1
    assert done.stderr.count("zstack-mock: cannot start:") == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_an_in_memory_database_cannot_be_shared_by_workers() -> None:
    done = _serve("--database-url", "sqlite://")
    assert done.returncode == 1
    assert done.stderr.strip() == ("zstack-mock: cannot start: --workers 2 needs a database file (sqlite:///PATH): "
                                   "sqlite:// is in memory, a private one in each worker")
