"""Compile the SQLModel tables to the DDL committed as ``schema_sqlite.sql`` and ``schema_postgres.sql``.

    python -m app.store.ddl sqlite > app/store/schema_sqlite.sql       (what ``make schema`` runs)
    python -m app.store.ddl postgres > app/store/schema_postgres.sql

PostgreSQL gets the same tables with the types that keep SQLite's behaviour: text of any length in
byte order (``COLLATE "C"``: SQLite compares and sorts text by its bytes, and its ``LIKE`` folds ASCII
letters alone), 64-bit integers, and timestamps with their zone. Integer keys are plain ``BIGINT``: the
store gives a new row the largest key plus one, as SQLite gives a rowid.
"""

from __future__ import annotations

import sys

from sqlalchemy import BigInteger, Boolean, DateTime, Float, Integer, MetaData, String, Table, Text
from sqlalchemy.dialects import postgresql as postgresql_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Dialect
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlalchemy.types import TypeDecorator

from .tables import INVENTORY_TABLES, StoreMetaTable

#: PostgreSQL has no ``PRAGMA data_version``: every write transaction of ``PostgresStore`` adds one to
#: this row's version, and a store that keeps rows it read checks it (``app.store.postgres``).
POSTGRES_DATA_VERSION = (
    "CREATE TABLE IF NOT EXISTS store_data_version (\n\tid INTEGER NOT NULL, \n\tversion BIGINT NOT NULL, "
    "\n\tPRIMARY KEY (id)\n);\n"
    "INSERT INTO store_data_version (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;\n"
)


def _tables() -> list[Table]:
    return [getattr(model, "__table__") for model in (StoreMetaTable, *INVENTORY_TABLES)]  # noqa: B009


def _ddl(tables: list[Table], dialect: Dialect) -> str:
    statements = []
    for table in tables:
        statements.append(str(CreateTable(table, if_not_exists=True).compile(dialect=dialect)).strip())
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            statements.append(str(CreateIndex(index, if_not_exists=True).compile(dialect=dialect)).strip())
    return "".join(f"{statement};\n" for statement in statements)


def sqlite_ddl() -> str:
    return _ddl(_tables(), sqlite_dialect.dialect())


def postgres_ddl() -> str:
    metadata = MetaData()
    tables = [table.to_metadata(metadata) for table in _tables()]
    for table in tables:
        for column in table.columns:
            sql_type = column.type.impl_instance if isinstance(column.type, TypeDecorator) else column.type
            if isinstance(sql_type, String):
                column.type = Text(collation="C")
            elif isinstance(sql_type, Integer):
                column.type = BigInteger()
                column.autoincrement = False
            elif isinstance(sql_type, DateTime):
                column.type = DateTime(timezone=True)
            elif not isinstance(sql_type, Boolean | Float):
                raise TypeError(f"{table.name}.{column.name}: no PostgreSQL type for {column.type!r}")
    dialect = postgresql_dialect.dialect()  # type: ignore[no-untyped-call]
    return _ddl(tables, dialect) + POSTGRES_DATA_VERSION


if __name__ == "__main__":
    dialects = {"sqlite": sqlite_ddl, "postgres": postgres_ddl}
    which = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    if which not in dialects:
        sys.exit(f"usage: python -m app.store.ddl [{'|'.join(dialects)}]")
    print(dialects[which](), end="")
