"""Opening the store at start-up: create the schema, load the fixtures into an empty database."""

from __future__ import annotations

from ..store.sqlite import SqliteStore, sqlite_path
from .fixtures import FIXTURES_META_KEY, FixtureCache, apply_fixtures


def open_store(database_url: str, *, reset: bool = False) -> SqliteStore:
    """Open the database; a schema of another version is an error unless it is about to be reset."""
    store = SqliteStore(sqlite_path(database_url))
    try:
        store.create_schema(check_version=not reset)
    except BaseException:
        store.close()
        raise
    return store


def ensure_fixtures(store: SqliteStore, fixtures: FixtureCache, *, reset: bool = False) -> bool:
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
