"""Compile the SQLModel tables to the SQLite DDL committed as ``schema_sqlite.sql``.

    python -m app.store.ddl > app/store/schema_sqlite.sql     (what ``make schema`` runs)
"""

from __future__ import annotations

from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.schema import CreateIndex, CreateTable

from .tables import INVENTORY_TABLES, StoreMetaTable


def sqlite_ddl() -> str:
    dialect = sqlite_dialect.dialect()
    statements = []
    for model in (StoreMetaTable, *INVENTORY_TABLES):
        table = getattr(model, "__table__")  # noqa: B009 - SQLModel adds it at class creation
        statements.append(str(CreateTable(table, if_not_exists=True).compile(dialect=dialect)).strip())
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            statements.append(str(CreateIndex(index, if_not_exists=True).compile(dialect=dialect)).strip())
    return "".join(f"{statement};\n" for statement in statements)


if __name__ == "__main__":
    print(sqlite_ddl(), end="")
