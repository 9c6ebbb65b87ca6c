"""Every Python example of docs/testing.md, run: the plain ones against a running MockServer (as ``server``,
``control`` and ``url``), the pytest files (a block whose first line is ``# tests/NAME.py``) with the plugin."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.embedding.consumer_runs import CONSUMER, RUN_TIMEOUT, run_consumer

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "testing.md"
TEST_FILE = re.compile(r"^# (tests/test_\w+\.py)\n")

#: Runs each block in a namespace of its own, on one server reset before each; says which block it is in.
RUNNER = """
import json, sys
from zstack_mock import MockServer
blocks = json.load(sys.stdin)
with MockServer() as server:
    for number, code in blocks:
        server.control.reset()
        namespace = {"server": server, "control": server.control, "url": server.url, "__name__": "__main__"}
        exec(compile(code, f"docs/testing.md python block {number}", "exec"), namespace)
        print(f"block {number} ran", flush=True)
"""


def python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", GUIDE.read_text(), flags=re.MULTILINE | re.DOTALL)


def test_the_guide_has_both_kinds_of_example() -> None:
    blocks = python_blocks()
    assert sum(bool(TEST_FILE.match(block)) for block in blocks) == 1
    assert len(blocks) >= 7


def test_every_plain_example_runs(tmp_path: Path) -> None:
    plain = [(number, block) for number, block in enumerate(python_blocks(), 1) if not TEST_FILE.match(block)]
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", RUNNER], input=json.dumps(plain), cwd=tmp_path,
        capture_output=True, text=True, timeout=RUN_TIMEOUT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [f"block {number} ran" for number, _ in plain]


def test_every_pytest_example_passes_with_the_plugin(tmp_path: Path) -> None:
    for block in python_blocks():
        if match := TEST_FILE.match(block):
            (tmp_path / match.group(1)).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / match.group(1)).write_text(block)
    shutil.copy(CONSUMER / "pytest.ini", tmp_path / "pytest.ini")
    shutil.copy(CONSUMER / "one_account.yaml", tmp_path / "tests" / "small.yaml")

    result = run_consumer("--strict-markers", cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout
