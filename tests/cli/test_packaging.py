"""The wheel installs the source in app/ as the package ``zstack_mock``: every subpackage is listed."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_subpackage_of_app_is_in_the_wheel() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {
        ".".join(("zstack_mock", *init.parent.relative_to(ROOT / "app").parts))
        for init in (ROOT / "app").rglob("__init__.py")
    }
    assert set(setuptools["packages"]) == on_disk | {"zstack_mock._fixtures"}
    assert setuptools["package-dir"] == {"zstack_mock": "app", "zstack_mock._fixtures": "fixtures"}


def test_no_module_in_app_imports_app_by_name() -> None:
    """Installed, the package is ``zstack_mock``: an absolute ``app.`` import would not resolve there."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "app").rglob("*.py")
        if any(line.lstrip().startswith(("from app.", "from app import", "import app")) for line in path.read_text().splitlines())
    ]
    assert offenders == []


def test_the_in_process_transport_needs_nothing_beyond_the_runtime_dependencies() -> None:
    """Starlette's TestClient warns (an error under a consumer's ``filterwarnings = error``) unless httpx2 is
    installed, so a plain ``pip install zstack-mock`` must bring it."""
    runtime = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert any(requirement.startswith("httpx2") for requirement in runtime)
    script = (
        "from starlette.testclient import TestClient\n"
        "from app.main import create_app\n"
        "from app.settings import Settings\n"
        "with TestClient(create_app(Settings(database_url='sqlite://'))) as client:\n"
        "    assert client.get('/_mock/health').status_code == 200\n"
    )
    result = subprocess.run([sys.executable, "-W", "error", "-c", script], capture_output=True, text=True,
                            timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
