"""Running the sample consumer suite (consumer/) in its own pytest process, and a ``zstack-mock serve``
process for it to use."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.helpers import served_url

CONSUMER = Path(__file__).parent / "consumer"
ZSTACK_MOCK = Path(sys.executable).parent / "zstack-mock"
#: Seconds a consumer run may take on a busy machine (it takes a few).
RUN_TIMEOUT = 180


def run_consumer(
    *args: str, env: dict[str, str] | None = None, cwd: Path = CONSUMER
) -> subprocess.CompletedProcess[str]:
    """``python -m pytest -p zstack_mock ARGS`` in ``cwd`` (consumer/), with no other plugin auto-loaded and
    none of this process's ZSTACK_MOCK_* variables."""
    environment = {name: value for name, value in os.environ.items()
                   if not name.startswith(("ZSTACK_MOCK_", "PYTEST_"))}
    environment.update({"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "zstack_mock", "-p", "no:cacheprovider", *args],
        cwd=cwd, env=environment, capture_output=True, text=True, timeout=RUN_TIMEOUT,
    )


@contextmanager
def served(database: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """``zstack-mock serve --port 0`` over ``database``; yields its URL, stops it afterwards."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("ZSTACK_MOCK_")}
    process = subprocess.Popen(
        [str(ZSTACK_MOCK), "serve", "--port", "0", "--database-url", f"sqlite:///{database}", *args],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env={**environment, **(env or {})},
    )
    drain: threading.Thread | None = None
    try:
        url = served_url(process)
        # Keep reading what it logs, so that a full pipe never stops it.
        assert process.stderr is not None
        drain = threading.Thread(target=process.stderr.read, daemon=True)
        drain.start()
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        if drain is not None:
            drain.join(timeout=20)
        if process.stderr is not None:
            process.stderr.close()
