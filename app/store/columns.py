"""What a record type knows of its table's columns (``app.store.records`` writes it for every table)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    #: The Python type of its values: ``str``, ``int``, ``float``, ``bool`` or ``datetime``.
    type: type
    nullable: bool
    #: The most characters a text column holds (the table's ``max_length``); None: no bound declared.
    max_length: int | None = None


def columns_of(record_type: type[Any]) -> tuple[Column, ...]:
    """A record type's columns, in column order (the order of its fields)."""
    columns: tuple[Column, ...] = record_type.__columns__
    return columns


def field_names(record_type: type[Any]) -> tuple[str, ...]:
    """A record type's field names, in column order."""
    return tuple(column.name for column in columns_of(record_type))


def max_length(record_type: type[Any], name: str) -> int:
    """The most characters column ``name`` of ``record_type`` holds (its table's ``max_length``)."""
    for column in columns_of(record_type):
        if column.name == name:
            if column.max_length is None:
                raise ValueError(f"{record_type.__tablename__}.{name} declares no max_length")
            return column.max_length
    raise ValueError(f"{record_type.__tablename__} has no column {name!r}")
