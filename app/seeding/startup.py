"""Opening the store at start-up: create the schema, load the fixtures into an empty database."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Union

from ..store.base import Store
from ..store.sql import StoreError
from ..store.sqlite import SqliteStore, sqlite_path
from ..store.urls import is_postgres_url
from ..writable import ownership_fix, write_problem
from .fixtures import FIXTURES_META_KEY, FixtureCache, apply_fixtures

if TYPE_CHECKING:
    from ..store.postgres import PostgresStore

#: A store ``open_store`` opens: either one, with its schema checked.
OpenStore = Union[SqliteStore, "PostgresStore"]


def open_store(database_url: str, *, reset: bool = False) -> OpenStore:
    """Open the database the URL names (``sqlite:`` or ``postgresql://``); a schema of another version is an
    error unless it is about to be reset, and so are a file the process cannot write and a server it
    cannot reach (``StoreError`` saying so), before the database fails on it half-way."""
    store: OpenStore
    if is_postgres_url(database_url):
        from ..store.postgres import PostgresStore  # psycopg is imported only for PostgreSQL

        store = PostgresStore(database_url)
    else:
        path = sqlite_path(database_url)
        if path != ":memory:":
            problem = write_problem(Path(path))
            if problem is not None:
                raise StoreError(f"{path} is not writable: {problem} (fix: {ownership_fix(Path(path))} "
                                 "with --database-url or ZSTACK_MOCK_DATABASE_URL)")
        store = SqliteStore(path)
    try:
        store.create_schema(check_version=not reset)
    except BaseException:
        store.close()
        raise
    return store


def ensure_fixtures(store: Store, fixtures: FixtureCache, *, reset: bool = False) -> bool:
    """Load ``fixtures`` if the database has none yet (or ``reset``); returns whether it loaded.

    The file is validated before the database is touched. The check and the load share one
    transaction, so two processes starting together load the fixtures once.
    """
    if not reset and store.get_meta(FIXTURES_META_KEY) is not None:
        return False
    records = fixtures.records()
    with store.transaction():
        if not reset and store.get_meta(FIXTURES_META_KEY) is not None:
            return False
        apply_fixtures(store, records, source=str(fixtures.path))
    return True
