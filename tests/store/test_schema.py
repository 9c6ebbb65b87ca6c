"""The records the domain uses are compiled from the SQLModel tables that define the schema."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.store import records
from app.store.columns import columns_of
from app.store.records import ALL_RECORD_TYPES, Account
from app.store.sqlite import SqliteStore
from app.store.tables import INVENTORY_TABLES


def test_committed_records_are_compiled_from_the_tables() -> None:
    from app.store.recordgen import records_module

    assert Path(records.__file__).read_text(encoding="utf-8") == records_module(), (
        "app/store/records.py is stale: run `make schema` and commit it"
    )


@pytest.mark.parametrize(("record", "table"), list(zip(ALL_RECORD_TYPES, INVENTORY_TABLES, strict=True)))
def test_record_fields_are_the_table_columns_in_order(record: type, table: type) -> None:
    assert record.__name__ == table.__name__.removesuffix("Table")
    assert record.__tablename__ == table.__tablename__  # type: ignore[attr-defined]
    columns = [c.name for c in table.__table__.columns]  # type: ignore[attr-defined]
    assert [f.name for f in fields(record)] == columns
    assert [c.name for c in columns_of(record)] == columns
    assert record.__slots__ == tuple(columns)  # type: ignore[attr-defined]
    for name, value in vars(table).items():
        if isinstance(value, property):
            assert isinstance(getattr(record, name), property), f"{record.__name__} lacks the table's property {name}"


def test_serving_never_imports_sqlalchemy() -> None:
    """Start-up pays for what it uses: the tables are compiled ahead (records, DDL), not at import."""
    code = "import sys, app.main; sys.exit('sqlalchemy' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_records_keep_the_tables_properties() -> None:
    now = datetime.now(UTC)
    admin = Account(
        uuid="a" * 32, name="admin", description=None, type="SystemAdmin", password_sha512="0" * 128,
        create_date=now, last_op_date=now,
    )
    assert admin.is_admin


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


def test_committed_postgres_schema_is_compiled_from_the_tables() -> None:
    from app.store.ddl import postgres_ddl
    from app.store.postgres import SCHEMA_FILE

    assert SCHEMA_FILE.read_text(encoding="utf-8") == postgres_ddl(), (
        "app/store/schema_postgres.sql is stale: run `make schema` and commit it"
    )
