"""Stores over one database of each kind (``shared_database_url``), as the processes of a server hold them."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from app.seeding.startup import OpenStore, open_store


@pytest.fixture
def open_stores(shared_database_url: str) -> Iterator[Callable[[], OpenStore]]:
    """Open stores over the test's database (the first creates the schema); all are closed after it."""
    opened: list[OpenStore] = []

    def open_one() -> OpenStore:
        store = open_store(shared_database_url)
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        store.close()


@pytest.fixture
def two_connections(open_stores: Callable[[], OpenStore]) -> tuple[OpenStore, OpenStore]:
    """Two stores over one database, as two worker processes (or two replicas) have."""
    return open_stores(), open_stores()


@pytest.fixture
def store(open_stores: Callable[[], OpenStore]) -> OpenStore:
    return open_stores()
