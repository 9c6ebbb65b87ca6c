"""The records the domain uses and the SQLModel tables that define the schema stay in step."""

from __future__ import annotations

from dataclasses import fields

import pytest

from app.store.records import ALL_RECORD_TYPES, Account
from app.store.sqlite import SqliteStore
from app.store.tables import INVENTORY_TABLES


@pytest.mark.parametrize(("record", "table"), list(zip(ALL_RECORD_TYPES, INVENTORY_TABLES, strict=True)))
def test_record_fields_are_the_table_columns_in_order(record: type, table: type) -> None:
    assert record.__tablename__ == table.__tablename__  # type: ignore[attr-defined]
    assert [f.name for f in fields(record)] == [c.name for c in table.__table__.columns]  # type: ignore[attr-defined]


def test_conditions_reject_unknown_fields_instead_of_building_sql() -> None:
    store = SqliteStore(":memory:")
    store.create_schema()
    with pytest.raises(ValueError, match="no field"):
        store.find(Account, {"name; DROP TABLE account --": "x"})
    with pytest.raises(ValueError, match="unknown operator"):
        store.find(Account, {"name__regexp": "x"})
    assert store.find(Account, {"name": "x' OR '1'='1"}) == []
    store.close()


def test_committed_sqlite_schema_is_compiled_from_the_tables() -> None:
    from app.store.ddl import sqlite_ddl
    from app.store.sqlite import SCHEMA_FILE

    assert SCHEMA_FILE.read_text(encoding="utf-8") == sqlite_ddl(), (
        "app/store/schema_sqlite.sql is stale: run `make schema` and commit it"
    )
