"""Write ``app/store/records.py``: one slotted dataclass per SQLModel table, compiled from the tables.

    python -m app.store.recordgen > app/store/records.py     (what ``make schema`` runs, with the DDL)

The records are written out rather than built at import so that serving never imports SQLModel or
SQLAlchemy: that import alone costs a quarter of a second of start-up. A test fails when the
committed file is not what this prints.
"""

from __future__ import annotations

import inspect
import textwrap
from typing import Any

from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

from .tables import INVENTORY_TABLES

HEADER = '''"""The rows the domain reads and writes: one slotted dataclass per SQLModel table in ``app.store.tables``.

Generated from the tables by ``make schema`` (``python -m app.store.recordgen``): do not edit this
file; change the table and regenerate it (a test fails when it is stale). Generated, not built at
import, so that serving never imports SQLAlchemy.

Records, not table models, cross the store interface: building a dataclass from a row costs a
fraction of a microsecond, an ORM object thirty, and the create call reads five of them. Build them
with keyword arguments, so that no caller depends on the column order. Each record type carries its
table's name (``__tablename__``), key columns (``__key__``), the integer key the database generates
if any (``__generated_key__``) and its columns (``__columns__``, ``app.store.columns``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from .columns import Column
'''


def _python_type(column: Any) -> type:
    sql_type = column.type
    if isinstance(sql_type, TypeDecorator):  # SQLModel's AutoString wraps String
        sql_type = sql_type.impl_instance
    value_type: type = sql_type.python_type
    return value_type


def _record(table: type[SQLModel]) -> str:
    sql_table = getattr(table, "__table__")  # noqa: B009 - SQLModel adds it at class creation
    name = table.__name__.removesuffix("Table")
    columns = list(sql_table.columns)
    key = tuple(column.name for column in columns if column.primary_key)
    generated = sql_table.autoincrement_column
    lines = ["", "", "@dataclass(slots=True)", f"class {name}:"]
    if table.__doc__:
        doc = inspect.cleandoc(table.__doc__)
        doc = f'"""{doc}\n"""' if "\n" in doc else f'"""{doc}"""'
        lines.append(textwrap.indent(doc, "    "))
        lines.append("")
    lines.append(f'    __tablename__: ClassVar[str] = "{sql_table.name}"')
    lines.append(f"    __key__: ClassVar[tuple[str, ...]] = ({''.join(f'{_quoted(k)}, ' for k in key).rstrip()})")
    generated_name = None if generated is None else _quoted(generated.name)
    lines.append(f"    __generated_key__: ClassVar[str | None] = {generated_name}")
    lines.append("    __columns__: ClassVar[tuple[Column, ...]] = (")
    for column in columns:
        length = getattr(column.type, "length", None)
        bound = "" if length is None else f", {length}"
        lines.append(f'        Column("{column.name}", {_python_type(column).__name__}, {bool(column.nullable)}{bound}),')
    lines.append("    )")
    lines.append("")
    for column in columns:
        annotation = table.model_fields[column.name].annotation
        text = _annotation(annotation)
        lines.append(f"    {column.name}: {text}")
    for value in vars(table).values():
        if isinstance(value, property) and value.fget is not None:
            lines.append("")
            lines.append(textwrap.indent(textwrap.dedent(inspect.getsource(value.fget)).rstrip(), "    "))
    return "\n".join(lines)


def _quoted(text: str) -> str:
    return f'"{text}"'


def _annotation(annotation: Any) -> str:
    if isinstance(annotation, type):
        return annotation.__name__
    text = str(annotation)
    for module in ("datetime.", "builtins."):
        text = text.replace(module, "")
    return text


def records_module() -> str:
    names = [table.__name__.removesuffix("Table") for table in INVENTORY_TABLES]
    parts = [HEADER.rstrip("\n")]
    parts.extend(_record(table) for table in INVENTORY_TABLES)
    union = "\n".join(f"    | {name}" if index else f"    {name}" for index, name in enumerate(names))
    listed = "\n".join(f"    {name}," for name in names)
    parts.append(f"\n\nRecord = (\n{union}\n)\n\nALL_RECORD_TYPES: tuple[type[Record], ...] = (\n{listed}\n)")
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    print(records_module(), end="")
