"""docs/security.md lists every limit of app/limits.py with its flag and both defaults."""

from __future__ import annotations

from pathlib import Path

from app.limits import LIMITS

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"


def _number(value: float) -> str:
    return f"{int(value):,}" if value == int(value) else str(value)


def expected_rows() -> list[str]:
    return [
        f"| `--{limit.name.replace('_', '-')}` | {_number(limit.local)} | {_number(limit.public)} | {limit.help} |"
        for limit in LIMITS
    ]


def test_the_limits_table_is_the_limits() -> None:
    text = DOC.read_text(encoding="utf-8")
    table = text.split("<!-- limits-table -->", 1)[1].split("<!-- /limits-table -->", 1)[0]
    rows = [line for line in table.strip().splitlines()[2:]]
    assert rows == expected_rows(), "replace the table's rows in docs/security.md with:\n" + "\n".join(expected_rows())
