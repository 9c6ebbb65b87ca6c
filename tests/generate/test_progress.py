"""generate shows its progress on standard error: plain lines in a log, a bar on a terminal."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from pathlib import Path

from app.progress import Progress

LABEL = "zstack-mock generate"


def _generate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", "generate", "--images", "30", "--backups", "20", *args],
                          capture_output=True, text=True, timeout=120)


def test_a_file_generation_logs_each_stage_as_a_plain_line(tmp_path: Path) -> None:
    done = _generate("--output", str(tmp_path / "g.yaml"))
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        f"{LABEL}: [1/2] generating 30 images and 20 volume backups",
        f"{LABEL}: [2/2] writing 30 images and 20 volume backups",
    ]
    assert "\r" not in done.stderr
    assert done.stdout.startswith("wrote ")


def test_a_database_generation_logs_each_stage_as_a_plain_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    done = _generate("--database-url", url)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        f"{LABEL}: [1/2] generating and checking 30 images and 20 volume backups",
        f"{LABEL}: [2/2] loading them into {url}",
    ]


def test_a_long_stage_repeats_its_line_with_the_time_so_far() -> None:
    log = io.StringIO()
    with Progress(LABEL, 2, stream=log, every=0.05, terminal=False) as progress:
        progress.stage("generating")
        deadline = time.monotonic() + 30
        while log.getvalue().count("\n") < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
    lines = log.getvalue().splitlines()
    assert lines[0] == f"{LABEL}: [1/2] generating"
    assert len(lines) >= 3
    assert all(line.startswith(f"{LABEL}: [1/2] generating (") and line.endswith(" s)") for line in lines[1:])


def test_on_a_terminal_the_stages_draw_one_bar_that_is_cleared_at_the_end() -> None:
    screen = io.StringIO()
    with Progress(LABEL, 2, stream=screen, terminal=True) as progress:
        progress.stage("generating")
        progress.stage("writing")
    drawn = screen.getvalue()
    assert "\n" not in drawn  # redrawn in place
    assert f"{LABEL}:" in drawn and "1/2" in drawn and "writing" in drawn
    assert drawn.endswith("\r")
