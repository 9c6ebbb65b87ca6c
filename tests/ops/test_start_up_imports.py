"""Start-up pays for what it uses: what only some runs need is imported when they first need it."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["httpx"])
def test_building_the_server_does_not_import(module: str) -> None:
    code = (
        "import sys, app.cli\n"
        "from app.main import create_app\n"
        "from app.settings import Settings\n"
        "create_app(Settings(database_url='sqlite://'))\n"
        f"sys.exit({module!r} in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0, f"{module} was imported"
