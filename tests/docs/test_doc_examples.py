"""The shell examples of README.md and docs/*.md, run as a newcomer runs them (see shell_examples.py).

Each document gets a fresh directory (the clone's ``fixtures/`` linked in) and a server started there
as ``make run`` starts it (``zstack-mock serve``: ``./zstack-mock.db``, the default fixtures); then its
```sh blocks run in order in one bash shell with ``zstack-mock`` on PATH. The documents use ports
8080-8089 (8080 is ``make run``'s); the test gives each a free port instead, so it runs beside
anything else on the machine.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.docs.shell_examples import Block, Step, answer_matches, blocks, documents

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DOC_PORTS = range(8080, 8090)
STEP_MARK = "@@doc-step %d@@"  # printf format; the runner splits the output at it
RUN_TIMEOUT = 120  # seconds for one document, on a slow, busy machine
# Left-over servers the document started and did not stop; a stopped one gets this long to exit.
LEFT_RUNNING_GRACE = 10

DOCUMENTS = [path for path in documents(ROOT) if any(block.runs for block in blocks(path.read_text()))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def with_ports(text: str, ports: dict[int, int]) -> str:
    return re.sub(r"\b80[89]\d\b", lambda port: str(ports.get(int(port[0]), port[0])), text)


def clean_environment(ports: dict[int, int]) -> dict[str, str]:
    """The environment of a newcomer's shell; a bare ``zstack-mock serve`` picks ``make run``'s port, as it would."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ZSTACK_MOCK_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["ZSTACK_MOCK_PORT"] = str(ports[8080])
    return env


@pytest.fixture
def served(tmp_path: Path) -> Iterator[dict[int, int]]:
    """``make run``'s server, on a free port standing in for 8080, in the document's directory."""
    ports = {port: free_port() for port in DOC_PORTS}
    log = (tmp_path / "make-run.log").open("wb")
    server = subprocess.Popen(
        [str(BIN / "zstack-mock"), "serve", "--port", str(ports[8080])],
        cwd=tmp_path, env=clean_environment(ports), stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{ports[8080]}/_mock/health", timeout=5)
            break
        except httpx.TransportError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start: {(tmp_path / 'make-run.log').read_text()}") from None
            time.sleep(0.05)
    yield ports
    server.terminate()
    server.wait(timeout=30)
    log.close()


def script(runnable: list[Block], ports: dict[int, int], failures: Path, grace: float) -> str:
    lines = [
        f"exec 3>>{shlex.quote(str(failures))}",
        "set -o pipefail",
        "trap 'trap - ERR; kill $(jobs -p) 2> /dev/null' EXIT",  # no server outlives a shell that stopped early
        """trap 'printf "%s\\n" "$BASH_COMMAND" >&3' ERR""",
    ]
    number = 0
    for block in runnable:
        for step in block.steps:
            lines += [with_ports(line, ports) for line in step.shell]
            lines.append(f"printf '\\n{STEP_MARK}\\n' {number}")
            number += 1
    lines += [
        f"for _ in $(seq {round(grace * 10)}); do [ -z \"$(jobs -pr)\" ] && break; sleep 0.1; done",
        'if [ -n "$(jobs -pr)" ]; then printf "left running: %s\\n" "$(jobs -r)" >&3; kill $(jobs -pr); fi',
    ]
    return "\n".join(lines) + "\n"


def run_document(markdown: str, ports: dict[int, int], workdir: Path, grace: float = LEFT_RUNNING_GRACE) -> list[str]:
    """Run a document's examples in ``workdir``; returns what went wrong, an empty list if nothing did."""
    steps = [step for block in blocks(markdown) if block.runs for step in block.steps]
    (workdir / "fixtures").symlink_to(ROOT / "fixtures")  # the examples run in the clone
    failures = workdir / "failures.txt"
    failures.touch()
    (workdir / "examples.sh").write_text(script([block for block in blocks(markdown) if block.runs], ports, failures, grace))
    shell = subprocess.Popen(
        ["bash", "examples.sh"], cwd=workdir, env=clean_environment(ports), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        stdout, stderr = shell.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(shell.pid, signal.SIGKILL)
        stdout, stderr = shell.communicate()
        return [f"the examples did not finish in {RUN_TIMEOUT} s:\n{stdout.decode()}\n{stderr.decode()}"]
    outputs = re.split(r"\n" + re.escape(STEP_MARK).replace("%d", r"\d+") + r"\n", stdout.decode())
    problems = [f"failed: {command}" for command in failures.read_text().splitlines()]
    if len(outputs) != len(steps) + 1:
        problems.append(f"the shell stopped after {len(outputs) - 1} of {len(steps)} steps")
    problems += [
        f"line {step.line}: {first_command(step)}\n  expected: {step.answer}\n  printed:  {output.strip()}"
        for step, output in zip(steps, outputs, strict=False)
        if step.answer is not None and not answer_matches(with_ports(step.answer, ports), output)
    ]
    if problems:
        problems.append(f"stderr:\n{stderr.decode()}")
    return problems


def first_command(step: Step) -> str:
    return next((line for line in step.shell if line.strip() and not line.lstrip().startswith("#")), "")


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda path: path.name)
def test_the_shell_examples_run_as_written(path: Path, served: dict[int, int], tmp_path: Path) -> None:
    problems = run_document(path.read_text(), served, tmp_path)
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


BROKEN = """\
```sh
curl -s localhost:8080/_mock/health   # → {"status":"not ok"}
no-such-command --flag
zstack-mock serve --port 8081 --database-url sqlite:// &
curl -s --retry 30 --retry-delay 1 --retry-connrefused localhost:8081/_mock/health > /dev/null
```
"""


def test_a_wrong_answer_a_failing_command_and_a_server_left_running_are_reported(
    served: dict[int, int], tmp_path: Path
) -> None:
    problems = run_document(BROKEN, served, tmp_path, grace=1)
    assert problems[0] == "failed: no-such-command --flag"
    assert problems[1].startswith("failed: left running: [1]")
    assert problems[2].startswith("line 2: curl -s localhost:")
    assert 'expected:  {"status":"not ok"}' in problems[2]
