"""The server keeps to its committed OpenAPI document: schemathesis fuzzes every operation over a socket.

Checked: every status answered is documented, with the documented content type and schema. A 500 is
documented only on the legacy RPC endpoint (the real servlet's page for an empty body), so any other
500 fails too. The run is bounded and seeded, so it is the same run every time.

The fault layer is off for the run: the fuzzer calls ``POST /_mock/faults`` too, and a rule it makes
may answer later calls with any status at all, which is what rules are for.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.conftest import LiveServer
from tests.helpers import login_inventory

DOCUMENT = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
CHECKS = "status_code_conformance,content_type_conformance,response_schema_conformance"


def test_every_answer_is_in_the_openapi_document(live_server: Callable[..., LiveServer], tmp_path: Path) -> None:
    import httpx

    server = live_server(fault_injection=False)
    with httpx.Client(base_url=server.url) as client:
        session = login_inventory(client)["uuid"]
    command = [
        str(Path(sys.executable).parent / "st"), "run", str(DOCUMENT), "--url", server.url,
        "-H", f"Authorization: OAuth {session}", "--checks", CHECKS,
        "--max-examples", "25", "--seed", "1", "--phases", "examples,coverage,fuzzing", "--no-color",
    ]
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
