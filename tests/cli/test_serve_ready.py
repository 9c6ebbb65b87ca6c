"""`serve --port 0` tells scripts where it listens: a stable line on standard output and --port-file."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

COMMAND = [sys.executable, "-m", "app", "serve", "--port", "0", "--database-url", "sqlite://"]
READY = re.compile(r"zstack-mock: serving on (http://127\.0\.0\.1:(\d+))\n")


def _wait_for(path: Path, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return path.read_text(encoding="utf-8")
        time.sleep(0.05)
    raise AssertionError(f"{path} was not written")


def test_port_file_holds_the_chosen_port_while_serving_and_goes_at_exit(tmp_path: Path) -> None:
    port_file = tmp_path / "port"
    process = subprocess.Popen([*COMMAND, "--port-file", str(port_file)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        text = _wait_for(port_file)
        assert re.fullmatch(r"[1-9]\d*\n", text), text
        answer = httpx.get(f"http://127.0.0.1:{int(text)}/_mock/health", timeout=10)
        assert answer.json()["status"] == "ok"
        assert [p.name for p in tmp_path.iterdir()] == ["port"]  # no temporary file left beside it
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert not port_file.exists()


def test_ready_line_on_standard_output_names_the_url_once_listening() -> None:
    process = subprocess.Popen(COMMAND, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # blocks until the server prints it, or exits
        match = READY.fullmatch(line)
        assert match, f"unexpected first line on stdout: {line!r}"
        answer = httpx.get(match.group(1) + "/_mock/health", timeout=10)
        assert answer.status_code == 200
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=20)
    assert "console at /, OpenAPI docs at /docs" in stderr
    assert "zstack-mock: serving on" not in stderr


def test_an_unwritable_port_file_stops_the_server_with_a_message(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    result = subprocess.run([*COMMAND, "--port-file", str(blocker / "port")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert f"cannot write the port file {blocker / 'port'}" in result.stderr
