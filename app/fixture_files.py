"""Where the fixture files shipped with zstack-mock live, installed or in a source checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def fixtures_dir() -> Path:
    """The packaged ``fixtures/`` folder: inside the wheel, or at the top of a source checkout."""
    installed = _PACKAGE_DIR / "_fixtures"
    if installed.is_dir():
        return installed
    return _PACKAGE_DIR.parent / "fixtures"


def default_fixtures_path() -> Path:
    return fixtures_dir() / "default.yaml"


def default_scenarios_path() -> Path:
    return fixtures_dir() / "scenarios.yaml"
