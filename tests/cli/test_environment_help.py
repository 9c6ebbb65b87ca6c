"""`serve --help` lists every setting's environment variable, and the README's table is the same list."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from app import environment
from app.admin_token import OPEN_CALLS
from app.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"
TABLE = re.compile(r"<!-- environment:[^\n]*-->\n(.*?)<!-- /environment -->", re.DOTALL)


def _serve_help() -> str:
    result = subprocess.run([sys.executable, "-m", "app", "serve", "--help"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0
    return result.stdout


def _listed_variables(help_text: str) -> dict[str, str]:
    """Variable to flag, from the help's environment section."""
    section = help_text.split("\nenvironment variables", 1)[1]
    return dict(re.findall(r"^  (ZSTACK_MOCK_\w+) +(\S+)", section, flags=re.MULTILINE))


def test_serve_help_lists_every_setting_with_its_flag() -> None:
    help_text = _serve_help()
    listed = _listed_variables(help_text)
    assert set(listed) == {"ZSTACK_MOCK_" + name.upper() for name in Settings.model_fields}
    for variable in ("ZSTACK_MOCK_FAULTS", "ZSTACK_MOCK_SCENARIOS", "ZSTACK_MOCK_FAULT_INJECTION",
                     "ZSTACK_MOCK_CORS_ORIGINS", "ZSTACK_MOCK_MAX_BODY_BYTES"):
        assert listed[variable].startswith("--"), variable
    for flag in listed.values():
        if flag.startswith("--"):
            assert re.search(rf"^  {re.escape(flag)}\b", help_text, flags=re.MULTILINE), f"{flag} is not a flag"


def test_readme_table_is_generated_from_the_same_settings() -> None:
    flags_by_variable = _listed_variables(_serve_help())
    names = {variable: name for variable, name, _ in environment.variables()}
    flags = {names[variable]: flag for variable, flag in flags_by_variable.items() if flag.startswith("--")}
    expected = environment.readme_table(flags)
    found = TABLE.search(README.read_text(encoding="utf-8"))
    assert found, "README.md lost its <!-- environment --> table"
    assert found.group(1) == expected, "README.md's environment table is stale; replace it with:\n" + expected


def test_admin_token_help_and_readme_name_what_stays_open() -> None:
    option = _serve_help().split("\n  --admin-token TOKEN", 1)[1].split("\n  --", 1)[0]
    admin_help = " ".join(option.split())
    readme = " ".join(README.read_text(encoding="utf-8").split())
    for method, path in OPEN_CALLS:
        if method == "GET":
            assert f"GET {path}" in admin_help
            assert f"`GET {path}` stays open" in readme or f"and `GET {path}`" in readme
    assert "X-Mock-Session" in admin_help
