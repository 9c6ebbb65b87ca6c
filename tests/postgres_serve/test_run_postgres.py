"""``make run-postgres`` (devtools/run_postgres.py): a throwaway cluster and two replicas over it, for a
person to try; stopping leaves no replica, no server and no folder behind."""

from __future__ import annotations

import io
import re
import signal
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

from devtools import run_postgres
from tests.helpers import auth, create, login

ROOT = Path(__file__).resolve().parents[2]


def free_ports(count: int) -> list[int]:
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def refuses(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


def test_two_replicas_answer_share_a_login_and_stop_leaves_nothing_behind() -> None:
    ports = free_ports(2)
    output = io.StringIO()
    running = run_postgres.start(ports, out=output)
    try:
        first, second = running.replicas
        with httpx.Client(base_url=first.url, timeout=30) as a, httpx.Client(base_url=second.url, timeout=30) as b:
            assert a.get("/_mock/health").status_code == 200
            assert b.get("/_mock/health").status_code == 200
            session = login(a)
            assert create(a, session, name="made-on-a").status_code == 200
            found = b.get("/zstack/v1/images?q=name=made-on-a", headers=auth(session))
            assert found.status_code == 200, found.text
            assert [image["name"] for image in found.json()["inventories"]] == ["made-on-a"]
    finally:
        running.stop()
    assert all(replica.process.returncode in (0, -signal.SIGTERM) for replica in running.replicas)
    assert not running.cluster.root.exists()
    assert all(refuses(port) for port in [*ports, running.cluster.port])
    assert f"A :{ports[0]}| zstack-mock: serving on {first.url}" in output.getvalue()
    assert f"B :{ports[1]}| zstack-mock: serving on {second.url}" in output.getvalue()


def test_serve_flags_reach_both_replicas_and_ctrl_c_stops_them_and_removes_the_cluster(tmp_path: Path) -> None:
    ports = free_ports(2)
    printed = tmp_path / "printed.txt"
    with printed.open("w") as out:
        script = subprocess.Popen(
            [sys.executable, "-m", "devtools.run_postgres", "--ports", *map(str, ports), "--", "--sandbox"],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while "Press Ctrl-C" not in printed.read_text() and script.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        text = printed.read_text()
        assert "Press Ctrl-C" in text, text
        assert f"replica A: http://127.0.0.1:{ports[0]}\n  replica B: http://127.0.0.1:{ports[1]}\n" in text
        for port in ports:
            assert httpx.get(f"http://127.0.0.1:{port}/_mock/health").json()["sandbox"] is True
        script.send_signal(signal.SIGINT)
        assert script.wait(60) == 0
    finally:
        if script.poll() is None:
            script.kill()
            script.wait(60)
    text = printed.read_text()
    cluster = re.search(r"postgresql://\S+@127\.0\.0\.1:(\d+)/zstack \(a throwaway cluster in (\S+)\)", text)
    assert cluster is not None, text
    assert text.rstrip().endswith("run-postgres: replicas stopped, cluster removed"), text
    assert not Path(cluster.group(2)).exists()
    assert all(refuses(port) for port in [*ports, int(cluster.group(1))])
