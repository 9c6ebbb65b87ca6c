"""The environment variables ``serve`` reads, one per setting, listed from the settings themselves, so that
``serve --help`` and the README's table cannot leave one out."""

from __future__ import annotations

from collections.abc import Mapping

from .limits import BY_NAME
from .settings import Settings

PREFIX = str(Settings.model_config.get("env_prefix", ""))


def variables() -> list[tuple[str, str, str]]:
    """(variable, setting name, what it sets) for every setting, in the settings' order."""
    found = []
    for name, field in Settings.model_fields.items():
        meaning = field.description or (BY_NAME[name].help if name in BY_NAME else name.replace("_", " "))
        found.append((PREFIX + name.upper(), name, meaning))
    return found


def help_section(flags: Mapping[str, str]) -> str:
    """``serve --help``'s list: each variable with its flag (``flags``: setting name to flag), or, for a
    setting without one, what it sets."""
    rows = [(variable, flags.get(name) or f"(no flag) {meaning}") for variable, name, meaning in variables()]
    width = max(len(variable) for variable, _ in rows) + 2
    lines = [f"  {variable.ljust(width)}{what}" for variable, what in rows]
    return "environment variables (flags win over them; true/false for switches):\n" + "\n".join(lines) + "\n"


def readme_table(flags: Mapping[str, str]) -> str:
    """The README's table of the same variables, with what each sets."""
    lines = ["| variable | flag | what it sets |", "|---|---|---|"]
    for variable, name, meaning in variables():
        flag = f"`{flags[name]}`" if name in flags else "none"
        escaped = meaning.replace("|", "\\|")
        lines.append(f"| `{variable}` | {flag} | {escaped} |")
    return "\n".join(lines) + "\n"
