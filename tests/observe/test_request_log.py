"""The request lines of ``zstack-mock serve`` (a process of its own): text and JSON on standard output,
none with ``--quiet`` or at ``--log-level warning``, and a hostile path cut short on one line."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from app.embedded import MockServer
from app.observe.request_log import WRITE_CHARS, LineHandler
from tests.helpers import BACKUP_WITH_METADATA, CREATE_PATH, create, login

ON_CREATE = {"match": {"operation": "CreateRootVolumeTemplateFromVolumeBackup"}, "error": {"code": "SYS.1006"}}
JSON_KEYS = ["time", "level", "logger", "client", "method", "path", "operation", "status", "duration_ms", "fault"]


@contextmanager
def serving(tmp_path: Path, *flags: str) -> Iterator[tuple[httpx.Client, list[str]]]:
    """``serve`` with ``flags`` on a free port; yields a client (its first request made: the health check
    that waited for the server, not in the lines) and, once the server has stopped, its stdout lines."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    stdout, stderr = tmp_path / "stdout.log", tmp_path / "stderr.log"
    lines: list[str] = []
    with stdout.open("w") as out, stderr.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--port", str(port), "--database-url", "sqlite://", *flags],
            stdout=out, stderr=err,
        )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            wait_for_health(client, process, stderr)
            yield client, lines
    finally:
        process.terminate()
        process.wait(timeout=30)
        written = stdout.read_text().splitlines()
        # The ready line comes first (as JSON under --log-format json), then the request lines.
        assert written and f"zstack-mock: serving on http://127.0.0.1:{port}" in written[0], written[:1]
        if "json" in flags:
            assert json.loads(written[0])["url"] == f"http://127.0.0.1:{port}"
        lines += [line for line in written[1:] if "/_mock/health" not in line]


def wait_for_health(client: httpx.Client, process: subprocess.Popen[bytes], stderr: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if client.get("/_mock/health").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError(f"the server did not start: {stderr.read_text()}")


def some_requests(client: httpx.Client) -> None:
    session = login(client)
    assert create(client, session).status_code == 200
    assert client.post("/_mock/faults", json=ON_CREATE).status_code == 201
    assert create(client, session).status_code == 503


def test_text_lines_name_the_call_status_duration_and_fault(tmp_path: Path) -> None:
    with serving(tmp_path) as (client, lines):
        some_requests(client)

    create_path = CREATE_PATH.format(BACKUP_WITH_METADATA)
    assert len(lines) == 4, lines
    login_line, created, rule, failed = lines
    assert '"PUT /zstack/v1/accounts/login" 200 LogInByAccount ' in login_line
    assert f'"POST {create_path}" 200 CreateRootVolumeTemplateFromVolumeBackup ' in created
    assert '"POST /_mock/faults" 201 /_mock/faults ' in rule
    assert f'"POST {create_path}" 503 CreateRootVolumeTemplateFromVolumeBackup ' in failed
    assert failed.endswith(" ms fault=rule:1")
    assert " INFO 127.0.0.1:" in created and created.endswith(" ms")


def test_json_lines_have_stable_keys(tmp_path: Path) -> None:
    with serving(tmp_path, "--log-format", "json") as (client, lines):
        some_requests(client)
        assert client.post("/zstack/api", content=b"{not json").status_code == 200

    entries = [json.loads(line) for line in lines]
    assert [list(entry) for entry in entries] == [JSON_KEYS] * 5
    assert [(e["method"], e["operation"], e["status"], e["fault"]) for e in entries] == [
        ("PUT", "LogInByAccount", 200, None),
        ("POST", "CreateRootVolumeTemplateFromVolumeBackup", 200, None),
        ("POST", "/_mock/faults", 201, None),
        ("POST", "CreateRootVolumeTemplateFromVolumeBackup", 503, "rule:1"),
        ("POST", None, 200, None),
    ]
    assert all(e["level"] == "info" and e["logger"] == "zstack_mock.requests" for e in entries)
    assert all(isinstance(e["duration_ms"], float) and e["duration_ms"] > 0 for e in entries)
    assert entries[0]["path"] == "/zstack/v1/accounts/login"
    assert entries[0]["client"].startswith("127.0.0.1:")


def test_quiet_and_warning_level_write_no_request_line(tmp_path: Path) -> None:
    for flags in (("--quiet",), ("--log-level", "warning")):
        with serving(tmp_path, *flags) as (client, lines):
            some_requests(client)
        assert lines == [], flags


def test_a_hostile_path_is_logged_short_on_one_line(tmp_path: Path) -> None:
    long_path = "/zstack/v1/images/" + "a" * 10_000
    with serving(tmp_path, "--log-format", "json") as (client, json_lines):
        assert client.get(long_path).status_code in (400, 404)
        assert client.get("/zstack/v1/x%0A2026-01-01 INFO forged%0D%00").status_code == 404
    with serving(tmp_path) as (client, text_lines):
        assert client.get("/_mock/x%0Aforged line").status_code == 404
        # An RPC message's name is the client's text too: escaped and cut, on the same one line.
        client.post("/zstack/api", json={"APIx\n2026-01-01 INFO forged" + "y" * 1000 + "Msg": {}})

    cut, forged = (json.loads(line)["path"] for line in json_lines)
    assert len(cut) == 256 and cut.endswith("...") and cut.startswith("/zstack/v1/images/aaa")
    assert forged == "/zstack/v1/x%0A2026-01-01%20INFO%20forged%0D%00"
    assert len(text_lines) == 2
    assert '"GET /_mock/x%0Aforged%20line" 404 ' in text_lines[0]
    assert '"POST /zstack/api"' in text_lines[1] and "x\\n2026-01-01 INFO forged" in text_lines[1]
    assert len(text_lines[1]) < 512


def test_a_line_is_written_while_the_server_runs_not_only_when_it_stops(tmp_path: Path) -> None:
    with serving(tmp_path) as (client, _):
        client.get("/zstack/v1/images/nothing-here")
        deadline = time.monotonic() + 5
        written = ""
        while time.monotonic() < deadline and "nothing-here" not in written:
            time.sleep(0.02)
            written = (tmp_path / "stdout.log").read_text()
        assert '"GET /zstack/v1/images/nothing-here"' in written


def test_an_embedding_program_gets_each_requests_fields_on_its_record() -> None:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("zstack_mock.requests")
    handler, level = Keep(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        with MockServer() as server, httpx.Client(base_url=server.url) as client:
            session = login(client)
            create(client, session, BACKUP_WITH_METADATA)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    created = [r for r in records if getattr(r, "operation", None) == "CreateRootVolumeTemplateFromVolumeBackup"]
    assert len(created) == 1
    record = created[0]
    assert (record.name, record.levelname, record.method, record.path, record.status, record.fault) == (  # type: ignore[attr-defined]
        "zstack_mock.requests", "INFO", "POST", CREATE_PATH.format(BACKUP_WITH_METADATA), 200, None,
    )
    assert record.client.startswith("127.0.0.1:") and record.duration_ms > 0  # type: ignore[attr-defined]
    assert record.getMessage().endswith(f"CreateRootVolumeTemplateFromVolumeBackup {record.duration_ms:.1f} ms")  # type: ignore[attr-defined]
    assert logging.Formatter("%(asctime)s %(process)d %(threadName)s %(message)s").format(record)


class _Writes:
    """A stream that keeps each write apart."""

    def __init__(self) -> None:
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return len(text)

    def flush(self) -> None:
        pass


def test_the_lines_of_one_loop_turn_go_out_at_its_end_in_whole_line_writes_a_pipe_keeps_whole() -> None:
    stream = _Writes()
    handler = LineHandler(stream)  # type: ignore[arg-type]

    async def one_turn() -> None:
        for n in range(100):
            handler.handle(logging.makeLogRecord({"msg": f"request {n} " + "x" * 80}))
        assert stream.writes == []  # nothing before the turn ends
        await asyncio.sleep(0)
        await asyncio.sleep(0)

    asyncio.run(one_turn())
    assert "".join(stream.writes).splitlines() == [f"request {n} " + "x" * 80 for n in range(100)]
    assert len(stream.writes) > 1 and all(len(w) <= WRITE_CHARS and w.endswith("\n") for w in stream.writes)

    handler.handle(logging.makeLogRecord({"msg": "off a loop"}))
    assert stream.writes[-1] == "off a loop\n"
