"""A database the process cannot write stops `serve` with one line naming the path and the fix.

The tests run as root, who ignores permission bits, so they use paths that refuse root too; the
server finds out by trying, which is what a root-owned /data bind mount refuses the image's user."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

COMMAND = [sys.executable, "-m", "app", "serve", "--port", "0"]


def _serve(database: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COMMAND, "--database-url", f"sqlite:///{database}"], capture_output=True, text=True,
                          timeout=60)


def _assert_one_line_refusal(result: subprocess.CompletedProcess[str], database: Path) -> None:
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "OperationalError" not in result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith(f"zstack-mock: cannot start: {database} is not writable: ")
    assert "(fix: make " in line and "--database-url" in line


def test_a_database_under_a_regular_file_is_refused_in_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("", encoding="utf-8")
    database = blocker / "zstack-mock.db"
    _assert_one_line_refusal(_serve(database), database)


def test_a_database_path_that_cannot_be_opened_for_writing_is_refused_in_one_line(tmp_path: Path) -> None:
    database = tmp_path / "zstack-mock.db"
    database.mkdir()  # even root cannot open a directory for writing
    result = _serve(database)
    _assert_one_line_refusal(result, database)
    assert "cannot open it for writing" in result.stderr
