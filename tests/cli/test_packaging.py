"""The wheel installs the source in app/ as the package ``zstack_mock``: every subpackage is listed."""

from __future__ import annotations

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
