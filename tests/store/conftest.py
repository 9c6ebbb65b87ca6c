"""Two stores over one file, as two worker processes have."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.store.sqlite import SqliteStore


@pytest.fixture
def two_connections(tmp_path: Path) -> Iterator[tuple[SqliteStore, SqliteStore]]:
    """Two stores over one file, as two worker processes have."""
    path = str(tmp_path / "shared.db")
    first = SqliteStore(path)
    first.create_schema()
    second = SqliteStore(path)
    try:
        yield first, second
    finally:
        first.close()
        second.close()
